"""Personal API tokens for scripts: created by a user, shown once, stored as a SHA-256 digest.

A token is ``chub_`` followed by 43 URL-safe characters (256 random bits), so a leaked one
is recognisable (secret scanners, logs) and told apart from a JWT at a glance; the API
accepts it as ``Authorization: Bearer chub_...`` on every ``/api/v2`` endpoint
(``accounts/api/authentication.py``). Only the digest is stored: the secret cannot be
shown again, and a database dump does not yield working tokens. A plain SHA-256 is
enough for a 256-bit random secret (no dictionary to guess from; the lookup by
digest is one indexed query).

Scope: ``read`` tokens may only read (safe methods); ``write`` tokens act with the user's
full rights. A viewer cannot create a ``write`` token, and a token never grants more than
its user's current role: the role is read from the user row on every request.
Inactive users' tokens stop working with their account; revoked and expired ones at once.
``last_used_at`` is written at most once per ``LAST_USED_RESOLUTION`` per token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts import rules
from accounts.models import ApiToken, User
from cronhub import permissions
from cronhub.errors import Forbidden, NotFound, Unauthenticated

PREFIX = "chub_"
SHOWN_PREFIX_LENGTH = len(PREFIX) + 6
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def looks_like_api_token(raw: str) -> bool:
    return raw.startswith(PREFIX)


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, user: User, name, scope="read", expires_at=None) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it and its secret (shown to the user once, never stored)."""
    now = timezone.now()
    name = rules.api_token_name(name)
    scope = rules.api_token_scope(scope, user=user)
    expires_at = rules.api_token_expiry(expires_at, now=now)
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, scope=scope, expires_at=expires_at, created_at=now,
                                    prefix=secret[:SHOWN_PREFIX_LENGTH], digest=digest_of(secret))
    return token, secret


def api_tokens_of(user: User):
    """The user's tokens, newest first, revoked ones included (their history stays visible)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at")


@transaction.atomic
def api_token_revoke(*, actor: User, token_id: str) -> ApiToken:
    """Revoke one of ``actor``'s tokens (admins: anyone's). Revoking twice keeps the first time."""
    token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
    if token is None or not permissions.can_manage_tokens(actor, token.user):
        raise NotFound("Token not found")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(secret: str) -> ApiToken:
    """The usable token for ``secret`` with its user loaded, or :class:`Unauthenticated`."""
    token = ApiToken.objects.select_related("user").filter(digest=digest_of(secret)).first()
    now = timezone.now()
    if token is None:
        raise Unauthenticated("Invalid API token")
    if token.revoked_at is not None:
        raise Unauthenticated("API token has been revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthenticated("API token has expired")
    if not token.user.is_active:
        raise Unauthenticated("User account is deactivated")
    _touch(token, now)
    return token


def _touch(token: ApiToken, now: dt.datetime) -> None:
    """Record the use, at most once per LAST_USED_RESOLUTION (most requests write nothing)."""
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


def api_token_allows(token: ApiToken, method: str) -> None:
    """The scope rule, for every request made with a token: read-only tokens only read."""
    if method.upper() in ("GET", "HEAD", "OPTIONS"):
        return
    if token.scope != "write":
        raise Forbidden("Forbidden", "This API token is read-only.", detail_only=True)
