"""Users in the admin: role, active flag and a password field (hashed on save).

Every role signs in (``User.is_staff`` follows the role). Admins manage every user;
users and viewers see and edit only their own profile, password and preferences (the
API's rule, ``cronhub.permissions``), never a role or an active flag. The refresh-token
tables and login throttle counters are internal: read-only, under "System", without the
token column.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import api_tokens, rules, services
from accounts.models import ApiToken, LoginThrottleCounter, NotificationPreferences, Role, UiPreferences, User
from accounts.throttling import client_address
from accounts.tokens import BlacklistedToken, OutstandingToken
from cronhub import permissions
from cronhub.admin import RoleAdmin, SystemAdmin
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
                raise forms.ValidationError(error.localized(), code="throttled") from None
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
    email = forms.CharField(label=_("Email"))
    new_password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=format_lazy(
            _("At least {count} characters. When editing, leave empty to keep the current one."),
            count=rules.PASSWORD_MIN_LENGTH),
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
        if (editing_self and permissions.is_admin(self.request_user)
                and (data.get("role") != Role.ADMIN or not data.get("is_active"))):
            raise forms.ValidationError(_("You cannot remove your own admin access."))
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
        if "role" in self.fields:
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


class OwnRowsAdmin(RoleAdmin):
    """Rows that belong to one user: admins see every row, others only their own (a page
    of someone else's answers 403, not "does not exist")."""

    owner_field = "user"
    view_rule = staticmethod(permissions.can_use_console)

    @staticmethod
    def change_rule(user, obj=None) -> bool:
        if obj is None:
            return permissions.can_use_console(user)
        return permissions.can_manage_preferences(user, obj.user)

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if permissions.can_manage_users(request.user):
            return rows
        return rows.filter(**{self.owner_field: request.user.pk})

    def get_object(self, request, object_id, from_field=None):
        # Found among all rows, so a refusal is a 403 (asked of has_*_permission).
        model = self.model
        field = model._meta.pk if from_field is None else model._meta.get_field(from_field)
        try:
            return model._default_manager.get(**{field.name: field.to_python(object_id)})
        except (model.DoesNotExist, ValueError, TypeError):
            return None

    def has_view_permission(self, request, obj=None):
        if obj is not None:
            return self.change_rule(request.user, obj)
        return super().has_view_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not permissions.can_manage_users(request.user):
            fields.append(self.owner_field)
        return fields


@admin.register(User)
class UserAdmin(OwnRowsAdmin):
    form = UserAdminForm
    list_display = ["username", "email", "role", "is_active", "created_at", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "email"]
    ordering = ["username"]
    readonly_fields = ["id", "created_at", "updated_at", "last_login"]
    fieldsets = [
        (None, {"fields": ["username", "email", "new_password"]}),
        (
            _("Access"),
            {
                "fields": ["role", "is_active"],
                "description": _("Every active user signs in here. Admins manage everything; users change "
                                 "their own jobs; viewers only read."),
            },
        ),
        (_("PIC teams"), {"fields": ["pic_teams"], "description": _(
            "The teams whose jobs count as this user's for the \"my jobs and my teams' jobs\" choice.")}),
        (_("Record"), {"fields": ["id", "created_at", "updated_at", "last_login"], "classes": ["collapse"]}),
    ]
    filter_horizontal = ["pic_teams"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class BoundToRequest(form_class):
            def __init__(self, *args, **inner):
                super().__init__(*args, request_user=request.user, **inner)

        return BoundToRequest

    owner_field = "pk"
    add_rule = staticmethod(permissions.can_manage_users)

    @staticmethod
    def change_rule(user, obj=None) -> bool:
        return permissions.can_use_console(user) if obj is None else permissions.can_change_user(user, obj)

    delete_rule = staticmethod(permissions.can_delete_user)

    def get_readonly_fields(self, request, obj=None):
        # The API has no username change; the admin follows it. Only admins give roles.
        fields = [*self.readonly_fields, "username"] if obj else list(self.readonly_fields)
        if not permissions.can_manage_users(request.user):
            fields += ["role", "is_active"]
        return fields

    def save_model(self, request, obj, form, change):
        saved = form.save_through_service()
        for field in saved._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False



@admin.register(NotificationPreferences)
class NotificationPreferencesAdmin(OwnRowsAdmin):
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

    def changelist_view(self, request, extra_context=None):
        services.notification_preferences_get(user=request.user)  # one's own row is always there
        return super().changelist_view(request, extra_context)


@admin.register(UiPreferences)
class UiPreferencesAdmin(OwnRowsAdmin):
    list_display = ["user", "updated_at"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]

    def changelist_view(self, request, extra_context=None):
        services.ui_preferences_get(user=request.user)
        return super().changelist_view(request, extra_context)


# Personal API tokens (when they exist) follow the same pattern as the preferences above:
# ``OwnRowsAdmin`` with ``change_rule`` asking ``permissions.can_manage_tokens(user, obj.user)``.


# --- refresh tokens: read-only, never the token itself ------------------------------------------


for _model in (OutstandingToken, BlacklistedToken):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(OutstandingToken)
class OutstandingTokenAdmin(SystemAdmin):
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
class BlacklistedTokenAdmin(SystemAdmin):
    list_display = ["token_jti", "token_user", "token_expires_at", "blacklisted_at"]
    list_select_related = ["token__user"]
    search_fields = ["token__jti", "token__user__username"]
    ordering = ["-blacklisted_at"]
    fields = ["token_jti", "token_user", "token_expires_at", "blacklisted_at"]
    readonly_fields = fields

    @admin.display(description=_("jti"), ordering="token__jti")
    def token_jti(self, obj) -> str:
        return obj.token.jti

    @admin.display(description=_("user"), ordering="token__user__username")
    def token_user(self, obj):
        return obj.token.user

    @admin.display(description=_("expires at"), ordering="token__expires_at")
    def token_expires_at(self, obj):
        return obj.token.expires_at


@admin.register(LoginThrottleCounter)
class LoginThrottleCounterAdmin(SystemAdmin):
    """Counters of the login throttle (hashed keys): written only by ``accounts.throttling``."""

    list_display = ["key", "window_start", "count"]
    ordering = ["-window_start"]
# --- API tokens (accounts/api_tokens.py) ----------------------------------------------------
class ApiTokenAdminForm(forms.ModelForm):
    """Creating a token: the same rules as ``POST /api/v2/auth/tokens``. ``owner`` is the user
    the token is for when the form has no user field (a non-admin creates only their own)."""

    owner = None

    class Meta:
        model = ApiToken
        fields = ["user", "name", "scope", "expires_at"]

    def clean(self):
        data = super().clean()
        user = data.get("user", self.owner)
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
class ApiTokenAdmin(OwnRowsAdmin):
    """Personal API tokens: admins see every user's, others their own. Tokens are listed,
    created (the secret is shown on the page that follows, once) and revoked; never edited,
    and never shown again."""

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
    add_rule = staticmethod(permissions.can_use_console)
    delete_rule = staticmethod(lambda user, obj=None: False)  # revoked, never deleted

    @staticmethod
    def change_rule(user, obj=None) -> bool:
        if obj is None:
            return permissions.can_use_console(user)
        return permissions.can_manage_tokens(user, obj.user)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def get_fields(self, request, obj=None):
        if obj is not None:
            return self.readonly_fields
        if permissions.can_manage_users(request.user):
            return ["user", "name", "scope", "expires_at"]
        return ["name", "scope", "expires_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        if "user" not in form_class.base_fields:
            form_class.owner = request.user
        return form_class

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not permissions.can_use_console(request.user):
            actions.pop("revoke", None)
        return actions

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        owner = data.get("user") or request.user
        token, secret = api_tokens.api_token_create(user=owner, name=data["name"], scope=data["scope"],
                                                    expires_at=data.get("expires_at"))
        for field in token._meta.concrete_fields:
            setattr(obj, field.attname, getattr(token, field.attname))
        obj._state.adding = False
        request._api_token_secret = secret

    def response_add(self, request, obj, post_url_continue=None):
        # Shown in this response only: not in a message (a cookie) and never stored.
        return TemplateResponse(request, "admin/accounts/apitoken/created.html", {
            **self.admin_site.each_context(request), "title": _("API token created"), "token": obj,
            "secret": request._api_token_secret, "opts": self.model._meta})

    @admin.action(description=_("Revoke selected tokens"))
    def revoke(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            if not permissions.can_manage_tokens(request.user, token.user):
                raise PermissionDenied
            api_tokens.api_token_revoke(actor=request.user, token_id=token.pk)
            count += 1
        self.message_user(request, gettext("%(count)s token(s) revoked.") % {"count": count})
