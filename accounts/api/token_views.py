"""``/auth/tokens``: a user's personal API tokens for scripts (accounts/api_tokens.py).

Creating and revoking tokens takes a login (a JWT): a token cannot mint or revoke tokens,
so a leaked one cannot extend itself. Listing works with either.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from accounts import api_tokens
from accounts.api import serializers as s
from cronhub.api.base import JsonApiView
from cronhub.api.bodies import json_object, require_json_content_type
from cronhub.api.errors import DetailError
from cronhub.api.permissions import IsAuthenticatedUser
from cronhub.api.schema import UNAUTHORIZED, ErrorOrDetailSerializer, error_a, error_b
from cronhub.api.shapes import render

TOKENS = ["api tokens"]
LOGIN_REQUIRED = "API tokens are managed with a login, not with an API token"


def _refuse_api_token(request) -> None:
    if getattr(request, "api_token", None) is not None:
        raise DetailError(status.HTTP_403_FORBIDDEN, LOGIN_REQUIRED)


class ApiTokenListView(JsonApiView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TOKENS, responses={200: s.ApiTokenListSerializer, 401: UNAUTHORIZED},
                   summary="The caller's API tokens, newest first (secrets are never shown again)")
    def get(self, request):
        tokens = list(api_tokens.api_tokens_of(request.user))
        return Response(render(s.ApiTokenListSerializer, {"count": len(tokens), "tokens": tokens}))

    @extend_schema(tags=TOKENS, request=s.ApiTokenCreateSerializer, responses={
        201: s.ApiTokenCreatedSerializer, 400: error_a("Name, scope or expiry refused"), 401: UNAUTHORIZED,
        403: OpenApiResponse(ErrorOrDetailSerializer, description=(
            "A viewer asking for a write token (error, message); "
            "the request made with an API token (detail)"))},
        summary="Create an API token; the answer holds its secret, shown this once")
    def post(self, request):
        _refuse_api_token(request)
        require_json_content_type(request)
        body = json_object(request)
        token, secret = api_tokens.api_token_create(
            user=request.user, name=body.get("name"), scope=body.get("scope", "read"),
            expires_at=body.get("expires_at"))
        return Response(render(s.ApiTokenCreatedSerializer, {
            "message": "API token created: copy it now, it is not shown again", "token": secret,
            "api_token": token}), status=status.HTTP_201_CREATED)


class ApiTokenDetailView(JsonApiView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TOKENS, responses={
        200: s.ApiTokenRevokedSerializer, 401: UNAUTHORIZED,
        403: error_b(LOGIN_REQUIRED), 404: error_a("Token not found (or not the caller's)")},
        summary="Revoke an API token (the caller's own; admins any)")
    def delete(self, request, token_id: str):
        _refuse_api_token(request)
        token = api_tokens.api_token_revoke(actor=request.user, token_id=token_id)
        return Response(render(s.ApiTokenRevokedSerializer,
                               {"message": "API token revoked", "api_token": token}))
