"""Shapes of the accounts API: users, tokens and preferences.

Output serializers are the one declaration of each response: views render
bodies with them (``cronhub.api.shapes.render``) and the OpenAPI document
describes them; input serializers validate the schema-checked bodies
(login, register), whose failures are 400s with a ``detail`` list. Register
checks its fields with the rules of ``accounts.rules``, as the admin does.
"""

from __future__ import annotations

from collections.abc import Callable

from rest_framework import serializers

from accounts import rules
from accounts.models import (
    DEFAULT_JOBS_TABLE_COLUMNS,
    ApiToken,
    ApiTokenScope,
    NotificationPreferences,
    Role,
    RunNotifications,
    UiLanguage,
    User,
)
from accounts.rules import NOTIFICATION_PREFERENCE_FIELDS
from cronhub.api.fields import ModelShape
from cronhub.errors import InvalidInput

# --- output -------------------------------------------------------------------------


class UserSerializer(ModelShape):
    pic_teams = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="slug",
        help_text="Slugs of the PIC teams the user belongs to (their jobs count as \"my teams' jobs\")")

    class Meta:
        model = User
        fields = ["id", "username", "email", "role", "is_active", "created_at", "updated_at", "pic_teams"]


class UserEnvelopeSerializer(serializers.Serializer):
    user = UserSerializer()


class UserListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    users = UserSerializer(many=True)


class LoginResponseSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    user = UserSerializer()
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    token_type = serializers.CharField()


class RefreshResponseSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField(allow_null=True)
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Lifetime of the access token in seconds.")


class VerifyResponseSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    user_id = serializers.CharField()
    username = serializers.CharField()
    role = serializers.CharField()
    message = serializers.CharField()


class LogoutResponseSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    detail = serializers.CharField()


class RegisterResponseSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    user = UserSerializer()


class UserUpdateResponseSerializer(serializers.Serializer):
    message = serializers.CharField()
    updated_fields = serializers.ListField(child=serializers.CharField())
    user = UserSerializer()


class DeletedUserSerializer(serializers.Serializer):
    id = serializers.CharField()
    username = serializers.CharField()


class UserDeleteResponseSerializer(serializers.Serializer):
    message = serializers.CharField()
    deleted_user = DeletedUserSerializer()


class NotificationPreferencesSerializer(ModelShape):
    user_id = serializers.CharField(read_only=True)

    class Meta:
        model = NotificationPreferences
        fields = ["id", "user_id", *NOTIFICATION_PREFERENCE_FIELDS, "run_notifications", "created_at",
                  "updated_at"]


class NotificationPreferencesEnvelopeSerializer(serializers.Serializer):
    message = serializers.CharField()
    preferences = NotificationPreferencesSerializer()


def _switches(name: str, keys, *, doc: str | None = None, **options) -> type[serializers.Serializer]:
    """A serializer of one BooleanField per key, in order: the keys come from the same constants
    the services use, so the documented shape cannot drift from what is stored."""
    attrs = {key: serializers.BooleanField(**options) for key in keys}
    if doc is not None:
        attrs["__doc__"] = doc
    return type(name, (serializers.Serializer,), attrs)


JobsTableColumnsSerializer = _switches("JobsTableColumnsSerializer", DEFAULT_JOBS_TABLE_COLUMNS)


class UiPreferencesSerializer(serializers.Serializer):
    jobs_table_columns = JobsTableColumnsSerializer()
    language = serializers.ChoiceField(choices=UiLanguage.choices, allow_null=True,
                                       help_text="The admin pages' language; null follows the browser.")
    timezone = serializers.CharField(allow_null=True,
                                     help_text="IANA zone the admin pages show times in; null is the "
                                               "scheduler's zone.")


JobsTableColumnsUpdateSerializer = _switches(
    "JobsTableColumnsUpdateSerializer", DEFAULT_JOBS_TABLE_COLUMNS, required=False,
    doc="Every key optional: a key not sent goes back to its default.")


class UiPreferencesUpdateSerializer(serializers.Serializer):
    jobs_table_columns = JobsTableColumnsUpdateSerializer(
        required=False, help_text="Required unless language or timezone is sent.")
    language = serializers.ChoiceField(choices=UiLanguage.choices, required=False, allow_null=True)
    timezone = serializers.CharField(required=False, allow_null=True)


class UiPreferencesEnvelopeSerializer(serializers.Serializer):
    preferences = UiPreferencesSerializer()


# --- input ----------------------------------------------------------------------------


def _by_rule(rule: Callable) -> Callable:
    """A ``validate_<field>`` method that asks ``rule`` and reports its refusal on the field."""

    def validate(self, value):
        try:
            return rule(value)
        except InvalidInput as error:
            raise serializers.ValidationError(error.text) from None

    return validate


class RoleField(serializers.ChoiceField):
    """A role name, documented with the roles; which names pass is ``accounts.rules.role``'s to say."""

    def __init__(self, **kwargs):
        super().__init__(choices=Role.choices, **kwargs)

    def to_internal_value(self, data):
        return data


class LoginSerializer(serializers.Serializer):
    # Optional and nullable: null means "not sent", as clients send it.
    username = serializers.CharField(required=False, allow_null=True, min_length=rules.USERNAME_MIN_LENGTH,
                                     max_length=rules.max_length("username"))
    email = serializers.EmailField(required=False, allow_null=True)
    password = serializers.CharField(min_length=rules.PASSWORD_MIN_LENGTH, trim_whitespace=False)

    def validate_password(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Password cannot be blank.")
        return value

    def validate(self, attrs):
        if not attrs.get("username") and not attrs.get("email"):
            raise serializers.ValidationError("Either username or email must be provided")
        return attrs

    @property
    def identifier(self) -> str:
        return self.validated_data.get("username") or self.validated_data["email"]


class LoginFormSerializer(serializers.Serializer):
    """OAuth2 password form: ``username`` is a username or an e-mail."""

    username = serializers.CharField(min_length=rules.USERNAME_MIN_LENGTH,
                                     max_length=rules.max_length("username"), help_text="Username or e-mail")
    password = serializers.CharField(min_length=rules.PASSWORD_MIN_LENGTH, trim_whitespace=False)
    grant_type = serializers.CharField(required=False, allow_blank=True)
    scope = serializers.CharField(required=False, allow_blank=True)
    client_id = serializers.CharField(required=False, allow_blank=True)
    client_secret = serializers.CharField(required=False, allow_blank=True)

    def validate_grant_type(self, value: str) -> str:
        if value and value != "password":
            raise serializers.ValidationError("grant_type must be 'password'")
        return value


class RegisterSerializer(serializers.Serializer):
    username = serializers.CharField(
        help_text=f"{rules.USERNAME_MIN_LENGTH} to {rules.max_length('username')} letters, digits, _ or -; "
        "stored lowercased")
    email = serializers.CharField(help_text="Stored lowercased")
    password = serializers.CharField(trim_whitespace=False,
                                     help_text=f"At least {rules.PASSWORD_MIN_LENGTH} characters")
    role = RoleField(default=Role.VIEWER)
    is_active = serializers.BooleanField(default=True)

    validate_username = _by_rule(rules.username)
    validate_email = _by_rule(rules.email)
    validate_password = _by_rule(rules.password)
    validate_role = _by_rule(rules.role)


class UserUpdateSerializer(serializers.Serializer):
    """Documentation of ``PUT /auth/users/{id}``: every field optional; the view checks them in order."""

    email = serializers.EmailField(required=False, allow_blank=True, allow_null=True,
                                   help_text="Empty or null: left unchanged")
    password = serializers.CharField(required=False, allow_blank=True, allow_null=True,
                                     help_text=f"At least {rules.PASSWORD_MIN_LENGTH} characters; "
                                               "empty or null: left unchanged")
    role = RoleField(required=False, help_text="Admins only")
    is_active = serializers.BooleanField(required=False, help_text="Admins only")
    pic_teams = serializers.ListField(child=serializers.CharField(), required=False,
                                      help_text="Admins only: PIC team slugs (the whole list; [] for none)")


NotificationPreferencesUpdateSerializer = type(
    "NotificationPreferencesUpdateSerializer",
    (_switches("_NotificationSwitches", NOTIFICATION_PREFERENCE_FIELDS, required=False),),
    {"run_notifications": serializers.ChoiceField(
        choices=RunNotifications.choices, required=False,
        help_text="Which run results reach this user (in the app and by e-mail): all (default), "
                  "mine (jobs they created and their PIC teams' jobs), failures (failures and unknown "
                  "outcomes only)")})


class LogoutRequestSerializer(serializers.Serializer):
    refresh_token = serializers.CharField(required=False, allow_blank=True, allow_null=True,
                                          help_text="Optional: also blacklist this refresh token")


# --- API tokens ---------------------------------------------------------------------------


class ApiTokenSerializer(ModelShape):
    user_id = serializers.CharField(read_only=True)
    active = serializers.SerializerMethodField(help_text="Neither revoked nor expired")

    class Meta:
        model = ApiToken
        fields = ["id", "user_id", "name", "prefix", "scope", "created_at", "expires_at", "last_used_at",
                  "revoked_at", "active"]

    def get_active(self, token) -> bool:
        return token.usable()


class ApiTokenListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    tokens = ApiTokenSerializer(many=True)


class ApiTokenCreatedSerializer(serializers.Serializer):
    message = serializers.CharField()
    token = serializers.CharField(
        help_text="The secret: shown this once, never again (only its digest is stored)")
    api_token = ApiTokenSerializer()


class ApiTokenRevokedSerializer(serializers.Serializer):
    message = serializers.CharField()
    api_token = ApiTokenSerializer()


class ApiTokenCreateSerializer(serializers.Serializer):
    """Documentation of ``POST /auth/tokens``; ``accounts.rules`` checks the values."""

    name = serializers.CharField(help_text="What the token is for, 1 to 100 characters")
    scope = serializers.ChoiceField(choices=ApiTokenScope.choices, default=ApiTokenScope.READ,
                                    help_text="read: GET only; write: the user's rights (not for viewers)")
    expires_at = serializers.DateTimeField(required=False, allow_null=True,
                                           help_text="Optional RFC 3339 instant in the future; null: never")
