"""Users in the admin: role, active flag and a password field (hashed on save).

Only role admin reaches the admin site (``User.is_staff``); users and viewers
are sent to the login page and use the app/API instead.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.models import Group

from accounts import services
from accounts.models import NotificationPreferences, Role, UiPreferences, User
from cronhub.admin_support import service_check

MIN_PASSWORD_LENGTH = 6  # the API's rule

# Access is by role, not by group or permission: the Groups page would only mislead.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


class UserAdminForm(forms.ModelForm):
    new_password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        min_length=MIN_PASSWORD_LENGTH,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=f"At least {MIN_PASSWORD_LENGTH} characters. "
        "When editing, leave empty to keep the current one.",
    )

    class Meta:
        model = User
        fields = ["username", "email", "role", "is_active"]

    def __init__(self, *args, request_user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request_user = request_user
        if self.instance._state.adding:
            self.fields["new_password"].required = True

    def service_call(self):
        """What saving runs: the API's register or update, with this form's values."""
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

    def clean(self):
        data = super().clean()
        editing_self = self.request_user is not None and self.instance.pk == self.request_user.pk
        if editing_self and (data.get("role") != Role.ADMIN or not data.get("is_active")):
            raise forms.ValidationError("You cannot remove your own admin access.")
        if not self.errors:
            problem = service_check(self.service_call)
            if problem:
                lowered = problem.lower()
                field = next(
                    (
                        name
                        for word, name in (
                            ("email", "email"),
                            ("username", "username"),
                            ("password", "new_password"),
                            ("role", "role"),
                        )
                        if word in lowered
                    ),
                    None,
                )
                self.add_error(field, problem)
        return data


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
        ("Record", {"fields": ["id", "created_at", "updated_at", "last_login"], "classes": ["collapse"]}),
    ]

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
        saved = form.service_call()
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
    ]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]


@admin.register(UiPreferences)
class UiPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "updated_at"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
