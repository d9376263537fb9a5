from django.contrib import admin

from integrations.models import SlackSettings


@admin.register(SlackSettings)
class SlackSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "is_enabled", "masked_webhook_url", "channel", "updated_at"]
    readonly_fields = ["created_at", "updated_at"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not SlackSettings.objects.exists()
