"""JWTs in the format clients already hold (Flask-JWT-Extended's), built on SimpleJWT.

Claims: ``sub`` (user id), ``type`` (access/refresh), ``role``, ``email``, ``iat``,
``exp``, and ``fresh: true`` on access tokens — what Flask-JWT-Extended wrote, so
tokens clients already hold keep working. Two additions, ignored by clients: the
refresh token carries a ``jti`` and every access token minted from it carries the
same value as ``sid``, so logging out with an access token can blacklist the
refresh token of that session (SimpleJWT's ``token_blacklist`` tables).

Refresh tokens are never stored: ``OutstandingToken`` keeps what revocation needs
(the jti, the user, the expiry) and an empty ``token`` column, whoever writes the
row (:func:`outstanding_token_erase` runs before every save). A password change
blacklists every refresh token of the user (:func:`refresh_tokens_revoke_all`) and records
the second it happened: refresh tokens issued before it are refused, legacy ones included.

Decoding is done here rather than by SimpleJWT's ``Token`` because the contract
has its own 401 texts and accepts legacy tokens that have no ``jti`` or ``type``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import pre_save
from django.utils import timezone
from rest_framework_simplejwt import tokens as sj_tokens
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import datetime_from_epoch

ACCESS = "access"
REFRESH = "refresh"
SESSION_CLAIM = "sid"


class TokenRejected(Exception):
    """A token that must be answered with 401 and ``detail`` = the message."""


class AccessToken(sj_tokens.AccessToken):
    token_type = ACCESS

    @property
    def lifetime(self) -> dt.timedelta:
        return dt.timedelta(seconds=settings.JWT_ACCESS_TOKEN_EXPIRES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.token is None:
            # Access tokens have no jti of their own (the contract's format).
            self.payload.pop("jti", None)
            self.payload["fresh"] = True


class RefreshToken(sj_tokens.RefreshToken):
    """Registered in ``OutstandingToken`` when minted, so it can be blacklisted."""

    token_type = REFRESH
    access_token_class = AccessToken
    no_copy_claims = (*sj_tokens.RefreshToken.no_copy_claims, "fresh", SESSION_CLAIM)

    @property
    def lifetime(self) -> dt.timedelta:
        return dt.timedelta(seconds=settings.JWT_REFRESH_TOKEN_EXPIRES)

    @classmethod
    def for_user(cls, user) -> RefreshToken:
        token = cls()
        token["sub"] = str(user.pk)
        token["role"] = user.role
        token["email"] = user.email
        OutstandingToken.objects.create(
            user=user, jti=token["jti"], token="", created_at=token.current_time,
            expires_at=datetime_from_epoch(token["exp"]),
        )
        return token

    @property
    def access_token(self) -> AccessToken:
        access = super().access_token
        access[SESSION_CLAIM] = self["jti"]
        return access


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def token_pair_for(user) -> TokenPair:
    """What login hands out: a fresh refresh token and an access token of the same session."""
    refresh = RefreshToken.for_user(user)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def access_token_for_refresh(payload: dict[str, Any], raw: str, user) -> str:
    """A new access token for ``user`` (current role and e-mail), tied to the refresh token's session."""
    access = AccessToken()
    access["sub"] = str(user.pk)
    access["role"] = user.role
    access["email"] = user.email
    access[SESSION_CLAIM] = token_identifier(payload, raw)
    return str(access)


def access_lifetime_seconds() -> int:
    return settings.JWT_ACCESS_TOKEN_EXPIRES


def token_decode(raw: str, *, expected_type: str) -> dict[str, Any]:
    """Verified claims of ``raw`` or :class:`TokenRejected` with the 401 text clients match on."""
    try:
        # The same key and algorithm SimpleJWT signs with; only that algorithm is accepted.
        payload = jwt.decode(
            raw,
            api_settings.SIGNING_KEY,
            algorithms=[api_settings.ALGORITHM],
            options={"verify_aud": False, "verify_iss": False, "verify_jti": False},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRejected("Token has expired") from None
    except jwt.InvalidTokenError:
        raise TokenRejected("Invalid token") from None
    if not isinstance(payload, dict):
        raise TokenRejected("Invalid token")
    if "exp" not in payload:  # the old server accepted these forever: not any more
        raise TokenRejected("Invalid token: missing expiration")
    if payload.get("sub") in (None, ""):
        raise TokenRejected("Invalid token: missing subject")
    if payload.get("type", ACCESS) != expected_type:
        raise TokenRejected("Invalid token type")
    if expected_type == REFRESH and refresh_token_is_blacklisted(payload, raw):
        raise TokenRejected("Token has been revoked")
    return payload


def token_identifier(payload: dict[str, Any], raw: str) -> str:
    """The blacklist key of a refresh token: its ``jti``.

    Legacy refresh tokens have none; they are keyed by a hash of the token text.
    """
    value = payload.get("jti")
    if isinstance(value, str) and value:
        return value
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


def session_of_access_token(payload: dict[str, Any]) -> str | None:
    value = payload.get(SESSION_CLAIM)
    return value if isinstance(value, str) and value else None


def refresh_token_is_blacklisted(payload: dict[str, Any], raw: str) -> bool:
    """Blacklisted by its key, or issued before the user's last password change.

    The second check is what revokes refresh tokens without a ``jti`` (issued by the old
    server: never registered, so a password change cannot blacklist them one by one). A
    token without ``iat`` counts as issued before any change.
    """
    if BlacklistedToken.objects.filter(token__jti=token_identifier(payload, raw)).exists():
        return True
    issued = payload.get("iat")
    issued_at = datetime_from_epoch(issued) if isinstance(issued, int | float) else None
    changed = get_user_model().objects.filter(pk=str(payload["sub"]), password_changed_at__isnull=False)
    if issued_at is not None:
        changed = changed.filter(password_changed_at__gt=issued_at)
    return changed.exists()


def session_blacklist(*, identifier: str, user, expires_at_epoch: int | None = None) -> None:
    """Blacklist the refresh token known by ``identifier`` so it can no longer be refreshed."""
    expires_at = (datetime_from_epoch(expires_at_epoch) if isinstance(expires_at_epoch, int)
                  else timezone.now() + dt.timedelta(seconds=settings.JWT_REFRESH_TOKEN_EXPIRES))
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=identifier,
        defaults={"user": user, "token": "", "created_at": timezone.now(), "expires_at": expires_at},
    )
    BlacklistedToken.objects.get_or_create(token=outstanding)


def refresh_tokens_revoke_all(user) -> int:
    """Blacklist every refresh token of ``user`` that is not yet (a password change); how many."""
    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True,
                                           expires_at__gt=timezone.now())
    rows = [BlacklistedToken(token=outstanding) for outstanding in live]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def outstanding_token_erase(sender, instance, **kwargs) -> None:
    """``pre_save`` of ``OutstandingToken``: the token text is never written (SimpleJWT's own
    code paths would store it whole); the jti identifies the token for revocation."""
    instance.token = ""


def outstanding_token_erasure_connect() -> None:
    pre_save.connect(outstanding_token_erase, sender=OutstandingToken,
                     dispatch_uid="accounts.outstanding_token_erase")
