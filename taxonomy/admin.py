from django.contrib import admin

from taxonomy.models import JobCategory, PicTeam


@admin.register(JobCategory)
class JobCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(PicTeam)
class PicTeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "slack_handle", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug", "slack_handle"]
    readonly_fields = ["created_at", "updated_at"]
