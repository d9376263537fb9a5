"""Executions are history: listed and shown, never edited."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from jobs.admin.display import ExecutionColumnsMixin, ReadOnlyMixin
from jobs.admin.filters import (
    ExecutionDateFilter,
    GithubConclusionFilter,
)
from jobs.models import JobExecution


@admin.register(JobExecution)
class JobExecutionAdmin(ReadOnlyMixin, ExecutionColumnsMixin, admin.ModelAdmin):
    list_display = [
        "started_at",
        "job_link",
        "status_display",
        "trigger_type",
        "scheduled_for",
        "duration",
        "lateness",
        "target",
        "github_run",
    ]
    list_display_links = ["started_at"]
    list_filter = ["status", "trigger_type", ExecutionDateFilter, "execution_type", GithubConclusionFilter]
    list_select_related = ["job"]
    search_fields = ["job__name", "target"]
    date_hierarchy = "started_at"
    ordering = ["-started_at"]
    list_per_page = 50
    list_max_show_all = 1000
    fields = [
        "job_link",
        "status_display",
        "trigger_type",
        "scheduled_for",
        "started_at",
        "completed_at",
        "duration",
        "lateness",
        "execution_type",
        "target",
        "response_status",
        "github_run",
        "github_run_status",
        "github_run_conclusion",
        "github_run_started_at",
        "github_run_completed_at",
        "github_run_attempt",
        "github_following",
        "output",
        "error_message",
    ]
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    @admin.display(description="job", ordering="job__name")
    def job_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:jobs_job_change", args=[obj.job_id]), obj.job.name
        )

    @admin.display(description="duration", ordering="duration_seconds")
    def duration(self, obj):
        return "—" if obj.duration_seconds is None else f"{obj.duration_seconds:.2f} s"

    @admin.display(description="following")
    def github_following(self, obj):
        """Whether cronhub still looks the run up, and when next (docs/execution.md)."""
        if not obj.followed:
            return "—"
        if obj.github_follow_next_at is None:
            return f"followed from {obj.github_follow_started_at:%Y-%m-%d %H:%M:%S} UTC; done"
        text = (f"followed since {obj.github_follow_started_at:%Y-%m-%d %H:%M:%S} UTC; "
                f"{obj.github_follow_polls} lookup(s); next at {obj.github_follow_next_at:%H:%M:%S} UTC")
        if obj.github_follow_error:
            text += f"; last problem: {obj.github_follow_error}"
        return text

    @admin.display(description="lateness")
    def lateness(self, obj):
        seconds = obj.lateness_seconds
        return "—" if seconds is None else f"{seconds:.1f} s"
