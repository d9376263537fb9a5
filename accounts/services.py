"""Side-effecting operations on users."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower

from accounts import rules
from accounts.models import (
    DEFAULT_JOBS_TABLE_COLUMNS,
    NotificationPreferences,
    Role,
    UiPreferences,
    User,
)
from accounts.throttling import login_attempt_begin, login_attempt_succeeded
from accounts.tokens import (
    REFRESH,
    TokenRejected,
    session_blacklist,
    session_of_access_token,
    token_decode,
    token_identifier,
)
from cronhub import permissions
from cronhub.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated

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
    than failing start-up: a deployment must come up even when the configured
    admin e-mail is taken.
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

    Used by the API's logins and the admin's login page alike. The attempt is counted
    by the login throttle (``accounts.throttling``) before the password is evaluated:
    over the limit is :class:`Throttled`. Refusals are 401s whose text clients show as
    is; an inactive account is told so, as clients expect. An unknown or inactive
    account still costs one run of the password hasher, so the response time does not
    tell which accounts exist.
    """
    identifier = identifier.strip()
    user = User.objects.filter(Q(username=identifier) | Q(email=identifier)).order_by("created_at").first()
    account = _throttle_account(user, identifier)
    login_attempt_begin(account=account, address=address)
    if user is None or not user.is_active:
        make_password(password)  # the hasher's work a real check would do (as Django's ModelBackend)
        raise Unauthenticated(INVALID_CREDENTIALS if user is None else ACCOUNT_INACTIVE)
    if not user.check_password(password):
        raise Unauthenticated(INVALID_CREDENTIALS)
    login_attempt_succeeded(account=account, address=address)
    return user


def _throttle_account(user: User | None, identifier: str) -> str:
    """What the throttle counts an attempt against: the account, however it was named."""
    if user is None:  # another letter case of a username or e-mail still names that account
        lowered = identifier.lower()  # Lower() on both sides: MySQL's LIKE may be case-sensitive
        user = (User.objects.alias(lower_username=Lower("username"), lower_email=Lower("email"))
                .filter(Q(lower_username=lowered) | Q(lower_email=lowered)).order_by("created_at").first())
    return f"user:{user.pk}" if user is not None else f"name:{identifier.lower()}"


def session_logout(*, user: User, access_payload: dict, refresh_token: str | None = None) -> int:
    """Blacklist the refresh token of the caller's session (and an explicitly sent one of theirs).

    Returns how many refresh tokens were blacklisted. The access token itself keeps
    working until it expires (it is not stored anywhere to revoke): clients discard it.
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
                session_blacklist(identifier=identifier, user=user, expires_at_epoch=payload.get("exp"))
                count += 1
    return count


# --- users -----------------------------------------------------------------------------


@transaction.atomic
def user_register(*, username: str, email: str, password: str, role: str = Role.VIEWER,
                  is_active: bool = True) -> User:
    """Create a user (username and e-mail stored lowercased); 409 on duplicates, username first."""
    username = rules.username(username)
    email = rules.email(email)
    password = rules.password(password)
    role = rules.role(role)
    rules.username_free(username, detail_only=True)
    rules.email_free(email, detail_only=True)
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username, email=email, password=password, role=role,
                                            is_active=rules.active_flag(is_active))
    except IntegrityError:  # a concurrent registration won the race
        raise Conflict("Username already exists", field="username", detail_only=True) from None


@transaction.atomic
def user_update(*, actor: User, user: User, changes: dict) -> tuple[User, list[str]]:
    """Apply ``changes`` (email, password, role, is_active) or nothing at all.

    Checks run in a fixed order (email, password, role, active flag) and the first
    failure wins; only then is anything saved, so a refused request changes
    nothing. Unknown keys (``username``...) are ignored; an empty or null e-mail
    or password means "unchanged".
    """
    updated: list[str] = []
    new_values: dict = {}
    if changes.get("email"):
        email = rules.email(changes["email"])
        rules.email_free(email, exclude_pk=user.pk)
        new_values["email"] = email
        updated.append("email")
    password = changes.get("password")
    if password:
        password = rules.password(password)
        updated.append("password")
    if "role" in changes:
        if not permissions.can_manage_users(actor):
            raise Forbidden("Only admins can change user roles", field="role")
        new_values["role"] = rules.role(changes["role"])
        updated.append("role")
    if "is_active" in changes:
        if not permissions.can_manage_users(actor):
            raise Forbidden("Only admins can change user active status", field="is_active")
        new_values["is_active"] = rules.active_flag(changes["is_active"])
        updated.append("is_active")
    teams = None
    if "pic_teams" in changes:
        if not actor.is_admin:
            raise Forbidden("Only admins can change user PIC teams", field="pic_teams")
        teams = rules.pic_teams(changes["pic_teams"])
        updated.append("pic_teams")
    if not updated:
        raise InvalidInput("No valid fields to update")

    user = User.objects.select_for_update().get(pk=user.pk)
    for field, value in new_values.items():
        setattr(user, field, value)
    if "password" in updated:
        user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # the e-mail was taken concurrently
        raise Conflict("Email already exists", field="email") from None
    if teams is not None:
        user.pic_teams.set(teams)
    return user, updated


@transaction.atomic
def user_delete(*, actor: User, user_id: str) -> User:
    """Delete a user with their notifications and preferences; their jobs lose ``created_by``."""
    if user_id == actor.pk:
        raise InvalidInput("Cannot delete your own account")
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound("User not found")
    user.delete()
    user.id = user_id  # delete() clears the pk; callers report what was deleted
    return user


# --- preferences -----------------------------------------------------------------------


def notification_preferences_get(*, user: User) -> NotificationPreferences:
    """The user's row, created with the model's defaults when missing (a first read shows them)."""
    prefs, _ = NotificationPreferences.objects.get_or_create(user=user)
    return prefs


@transaction.atomic
def notification_preferences_update(*, user: User, changes: dict) -> NotificationPreferences:
    """Partial update: each of the six switches present in ``changes`` is set as a flag, and
    ``run_notifications`` (when present) to one of its choices."""
    switches = rules.notification_switches(changes)
    if "run_notifications" in changes:
        switches["run_notifications"] = rules.run_notifications(changes["run_notifications"])
    prefs, _ = NotificationPreferences.objects.select_for_update().get_or_create(user=user)
    for field, value in switches.items():
        setattr(prefs, field, value)
    prefs.save()
    return prefs


def ui_preferences_get(*, user: User) -> UiPreferences:
    prefs, _ = UiPreferences.objects.get_or_create(
        user=user, defaults={"jobs_table_columns": dict(DEFAULT_JOBS_TABLE_COLUMNS)}
    )
    return prefs


UI_SETTING_RULES = {"language": rules.ui_language, "timezone": rules.ui_timezone}


@transaction.atomic
def ui_preferences_update(*, user: User, changes: dict) -> UiPreferences:
    """Store the five column switches (known keys as flags, keys not sent back to their defaults)
    and the language and zone the pages use, when sent.

    ``jobs_table_columns`` is required unless ``language`` or ``timezone`` is sent; every
    value is checked before anything is stored.
    """
    settings_sent = {name: rule(changes[name]) for name, rule in UI_SETTING_RULES.items() if name in changes}
    columns = None
    if "jobs_table_columns" in changes or not settings_sent:
        columns = rules.jobs_table_columns(changes.get("jobs_table_columns"))
    prefs, _ = UiPreferences.objects.select_for_update().get_or_create(
        user=user, defaults={"jobs_table_columns": dict(DEFAULT_JOBS_TABLE_COLUMNS)})
    if columns is not None:
        prefs.jobs_table_columns = columns
    for name, value in settings_sent.items():
        setattr(prefs, name, value)
    prefs.save()
    return prefs
