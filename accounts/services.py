"""Side-effecting operations on users."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from rest_framework import status

from accounts.authentication import unauthorized
from accounts.models import (
    DEFAULT_JOBS_TABLE_COLUMNS,
    NotificationPreferences,
    Role,
    UiPreferences,
    User,
)
from accounts.throttling import login_failure_record, login_success_record, login_throttle_check
from accounts.tokens import (
    REFRESH,
    TokenRejected,
    session_blacklist,
    session_of_access_token,
    token_decode,
    token_identifier,
)
from cronhub.api.bodies import truthy
from cronhub.api.errors import ApiError, DetailError, bad_request, not_found

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AdminBootstrapResult:
    created: bool
    user: User | None
    reason: str


@transaction.atomic
def admin_ensure(*, username: str, email: str, password: str) -> AdminBootstrapResult:
    """Create an active admin unless the username exists (idempotent).

    An e-mail already used by another account is skipped with a warning rather
    than failing start-up (DATA_MODEL.md §5, recommendation).
    """
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return AdminBootstrapResult(False, existing, f"user {username!r} already exists")
    if User.objects.filter(email__iexact=email).exists():
        log.warning("Not creating admin %r: e-mail %r belongs to another user", username, email)
        return AdminBootstrapResult(False, None, f"e-mail {email!r} belongs to another user")
    user = User.objects.create_user(username=username, email=email, password=password, role=Role.ADMIN,
                                    is_active=True)
    return AdminBootstrapResult(True, user, f"admin {username!r} created")


# --- authentication ------------------------------------------------------------------

INVALID_CREDENTIALS = "Invalid email/username or password"
ACCOUNT_INACTIVE = "Account is inactive. Contact administrator."


def login_authenticate(*, identifier: str, password: str, address: str) -> User:
    """The user whose username or e-mail is exactly ``identifier`` (trimmed) and whose password matches.

    Shape-B 401s with the contract's texts (API.md §4.2); the inactive check comes
    first, as clients expect (Q-A5). Failed attempts feed the login throttle.
    """
    identifier = identifier.strip()
    login_throttle_check(username=identifier, address=address)
    user = User.objects.filter(Q(username=identifier) | Q(email=identifier)).order_by("created_at").first()
    if user is None:
        login_failure_record(username=identifier, address=address)
        raise unauthorized(INVALID_CREDENTIALS)
    if not user.is_active:
        login_failure_record(username=identifier, address=address)
        raise unauthorized(ACCOUNT_INACTIVE)
    if not user.check_password(password):
        login_failure_record(username=identifier, address=address)
        raise unauthorized(INVALID_CREDENTIALS)
    login_success_record(username=identifier)
    return user


def session_logout(*, user: User, access_payload: dict, refresh_token: str | None = None) -> int:
    """Blacklist the refresh token of the caller's session (and an explicitly sent one of theirs).

    Returns how many refresh tokens were blacklisted. The access token itself keeps
    working until it expires (API.md §4.2): clients discard it.
    """
    count = 0
    session = session_of_access_token(access_payload)
    if session:
        session_blacklist(identifier=session, user=user)
        count += 1
    if refresh_token:
        try:
            payload = token_decode(refresh_token, expected_type=REFRESH)
        except TokenRejected:
            payload = None
        if payload is not None and str(payload["sub"]) == user.pk:
            identifier = token_identifier(payload, refresh_token)
            if identifier != session:
                session_blacklist(identifier=identifier, user=user, expires_at_epoch=payload.get("exp"),
                                  raw=refresh_token)
                count += 1
    return count


# --- users -----------------------------------------------------------------------------

MIN_PASSWORD_LENGTH = 6


@transaction.atomic
def user_register(*, username: str, email: str, password: str, role: str = Role.VIEWER,
                  is_active: bool = True) -> User:
    """Create a user (username and e-mail stored lowercased); shape-B 409 on duplicates."""
    username = username.lower()
    email = email.lower()
    if User.objects.filter(username=username).exists():
        raise DetailError(status.HTTP_409_CONFLICT, "Username already exists")
    if User.objects.filter(email=email).exists():
        raise DetailError(status.HTTP_409_CONFLICT, "Email already exists")
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username, email=email, password=password, role=role,
                                            is_active=is_active)
    except IntegrityError:  # a concurrent registration won the race
        raise DetailError(status.HTTP_409_CONFLICT, "Username already exists") from None


def _require_string(value, error: str, message: str) -> str:
    if not isinstance(value, str):
        raise bad_request(error, message)
    return value


@transaction.atomic
def user_update(*, actor: User, user: User, changes: dict) -> tuple[User, list[str]]:
    """Apply ``changes`` (email, password, role, is_active) or nothing at all (Q-A9).

    Checks run in the contract's order (API.md §4.3) and the first failure wins;
    only then is anything saved. Unknown keys (``username``...) are ignored.
    """
    updated: list[str] = []
    new_values: dict = {}
    email = changes.get("email")
    if email:
        email = _require_string(email, "Invalid email", "email must be a string.").strip().lower()
        try:
            validate_email(email)
        except DjangoValidationError:
            raise bad_request("Invalid email", "email must be a valid e-mail address.") from None
        if len(email) > User._meta.get_field("email").max_length:
            raise bad_request("Invalid email", "email must be at most 120 characters.")
        if User.objects.filter(email=email).exclude(pk=user.pk).exists():
            raise ApiError(status.HTTP_409_CONFLICT, "Email already exists")
        new_values["email"] = email
        updated.append("email")
    password = changes.get("password")
    if password:
        password = _require_string(password, "Invalid password", "password must be a string.")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise bad_request("Password must be at least 6 characters long")
        updated.append("password")
    if "role" in changes:
        if not actor.is_admin:
            raise ApiError(status.HTTP_403_FORBIDDEN, "Only admins can change user roles")
        if changes["role"] not in Role.values:
            raise bad_request("Invalid role", "Role must be one of: admin, user, viewer")
        new_values["role"] = changes["role"]
        updated.append("role")
    if "is_active" in changes:
        if not actor.is_admin:
            raise ApiError(status.HTTP_403_FORBIDDEN, "Only admins can change user active status")
        new_values["is_active"] = truthy(changes["is_active"])
        updated.append("is_active")
    if not updated:
        raise bad_request("No valid fields to update")

    user = User.objects.select_for_update().get(pk=user.pk)
    for field, value in new_values.items():
        setattr(user, field, value)
    if "password" in updated:
        user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # the e-mail was taken concurrently
        raise ApiError(status.HTTP_409_CONFLICT, "Email already exists") from None
    return user, updated


@transaction.atomic
def user_delete(*, actor: User, user_id: str) -> User:
    """Delete a user with their notifications and preferences; their jobs lose ``created_by``."""
    if user_id == actor.pk:
        raise bad_request("Cannot delete your own account")
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise not_found("User not found")
    user.delete()
    user.id = user_id  # delete() clears the pk; callers report what was deleted
    return user


# --- preferences -----------------------------------------------------------------------

NOTIFICATION_PREFERENCE_FIELDS = (
    "email_on_job_success",
    "email_on_job_failure",
    "email_on_job_disabled",
    "browser_notifications",
    "daily_digest",
    "weekly_report",
)


def notification_preferences_get(*, user: User) -> NotificationPreferences:
    """The user's row, created with the GET defaults when missing (the model's defaults, Q-A11)."""
    prefs, _ = NotificationPreferences.objects.get_or_create(user=user)
    return prefs


@transaction.atomic
def notification_preferences_update(*, user: User, changes: dict) -> NotificationPreferences:
    """Partial update: each of the six switches present in ``changes`` is set by truthiness."""
    prefs, _ = NotificationPreferences.objects.select_for_update().get_or_create(user=user)
    for field in NOTIFICATION_PREFERENCE_FIELDS:
        if field in changes:
            setattr(prefs, field, truthy(changes[field]))
    prefs.save()
    return prefs


def ui_preferences_get(*, user: User) -> UiPreferences:
    prefs, _ = UiPreferences.objects.get_or_create(
        user=user, defaults={"jobs_table_columns": dict(DEFAULT_JOBS_TABLE_COLUMNS)}
    )
    return prefs


@transaction.atomic
def ui_preferences_update(*, user: User, columns) -> UiPreferences:
    """Store the five column switches: known keys by truthiness, unsent keys back to defaults (Q-A12)."""
    if columns is None:
        raise bad_request("Missing required fields", '"jobs_table_columns" is required.')
    if not isinstance(columns, dict):
        raise bad_request("Invalid payload", '"jobs_table_columns" must be an object.')
    normalised = {key: truthy(columns[key]) if key in columns else default
                  for key, default in DEFAULT_JOBS_TABLE_COLUMNS.items()}
    prefs, _ = UiPreferences.objects.select_for_update().get_or_create(user=user)
    prefs.jobs_table_columns = normalised
    prefs.save()
    return prefs
