"""Executions are history: listed and shown, never edited."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from jobs.admin.display import ExecutionColumnsMixin, ReadOnlyMixin
from jobs.admin.filters import (
    ExecutionDateFilter,
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
    list_filter = ["status", "trigger_type", ExecutionDateFilter, "execution_type"]
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
        "output",
        "error_message",
        "attempts",
        "wait_reason",
        "next_attempt_at",
        "rate_limit_wait_seconds",
        "attempts_table",
    ]
    readonly_fields = fields

    @admin.display(description="attempt log")
    def attempts_table(self, obj):
        entries = obj.attempt_log or []
        if not entries:
            return "—"
        return format_html_join(
            "\n", "<div>{} · {} · {} · {}{}</div>",
            ((entry.get("attempt") or "–", entry.get("at") or "", entry.get("outcome") or "",
              entry.get("status") if entry.get("status") is not None else (entry.get("error") or ""),
              f" → retry at {entry['retry_at']}" if entry.get("retry_at") else "")
             for entry in entries))

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

    @admin.display(description="lateness")
    def lateness(self, obj):
        seconds = obj.lateness_seconds
        return "—" if seconds is None else f"{seconds:.1f} s"
