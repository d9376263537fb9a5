"""Shapes of the accounts API (API.md §3.1, §3.8, §3.9, §4.2–4.4).

Output serializers are used both to render responses and to describe them in
the OpenAPI document; input serializers validate the schema-checked bodies
(login, register), whose failures are 400s with a ``detail`` list.
"""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import NotificationPreferences, Role, User
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
        fields = ["id", "user_id", "email_on_job_success", "email_on_job_failure", "email_on_job_disabled",
                  "browser_notifications", "daily_digest", "weekly_report", "created_at", "updated_at"]
        read_only_fields = fields


class NotificationPreferencesEnvelopeSerializer(serializers.Serializer):
    message = serializers.CharField()
    preferences = NotificationPreferencesSerializer()


class JobsTableColumnsSerializer(serializers.Serializer):
    pic_team = serializers.BooleanField()
    end_date = serializers.BooleanField()
    cron_expression = serializers.BooleanField()
    target_url = serializers.BooleanField()
    last_execution_at = serializers.BooleanField()


class UiPreferencesSerializer(serializers.Serializer):
    jobs_table_columns = JobsTableColumnsSerializer()


class JobsTableColumnsUpdateSerializer(serializers.Serializer):
    """Every key optional: a key not sent goes back to its default."""

    pic_team = serializers.BooleanField(required=False)
    end_date = serializers.BooleanField(required=False)
    cron_expression = serializers.BooleanField(required=False)
    target_url = serializers.BooleanField(required=False)
    last_execution_at = serializers.BooleanField(required=False)


class UiPreferencesUpdateSerializer(serializers.Serializer):
    jobs_table_columns = JobsTableColumnsUpdateSerializer()


class UiPreferencesEnvelopeSerializer(serializers.Serializer):
    preferences = UiPreferencesSerializer()


# --- input ----------------------------------------------------------------------------


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(required=False, min_length=3, max_length=80)
    email = serializers.EmailField(required=False)
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


class NotificationPreferencesUpdateSerializer(serializers.Serializer):
    email_on_job_success = serializers.BooleanField(required=False)
    email_on_job_failure = serializers.BooleanField(required=False)
    email_on_job_disabled = serializers.BooleanField(required=False)
    browser_notifications = serializers.BooleanField(required=False)
    daily_digest = serializers.BooleanField(required=False)
    weekly_report = serializers.BooleanField(required=False)


class LogoutRequestSerializer(serializers.Serializer):
    refresh_token = serializers.CharField(required=False, allow_blank=True, allow_null=True,
                                          help_text="Optional: also blacklist this refresh token")
