"""The input rules of accounts, once: the API and the admin both ask these.

Each rule takes a raw value, returns it normalised (trimmed, lowercased...) or
raises :class:`~cronhub.errors.InvalidInput` / :class:`~cronhub.errors.Conflict`
naming the input field. ``field=`` lets a form that calls the input differently
(the admin's ``new_password``) have the error on its own field. Lengths come
from the model, so a rule cannot allow what the column cannot store.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from accounts.models import (
    DEFAULT_JOBS_TABLE_COLUMNS,
    ApiToken,
    ApiTokenScope,
    Role,
    RunNotifications,
    UiLanguage,
    User,
)
from cronhub.errors import N_, Conflict, Forbidden, InvalidInput
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
# --- API tokens and run-notification routing ------------------------------------------------
API_TOKEN_MAX_DAYS = 3650


def api_token_name(value: Any, *, field: str = "name") -> str:
    text = _text(value, error="Invalid token name", field=field).strip()
    longest = ApiToken._meta.get_field("name").max_length
    if not 1 <= len(text) <= longest:
        raise InvalidInput("Invalid token name", f"name must be 1 to {longest} characters long.", field=field)
    return text


def api_token_scope(value: Any, *, user: User, field: str = "scope") -> str:
    """``read`` or ``write``, and never more than the user's role allows (a viewer reads only)."""
    if value not in ApiTokenScope.values:
        raise InvalidInput("Invalid scope", f"scope must be one of: {', '.join(ApiTokenScope.values)}",
                           field=field)
    if value == ApiTokenScope.WRITE and not user.can_write:
        raise Forbidden("Forbidden", "A viewer can only create read-only tokens.", field=field)
    return value


def api_token_expiry(value: Any, *, now: dt.datetime, field: str = "expires_at") -> dt.datetime | None:
    """None (never expires) or an instant in the future, at most API_TOKEN_MAX_DAYS away.
    Text must be RFC 3339 with an offset (``2026-12-31T00:00:00Z``)."""
    if value is None:
        return None
    moment = value
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            moment = None
    if not isinstance(moment, dt.datetime) or moment.tzinfo is None:
        raise InvalidInput("Invalid expiry", f"{field} must be a timestamp with a time zone offset, "
                           "e.g. 2026-12-31T00:00:00Z, or null.", field=field)
    if moment <= now:
        raise InvalidInput("Invalid expiry", f"{field} must be in the future.", field=field)
    if moment > now + dt.timedelta(days=API_TOKEN_MAX_DAYS):
        raise InvalidInput("Invalid expiry", f"{field} must be at most {API_TOKEN_MAX_DAYS} days away.",
                           field=field)
    return moment


def run_notifications(value: Any, *, field: str = "run_notifications") -> str:
    if value not in RunNotifications.values:
        choices = ", ".join(RunNotifications.values)
        raise InvalidInput("Invalid run_notifications", f"run_notifications must be one of: {choices}",
                           field=field)
    return value


def pic_teams(value: Any, *, field: str = "pic_teams") -> list:
    """A list of existing PIC team slugs (or display names) → the teams; [] for none.
    (The model is reached through the relation: accounts does not import taxonomy.)"""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidInput("Invalid pic_teams", "pic_teams must be a list of PIC team slugs.", field=field)
    team_model = User._meta.get_field("pic_teams").related_model
    found, unknown = [], []
    for text in dict.fromkeys(item.strip() for item in value if item.strip()):
        team = team_model.objects.filter(slug=text).first() or team_model.objects.filter(name=text).first()
        (found if team is not None else unknown).append(team or text)
    if unknown:
        raise InvalidInput("Invalid pic_teams", f"Unknown PIC team(s): {', '.join(unknown)}", field=field)
    return found
