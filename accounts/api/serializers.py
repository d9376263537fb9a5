"""Shapes of the accounts API.

Output serializers are the one declaration of each response: views render
bodies with them (``cronhub.api.shapes.render``) and the OpenAPI document
describes them. Input serializers validate the schema-checked bodies (login,
register), whose failures are 400s with a ``detail`` list.
"""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import DEFAULT_JOBS_TABLE_COLUMNS, NotificationPreferences, Role, User
from accounts.services import NOTIFICATION_PREFERENCE_FIELDS
from cronhub.api.fields import TimestampField

# --- output -------------------------------------------------------------------------


class UserSerializer(serializers.ModelSerializer):
    created_at = TimestampField(allow_null=True)
    updated_at = TimestampField(allow_null=True)

    class Meta:
        model = User
        fields = ["id", "username", "email", "role", "is_active", "created_at", "updated_at"]
        read_only_fields = fields


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


class NotificationPreferencesSerializer(serializers.ModelSerializer):
    user_id = serializers.CharField(read_only=True)
    created_at = TimestampField(allow_null=True)
    updated_at = TimestampField(allow_null=True)

    class Meta:
        model = NotificationPreferences
        fields = ["id", "user_id", *NOTIFICATION_PREFERENCE_FIELDS, "created_at", "updated_at"]
        read_only_fields = fields


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


JobsTableColumnsUpdateSerializer = _switches(
    "JobsTableColumnsUpdateSerializer", DEFAULT_JOBS_TABLE_COLUMNS, required=False,
    doc="Every key optional: a key not sent goes back to its default.")


class UiPreferencesUpdateSerializer(serializers.Serializer):
    jobs_table_columns = JobsTableColumnsUpdateSerializer()


class UiPreferencesEnvelopeSerializer(serializers.Serializer):
    preferences = UiPreferencesSerializer()


# --- input ----------------------------------------------------------------------------


class LoginSerializer(serializers.Serializer):
    # Optional and nullable: null means "not sent", as in the schema the contract describes.
    username = serializers.CharField(required=False, allow_null=True, min_length=3, max_length=80)
    email = serializers.EmailField(required=False, allow_null=True)
    password = serializers.CharField(min_length=6, trim_whitespace=False)

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

    username = serializers.CharField(min_length=3, max_length=80, help_text="Username or e-mail")
    password = serializers.CharField(min_length=6, trim_whitespace=False)
    grant_type = serializers.CharField(required=False, allow_blank=True)
    scope = serializers.CharField(required=False, allow_blank=True)
    client_id = serializers.CharField(required=False, allow_blank=True)
    client_secret = serializers.CharField(required=False, allow_blank=True)

    def validate_grant_type(self, value: str) -> str:
        if value and value != "password":
            raise serializers.ValidationError("grant_type must be 'password'")
        return value


class RegisterSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[a-zA-Z0-9_-]+$", min_length=3, max_length=80)
    email = serializers.EmailField(max_length=120)
    password = serializers.CharField(min_length=6, trim_whitespace=False)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)
    is_active = serializers.BooleanField(default=True)


class UserUpdateSerializer(serializers.Serializer):
    """Documentation of ``PUT /auth/users/{id}``: every field optional; the view checks them in order."""

    email = serializers.EmailField(required=False, allow_blank=True, allow_null=True,
                                   help_text="Empty or null: left unchanged")
    password = serializers.CharField(required=False, allow_blank=True, allow_null=True,
                                     help_text="At least 6 characters; empty or null: left unchanged")
    role = serializers.ChoiceField(choices=Role.choices, required=False, help_text="Admins only")
    is_active = serializers.BooleanField(required=False, help_text="Admins only")


NotificationPreferencesUpdateSerializer = _switches(
    "NotificationPreferencesUpdateSerializer", NOTIFICATION_PREFERENCE_FIELDS, required=False)


class LogoutRequestSerializer(serializers.Serializer):
    refresh_token = serializers.CharField(required=False, allow_blank=True, allow_null=True,
                                          help_text="Optional: also blacklist this refresh token")
