"""Authentication, users and preferences.

Each view: authenticate → role → the endpoint's checks in a fixed order (clients
rely on which refusal wins) → a service call → the envelope.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts import services
from accounts.api import serializers as s
from accounts.api.authentication import RefreshTokenAuthentication
from accounts.models import User
from accounts.throttling import client_address
from accounts.tokens import access_lifetime_seconds, access_token_for_refresh, token_pair_for
from cronhub import permissions as may
from cronhub.api.base import JsonApiView, PublicApiView
from cronhub.api.bodies import RefusedJson, json_object, require_json_content_type
from cronhub.api.errors import ApiError, not_found, validation_error
from cronhub.api.permissions import IsAdmin, IsAuthenticatedUser
from cronhub.api.schema import (
    ADMIN_ONLY,
    UNAUTHORIZED,
    ThrottledSerializer,
    error_a,
    error_b,
    validation_failed,
)
from cronhub.api.shapes import render

AUTH = ["auth"]
USERS = ["users"]
PREFERENCES = ["preferences"]


NOT_AN_OBJECT = "Input should be a valid dictionary or object to extract fields from"


def _schema_body(request) -> dict:
    """A JSON object for the schema-validated endpoints, whose failures are ``detail`` lists."""
    if "application/json" not in (request.content_type or "").lower():
        raise validation_error(["body"], NOT_AN_OBJECT, type="model_attributes_type")
    try:
        data = request.data
    except RefusedJson as problem:  # JSON beyond the limits: say which
        raise validation_error(["body"], problem.body["message"], type="json_invalid") from None
    except (exceptions.ParseError, exceptions.UnsupportedMediaType):
        raise validation_error(["body"], "JSON decode error", type="json_invalid") from None
    if not isinstance(data, dict):
        raise validation_error(["body"], NOT_AN_OBJECT, input=data, type="model_attributes_type")
    return data


def _login_response(user: User) -> Response:
    tokens = token_pair_for(user)
    return Response(render(s.LoginResponseSerializer, {
        "success": True,
        "message": "Login successful",
        "user": user,
        "access_token": tokens.access,
        "refresh_token": tokens.refresh,
        "token_type": "bearer",
    }))


def _target_user(user_id: str) -> User:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise not_found("User not found")
    return user


def _forbid_unless_self(request, user_id: str, message: str) -> None:
    if not may.can_act_for(request.user, user_id):
        raise ApiError(status.HTTP_403_FORBIDDEN, message)


LOGIN_ERRORS = {
    400: validation_failed("Body failed validation (missing identifier, short password, bad e-mail)"),
    401: error_b("Invalid email/username or password, or the account is inactive"),
    429: OpenApiResponse(ThrottledSerializer, description="Too many failed logins (account or address)"),
}


class LoginView(PublicApiView):

    @extend_schema(tags=AUTH, auth=[], request=s.LoginSerializer,
                   responses={200: s.LoginResponseSerializer, **LOGIN_ERRORS},
                   summary="Log in with a username or e-mail and a password")
    def post(self, request):
        body = s.LoginSerializer(data=_schema_body(request))
        body.is_valid(raise_exception=True)
        user = services.login_authenticate(identifier=body.identifier,
                                           password=body.validated_data["password"],
                                           address=client_address(request))
        return _login_response(user)


class LoginFormView(PublicApiView):
    parser_classes = [FormParser, MultiPartParser]

    @extend_schema(tags=AUTH, auth=[], request={"application/x-www-form-urlencoded": s.LoginFormSerializer},
                   responses={200: s.LoginResponseSerializer, **LOGIN_ERRORS},
                   summary="Log in with an OAuth2 password form (the docs' Authorize button)")
    def post(self, request):
        try:
            data = request.data
        except exceptions.UnsupportedMediaType:
            data = {}  # a JSON body has no form fields: reported as missing fields
        body = s.LoginFormSerializer(data=data)
        body.is_valid(raise_exception=True)
        user = services.login_authenticate(identifier=body.validated_data["username"],
                                           password=body.validated_data["password"],
                                           address=client_address(request))
        return _login_response(user)


class RefreshView(JsonApiView):
    authentication_classes = [RefreshTokenAuthentication]
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=AUTH, request=None, responses={200: s.RefreshResponseSerializer, 401: UNAUTHORIZED},
                   summary="A new access token for the refresh token in the Authorization header")
    def post(self, request):
        return Response(render(s.RefreshResponseSerializer, {
            "access_token": access_token_for_refresh(request.auth, request.raw_token, request.user),
            "refresh_token": None,
            "token_type": "bearer",
            "expires_in": access_lifetime_seconds(),
        }))


class MeView(JsonApiView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=AUTH, responses={200: s.UserSerializer, 401: UNAUTHORIZED},
                   summary="The caller's user record (no envelope)")
    def get(self, request):
        return Response(render(s.UserSerializer, request.user))


class VerifyView(JsonApiView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=AUTH, responses={200: s.VerifyResponseSerializer, 401: UNAUTHORIZED},
                   summary="Check that the access token is valid")
    def get(self, request):
        user = request.user
        return Response(render(s.VerifyResponseSerializer, {
            "valid": True, "user_id": user.pk, "username": user.username, "role": user.role,
            "message": "Token is valid"}))


class LogoutView(JsonApiView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=AUTH, request=s.LogoutRequestSerializer,
                   responses={200: s.LogoutResponseSerializer, 401: UNAUTHORIZED},
                   summary="Log out: the session's refresh token can no longer be used")
    def post(self, request):
        refresh_token = None
        try:
            data = request.data
        except (exceptions.ParseError, exceptions.UnsupportedMediaType):
            data = None  # the body is optional and otherwise ignored
        if isinstance(data, dict) and isinstance(data.get("refresh_token"), str):
            refresh_token = data["refresh_token"]
        # An API token has no session to end (request.auth is then the ApiToken, not a payload).
        payload = getattr(request, "token_payload", None) or {}
        services.session_logout(user=request.user, access_payload=payload, refresh_token=refresh_token)
        return Response(render(s.LogoutResponseSerializer, {
            "success": True, "message": "Logout successful",
            "detail": "Please discard your tokens on the client side"}))


class RegisterView(JsonApiView):
    permission_classes = [IsAdmin]

    @extend_schema(tags=AUTH, request=s.RegisterSerializer,
                   responses={201: s.RegisterResponseSerializer, 400: validation_failed(), 401: UNAUTHORIZED,
                              403: ADMIN_ONLY,
                              409: error_b("Username already exists / Email already exists")},
                   summary="Create a user (admin)")
    def post(self, request):
        body = s.RegisterSerializer(data=_schema_body(request))
        body.is_valid(raise_exception=True)
        user = services.user_register(**body.validated_data)
        return Response(render(s.RegisterResponseSerializer, {
            "success": True, "message": "User created successfully", "user": user}),
            status=status.HTTP_201_CREATED)


class UserListView(JsonApiView):
    permission_classes = [IsAdmin]

    @extend_schema(tags=USERS, operation_id="users_list",
                   responses={200: s.UserListSerializer, 401: UNAUTHORIZED, 403: ADMIN_ONLY},
                   summary="All users, in creation order (admin)")
    def get(self, request):
        users = list(User.objects.order_by("created_at", "id"))
        return Response(render(s.UserListSerializer, {"count": len(users), "users": users}))


class UserDetailView(JsonApiView):
    def get_permissions(self):
        return [IsAdmin()] if self.request.method == "DELETE" else [IsAuthenticatedUser()]

    @extend_schema(tags=USERS, responses={
        200: s.UserEnvelopeSerializer, 401: UNAUTHORIZED,
        403: error_a("Forbidden. You can only view your own profile."), 404: error_a("User not found")},
        summary="One user (admin, or the user themself)")
    def get(self, request, user_id: str):
        _forbid_unless_self(request, user_id, "Forbidden. You can only view your own profile.")
        return Response(render(s.UserEnvelopeSerializer, {"user": _target_user(user_id)}))

    @extend_schema(tags=USERS, request=s.UserUpdateSerializer, responses={
        200: s.UserUpdateResponseSerializer,
        400: error_a("Content-Type, JSON, password length, role value, or nothing to update"),
        401: UNAUTHORIZED,
        403: error_a("Not self, or a non-admin changing role / active status"),
        404: error_a("User not found"), 409: error_a("Email already exists")},
        summary="Update a user: admins any field, users their own e-mail and password")
    def put(self, request, user_id: str):
        require_json_content_type(request)
        _forbid_unless_self(request, user_id, "Forbidden. You can only update your own profile.")
        user = _target_user(user_id)
        user, updated = services.user_update(actor=request.user, user=user, changes=json_object(request))
        return Response(render(s.UserUpdateResponseSerializer, {
            "message": "User updated successfully", "updated_fields": updated, "user": user}))

    @extend_schema(tags=USERS, responses={
        200: s.UserDeleteResponseSerializer, 400: error_a("Cannot delete your own account"),
        401: UNAUTHORIZED, 403: ADMIN_ONLY, 404: error_a("User not found")},
        summary="Delete a user with their notifications and preferences (admin)")
    def delete(self, request, user_id: str):
        user = services.user_delete(actor=request.user, user_id=user_id)
        return Response(render(s.UserDeleteResponseSerializer, {
            "message": "User deleted successfully", "deleted_user": user}))


FORBID_READ_PREFS = "Forbidden: Cannot access other users preferences"
FORBID_WRITE_PREFS = "Forbidden: Cannot update other users preferences"


def _preferences_docs(envelope, request, *, read_summary: str, write_summary: str):
    """GET and PUT of a ``_PreferencesView``: both kinds answer the same errors (same checks)."""
    return extend_schema_view(
        get=extend_schema(tags=PREFERENCES, responses={
            200: envelope, 401: UNAUTHORIZED, 403: error_a(FORBID_READ_PREFS),
            404: error_a("User not found")}, summary=read_summary),
        put=extend_schema(tags=PREFERENCES, request=request, responses={
            200: envelope, 400: error_a("Content-Type, JSON or payload problem"), 401: UNAUTHORIZED,
            403: error_a(FORBID_WRITE_PREFS), 404: error_a("User not found")}, summary=write_summary),
    )


# GET/PUT of one user's preferences, checks in this order: 403 unless self or admin,
# then (PUT) the Content-Type, then 404 for an unknown user, then the body. (A comment, not a
# docstring: the OpenAPI document takes a view's docstring as the operations' description.)
class _PreferencesView(JsonApiView):
    permission_classes = [IsAuthenticatedUser]

    def load(self, user: User): ...

    def store(self, user: User, body: dict): ...

    def envelope(self, prefs, verb: str) -> dict: ...

    def get(self, request, user_id: str):
        _forbid_unless_self(request, user_id, FORBID_READ_PREFS)
        return Response(self.envelope(self.load(_target_user(user_id)), "retrieved"))

    def put(self, request, user_id: str):
        _forbid_unless_self(request, user_id, FORBID_WRITE_PREFS)
        require_json_content_type(request)
        user = _target_user(user_id)
        return Response(self.envelope(self.store(user, json_object(request)), "updated"))


@_preferences_docs(s.NotificationPreferencesEnvelopeSerializer, s.NotificationPreferencesUpdateSerializer,
                   read_summary="Notification preferences (created with defaults on first read)",
                   write_summary="Change some of the six notification switches")
class NotificationPreferencesView(_PreferencesView):
    def load(self, user):
        return services.notification_preferences_get(user=user)

    def store(self, user, body):
        return services.notification_preferences_update(user=user, changes=body)

    def envelope(self, prefs, verb):
        return render(s.NotificationPreferencesEnvelopeSerializer, {
            "message": f"Notification preferences {verb} successfully", "preferences": prefs})


@_preferences_docs(s.UiPreferencesEnvelopeSerializer, s.UiPreferencesUpdateSerializer,
                   read_summary="Which optional columns the jobs table shows",
                   write_summary="Set the jobs table columns (keys not sent go back to their defaults), "
                                 "the pages' language and time zone")
class UiPreferencesView(_PreferencesView):
    def load(self, user):
        return services.ui_preferences_get(user=user)

    def store(self, user, body):
        return services.ui_preferences_update(user=user, changes=body)

    def envelope(self, prefs, verb):
        return render(s.UiPreferencesEnvelopeSerializer,
                      {"preferences": {"jobs_table_columns": prefs.effective_columns,
                                       "language": prefs.language or None,
                                       "timezone": prefs.timezone or None}})
