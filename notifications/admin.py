from django.contrib import admin

from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "type", "is_read", "related_job", "created_at"]
    list_filter = ["type", "is_read", "created_at"]
    list_select_related = ["user", "related_job"]
    search_fields = ["title", "message", "user__username"]
    raw_id_fields = ["user", "related_job", "related_execution"]
    date_hierarchy = "created_at"
