"""Bearer-token authentication for the API, with the 401 texts clients show.

No header, another scheme, or ``Bearer`` with nothing after it is "not
authenticated" (DRF then answers 401 ``Not authenticated``); a token that is
present but unusable is rejected here with its own ``detail``. Authorization
uses the user row loaded here, never the ``role`` claim, so a role change takes
effect before the token expires.

The same header carries personal API tokens (``Bearer chub_...``, accounts/api_tokens.py):
told apart from a JWT by their prefix, checked against their stored digest, and their
scope enforced here for every endpoint at once: a read-only token's unsafe request
(POST, PUT, PATCH, DELETE) is 403 ``{"detail": "This API token is read-only."}``.
``request.auth`` is then the :class:`~accounts.models.ApiToken`; the React app's JWTs
go through exactly as before.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import status
from rest_framework.authentication import BaseAuthentication

from accounts import api_tokens
from accounts.models import User
from accounts.tokens import ACCESS, REFRESH, TokenRejected, token_decode
from cronhub.api.errors import DetailError
from cronhub.errors import CronhubError

BEARER_CHALLENGE = "Bearer"


def unauthorized(detail: str) -> DetailError:
    return DetailError(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": BEARER_CHALLENGE})


def bearer_token(request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class BearerTokenAuthentication(BaseAuthentication):
    """Access tokens on every protected endpoint."""

    expected_type = ACCESS

    def authenticate(self, request):
        raw = bearer_token(request)
        if raw is None:
            return None
        if self.expected_type == ACCESS and api_tokens.looks_like_api_token(raw):
            return self._api_token(request, raw)
        try:
            payload = token_decode(raw, expected_type=self.expected_type)
        except TokenRejected as exc:
            raise unauthorized(str(exc)) from None
        user = User.objects.filter(pk=str(payload["sub"])).first()
        if user is None:
            raise unauthorized("User not found")
        if not user.is_active:
            raise unauthorized("User account is deactivated")
        request.token_payload = payload
        request.raw_token = raw
        return user, payload

    def authenticate_header(self, request) -> str:
        return BEARER_CHALLENGE

    @staticmethod
    def _api_token(request, raw: str):
        try:
            token = api_tokens.api_token_authenticate(raw)
        except CronhubError as exc:
            raise unauthorized(exc.text) from None
        try:
            api_tokens.api_token_allows(token, request.method)
        except CronhubError as exc:
            raise DetailError(status.HTTP_403_FORBIDDEN, exc.text) from None
        request.api_token = token
        return token.user, token


class RefreshTokenAuthentication(BearerTokenAuthentication):
    """``POST /auth/refresh``: the refresh token in the Authorization header, as clients send it."""

    expected_type = REFRESH


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT or API token (chub_...)",
                "description": "An access token from /auth/login, or a personal API token from "
                               "/auth/tokens (read-only tokens: GET only)."}


class RefreshTokenScheme(OpenApiAuthenticationExtension):
    target_class = RefreshTokenAuthentication
    name = "refreshToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "The refresh token returned by login."}
