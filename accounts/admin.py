from django import forms
from django.contrib import admin

from accounts.models import NotificationPreferences, UiPreferences, User


class UserAdminForm(forms.ModelForm):
    new_password = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False), min_length=6,
        help_text="Leave empty to keep the current password.",
    )

    class Meta:
        model = User
        fields = ["username", "email", "role", "is_active"]

    def save(self, commit=True):
        user = super().save(commit=False)
        if self.cleaned_data.get("new_password"):
            user.set_password(self.cleaned_data["new_password"])
        elif not user.pk or not user.password:
            user.set_unusable_password()
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


@admin.register(NotificationPreferences)
class NotificationPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "email_on_job_success", "email_on_job_failure", "email_on_job_disabled",
                    "browser_notifications", "weekly_report"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]


@admin.register(UiPreferences)
class UiPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "updated_at"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
