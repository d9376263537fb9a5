"""The input rules of accounts, once: the API and the admin both ask these.

Each rule takes a raw value, returns it normalised (trimmed, lowercased...) or
raises :class:`~cronhub.errors.InvalidInput` / :class:`~cronhub.errors.Conflict`
naming the input field. ``field=`` lets a form that calls the input differently
(the admin's ``new_password``) have the error on its own field. Lengths come
from the model, so a rule cannot allow what the column cannot store.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from accounts.models import DEFAULT_JOBS_TABLE_COLUMNS, Role, UiLanguage, User
from cronhub.errors import N_, Conflict, InvalidInput
from cronhub.values import storable_text, truthy, zone

USERNAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]+$")
USERNAME_MIN_LENGTH = 3
PASSWORD_MIN_LENGTH = 6

NOTIFICATION_PREFERENCE_FIELDS = (
    "email_on_job_success",
    "email_on_job_failure",
    "email_on_job_disabled",
    "browser_notifications",
    "daily_digest",
    "weekly_report",
)


def max_length(name: str) -> int:
    """The length of the ``users`` column ``name``."""
    return User._meta.get_field(name).max_length


def _text(value: Any, *, error: str, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(error, N_("%(field)s must be a string."), params={"field": field}, field=field)
    return storable_text(value, field=field)


def username(value: Any, *, field: str = "username") -> str:
    """3 to 80 letters, digits, ``_`` or ``-``; stored lowercased."""
    text = _text(value, error="Invalid username", field=field)
    longest = max_length("username")
    if not USERNAME_MIN_LENGTH <= len(text) <= longest:
        raise InvalidInput("Invalid username",
                           N_("username must be %(shortest)s to %(longest)s characters long."),
                           params={"shortest": USERNAME_MIN_LENGTH, "longest": longest}, field=field)
    if not USERNAME_PATTERN.match(text):
        raise InvalidInput("Invalid username", N_("username may only contain letters, digits, _ and -."),
                           field=field)
    return text.lower()


def email(value: Any, *, field: str = "email") -> str:
    """A valid e-mail address, trimmed and lowercased (addresses are compared that way)."""
    text = _text(value, error="Invalid email", field=field).strip().lower()
    try:
        validate_email(text)
    except DjangoValidationError:
        raise InvalidInput("Invalid email", N_("email must be a valid e-mail address."),
                           field=field) from None
    longest = max_length("email")
    if len(text) > longest:
        raise InvalidInput("Invalid email", N_("email must be at most %(longest)s characters."),
                           params={"longest": longest}, field=field)
    return text


def password(value: Any, *, field: str = "password") -> str:
    """At least six characters, kept exactly as typed (spaces count)."""
    text = _text(value, error="Invalid password", field=field)
    if len(text) < PASSWORD_MIN_LENGTH:
        raise InvalidInput(N_("Password must be at least %(shortest)s characters long"),
                           params={"shortest": PASSWORD_MIN_LENGTH}, field=field)
    return text


def role(value: Any, *, field: str = "role") -> str:
    if value not in Role.values:
        raise InvalidInput("Invalid role", N_("Role must be one of: %(roles)s"),
                           params={"roles": ", ".join(Role.values)}, field=field)
    return value


def active_flag(value: Any) -> bool:
    return truthy(value)


def username_free(name: str, *, detail_only: bool = False) -> None:
    """409 when ``name`` (already lowercased) belongs to an account."""
    if User.objects.filter(username=name).exists():
        raise Conflict(N_("Username already exists"), field="username", detail_only=detail_only)


def email_free(address: str, *, exclude_pk: str | None = None, detail_only: bool = False) -> None:
    """409 when ``address`` (already lowercased) belongs to another account."""
    others = User.objects.filter(email=address)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise Conflict(N_("Email already exists"), field="email", detail_only=detail_only)


def notification_switches(changes: dict) -> dict[str, bool]:
    """The switches present in ``changes``, each read as a flag; other keys are ignored."""
    return {name: truthy(changes[name]) for name in NOTIFICATION_PREFERENCE_FIELDS if name in changes}


def jobs_table_columns(columns: Any) -> dict[str, bool]:
    """All five column switches: sent keys as flags, keys not sent back to their defaults."""
    if columns is None:
        raise InvalidInput("Missing required fields", '"jobs_table_columns" is required.',
                           field="jobs_table_columns")
    if not isinstance(columns, dict):
        raise InvalidInput("Invalid payload", '"jobs_table_columns" must be an object.',
                           field="jobs_table_columns")
    return {key: truthy(columns[key]) if key in columns else default
            for key, default in DEFAULT_JOBS_TABLE_COLUMNS.items()}


def ui_language(value: Any) -> str:
    """``en``, ``ja``, or empty (``null`` too): follow the browser's Accept-Language."""
    if value is None or value == "":
        return ""
    if value not in UiLanguage.values:
        raise InvalidInput("Invalid payload", f'"language" must be one of: {", ".join(UiLanguage.values)} '
                           "(or null to follow the browser).", field="language")
    return value


def ui_timezone(value: Any) -> str:
    """An IANA zone name, or empty (``null`` too): the scheduler's zone."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or zone(value) is None:
        raise InvalidInput("Invalid payload", '"timezone" must be an IANA time zone such as Asia/Tokyo '
                           "(or null for the scheduler's zone).", field="timezone")
    return value
