"""Users in the admin: role, active flag and a password field (hashed on save).

Only role admin reaches the admin site (``User.is_staff``); users and viewers
are sent to the login page and use the app/API instead. The refresh-token tables
are shown read-only, without the token column.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.models import Group
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts import api_tokens, rules, services
from accounts.models import ApiToken, NotificationPreferences, Role, UiPreferences, User
from accounts.throttling import client_address
from accounts.tokens import BlacklistedToken, OutstandingToken
from cronhub.errors import CronhubError, Throttled, Unauthenticated
from cronhub.forms import add_domain_error

# Access is by role, not by group or permission: the Groups page would only mislead.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    """The admin's login page checks credentials the way the API's login does (same service,
    so the same login throttle and the same hasher work for unknown accounts); a refusal
    shows the form's usual error, a throttled attempt says how long to wait."""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                user = services.login_authenticate(identifier=username, password=password,
                                                   address=client_address(self.request))
            except Throttled as error:
                raise forms.ValidationError(error.text, code="throttled") from None
            except Unauthenticated:
                raise self.get_invalid_login_error() from None
            user.backend = settings.AUTHENTICATION_BACKENDS[0]
            self.user_cache = user
            self.confirm_login_allowed(user)
        return self.cleaned_data


admin.site.login_form = ThrottledAdminLoginForm


class UserAdminForm(forms.ModelForm):
    """The API's rules (``accounts.rules``) decide, not the model's field limits, so
    both refuse the same input with the same message; saving calls the service once."""

    username = forms.CharField()
    email = forms.CharField(label="Email")
    new_password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=f"At least {rules.PASSWORD_MIN_LENGTH} characters. "
        "When editing, leave empty to keep the current one.",
    )

    class Meta:
        model = User
        fields = ["username", "email", "role", "is_active", "pic_teams"]

    def __init__(self, *args, request_user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request_user = request_user
        if self.instance._state.adding:
            self.fields["new_password"].required = True

    def _apply(self, name: str, rule) -> None:
        """Replace the cleaned value of ``name`` by what ``rule`` makes of it, or show its refusal."""
        if name not in self.cleaned_data:
            return  # missing, read-only, or already refused by the field itself
        try:
            self.cleaned_data[name] = rule(self.cleaned_data[name])
        except CronhubError as error:
            add_domain_error(self, error)

    def clean(self):
        data = super().clean()
        editing_self = self.request_user is not None and self.instance.pk == self.request_user.pk
        if editing_self and (data.get("role") != Role.ADMIN or not data.get("is_active")):
            raise forms.ValidationError("You cannot remove your own admin access.")
        adding = self.instance._state.adding

        def free_username(value):
            value = rules.username(value)
            rules.username_free(value)
            return value

        def free_email(value):
            value = rules.email(value)
            rules.email_free(value, exclude_pk=None if adding else self.instance.pk)
            return value

        if adding:
            self._apply("username", free_username)
        if adding or "email" in self.changed_data:
            self._apply("email", free_email)
        if data.get("new_password"):
            self._apply("new_password", lambda value: rules.password(value, field="new_password"))
        self._apply("role", rules.role)
        return data

    def validate_unique(self):
        # Whether a username or e-mail is taken is a rule above, compared lowercased.
        pass

    def save_through_service(self) -> User:
        """What saving runs, once: the API's register or update, with this form's values."""
        data = self.cleaned_data
        if self.instance._state.adding:
            return services.user_register(
                username=data["username"],
                email=data["email"],
                password=data["new_password"],
                role=data["role"],
                is_active=data["is_active"],
            )
        changes = {key: data[key] for key in ("email", "role", "is_active") if key in self.changed_data}
        if data.get("new_password"):
            changes["password"] = data["new_password"]
        if not changes:
            return self.instance
        user, _updated = services.user_update(actor=self.request_user, user=self.instance, changes=changes)
        return user


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    form = UserAdminForm
    list_display = ["username", "email", "role", "is_active", "created_at", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "email"]
    ordering = ["username"]
    readonly_fields = ["id", "created_at", "updated_at", "last_login"]
    fieldsets = [
        (None, {"fields": ["username", "email", "new_password"]}),
        (
            "Access",
            {
                "fields": ["role", "is_active"],
                "description": "Only active users with role admin can use this admin site.",
            },
        ),
        ("PIC teams", {"fields": ["pic_teams"], "description": (
            "The teams whose jobs count as this user's for the \"my jobs and my teams' jobs\" choice.")}),
        ("Record", {"fields": ["id", "created_at", "updated_at", "last_login"], "classes": ["collapse"]}),
    ]
    filter_horizontal = ["pic_teams"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class BoundToRequest(form_class):
            def __init__(self, *args, **inner):
                super().__init__(*args, request_user=request.user, **inner)

        return BoundToRequest

    def get_readonly_fields(self, request, obj=None):
        # The API has no username change; the admin follows it.
        return [*self.readonly_fields, "username"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        saved = form.save_through_service()
        for field in saved._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False

    def has_delete_permission(self, request, obj=None):
        # Deleting yourself would lock you out mid-request.
        return super().has_delete_permission(request, obj) and (obj is None or obj.pk != request.user.pk)


@admin.register(NotificationPreferences)
class NotificationPreferencesAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "email_on_job_success",
        "email_on_job_failure",
        "email_on_job_disabled",
        "browser_notifications",
        "weekly_report",
        "run_notifications",
    ]
    list_filter = ["run_notifications"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]


@admin.register(UiPreferences)
class UiPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "updated_at"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]


# --- refresh tokens: read-only, never the token itself ------------------------------------------


class _ReadOnlyAdmin(admin.ModelAdmin):
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


for _model in (OutstandingToken, BlacklistedToken):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(OutstandingToken)
class OutstandingTokenAdmin(_ReadOnlyAdmin):
    """Refresh tokens handed out: their id, owner and lifetime (revocation needs no more)."""

    list_display = ["jti", "user", "created_at", "expires_at", "revoked"]
    list_select_related = ["user"]
    search_fields = ["jti", "user__username"]
    ordering = ["-created_at"]
    fields = ["jti", "user", "created_at", "expires_at", "revoked"]
    readonly_fields = fields

    @admin.display(boolean=True)
    def revoked(self, obj) -> bool:
        return BlacklistedToken.objects.filter(token=obj).exists()


@admin.register(BlacklistedToken)
class BlacklistedTokenAdmin(_ReadOnlyAdmin):
    list_display = ["token_jti", "token_user", "token_expires_at", "blacklisted_at"]
    list_select_related = ["token__user"]
    search_fields = ["token__jti", "token__user__username"]
    ordering = ["-blacklisted_at"]
    fields = ["token_jti", "token_user", "token_expires_at", "blacklisted_at"]
    readonly_fields = fields

    @admin.display(description="jti", ordering="token__jti")
    def token_jti(self, obj) -> str:
        return obj.token.jti

    @admin.display(description="user", ordering="token__user__username")
    def token_user(self, obj):
        return obj.token.user

    @admin.display(description="expires at", ordering="token__expires_at")
    def token_expires_at(self, obj):
        return obj.token.expires_at


# --- API tokens (accounts/api_tokens.py) ----------------------------------------------------
class ApiTokenAdminForm(forms.ModelForm):
    """Creating a token for a user: the same rules as ``POST /api/v2/auth/tokens``."""

    class Meta:
        model = ApiToken
        fields = ["user", "name", "scope", "expires_at"]

    def clean(self):
        data = super().clean()
        user = data.get("user")
        checks = [("name", lambda value: rules.api_token_name(value))]
        if user is not None:
            checks.append(("scope", lambda value: rules.api_token_scope(value, user=user)))
        checks.append(("expires_at", lambda value: rules.api_token_expiry(value, now=timezone.now())))
        for name, rule in checks:
            if name in data:
                try:
                    data[name] = rule(data[name])
                except CronhubError as error:
                    add_domain_error(self, error)
        return data


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are listed, created (the secret is shown on the page that follows, once) and
    revoked; never edited, and never shown again."""

    form = ApiTokenAdminForm
    list_display = ["name", "user", "prefix", "scope", "created_at", "expires_at", "last_used_at",
                    "revoked_at"]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    raw_id_fields = ["user"]
    actions = ["revoke"]
    readonly_fields = ["user", "name", "prefix", "scope", "created_at", "expires_at", "last_used_at",
                       "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj else ["user", "name", "scope", "expires_at"]

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        token, secret = api_tokens.api_token_create(user=data["user"], name=data["name"], scope=data["scope"],
                                                    expires_at=data.get("expires_at"))
        for field in token._meta.concrete_fields:
            setattr(obj, field.attname, getattr(token, field.attname))
        obj._state.adding = False
        request._api_token_secret = secret

    def response_add(self, request, obj, post_url_continue=None):
        # Shown in this response only: not in a message (a cookie) and never stored.
        return TemplateResponse(request, "admin/accounts/apitoken/created.html", {
            **self.admin_site.each_context(request), "title": "API token created", "token": obj,
            "secret": request._api_token_secret, "opts": self.model._meta})

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            api_tokens.api_token_revoke(actor=request.user, token_id=token.pk)
            count += 1
        self.message_user(request, f"{count} token(s) revoked.")
