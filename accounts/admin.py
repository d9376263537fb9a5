"""Users in the admin: role, active flag and a password field (hashed on save).

Only role admin reaches the admin site (``User.is_staff``); users and viewers
are sent to the login page and use the app/API instead.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from accounts.models import NotificationPreferences, Role, UiPreferences, User

MIN_PASSWORD_LENGTH = 6  # the API's rule


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
        if not self.instance.pk:
            self.fields["new_password"].required = True

    def clean_username(self):
        return (self.cleaned_data.get("username") or "").strip()

    def clean_email(self):
        email = (self.cleaned_data.get("email") or "").strip().lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Email already registered")
        return email

    def clean(self):
        data = super().clean()
        editing_self = self.request_user is not None and self.instance.pk == self.request_user.pk
        if editing_self and (data.get("role") != Role.ADMIN or not data.get("is_active")):
            raise forms.ValidationError("You cannot remove your own admin access.")
        return data

    def save(self, commit=True):
        user = super().save(commit=False)
        if self.cleaned_data.get("new_password"):
            user.set_password(self.cleaned_data["new_password"])
        if commit:
            user.save()
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
        ("Record", {"fields": ["id", "created_at", "updated_at", "last_login"], "classes": ["collapse"]}),
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class BoundToRequest(form_class):
            def __init__(self, *args, **inner):
                super().__init__(*args, request_user=request.user, **inner)

        return BoundToRequest

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
