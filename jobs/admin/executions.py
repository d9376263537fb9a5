"""Executions are history: listed and shown, never edited."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from cronhub import clock, permissions
from cronhub.admin import RoleAdmin, viewer
from integrations.models import mask_url, redact_url
from jobs.admin.display import ExecutionColumnsMixin, ReadOnlyMixin
from jobs.admin.filters import (
    ExecutionDateFilter,
    GithubConclusionFilter,
)
from jobs.models import JobExecution


@admin.register(JobExecution)
class JobExecutionAdmin(ReadOnlyMixin, ExecutionColumnsMixin, RoleAdmin):
    """Every role reads every run; nobody edits one; deleting is the admin's (retention
    does it otherwise). A webhook target shows in full to the job's owner and admins."""

    view_rule = staticmethod(permissions.can_view_executions)

    list_display = [
        "started_at",
        "job_link",
        "status_display",
        "trigger_type",
        "scheduled_for",
        "duration",
        "lateness",
        "target_display",
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
        "target_display",
        "response_status",
        "github_run",
        "github_run_status",
        "github_run_conclusion",
        "github_run_started_at",
        "github_run_completed_at",
        "github_run_attempt",
        "github_following",
        "output_display",
        "error_display",
        "attempts",
        "wait_reason",
        "next_attempt_at",
        "rate_limit_wait_seconds",
        "attempts_table",
    ]
    readonly_fields = fields

    @admin.display(description=_("attempt log"))
    def attempts_table(self, obj):
        entries = obj.attempt_log or []
        if not entries:
            return "—"
        return format_html_join(
            "\n", "<div>{} · {} · {} · {}{}</div>",
            ((entry.get("attempt") or "–", entry.get("at") or "", entry.get("outcome") or "",
              entry.get("status") if entry.get("status") is not None
              else (self._redacted(obj, entry.get("error")) or ""),
              _(" → retry at %(at)s") % {"at": entry["retry_at"]} if entry.get("retry_at") else "")
             for entry in entries))

    def get_search_fields(self, request):
        return self.search_fields if permissions.is_admin(request.user) else ["job__name"]

    def _redacted(self, obj, text):
        if obj.execution_type == "webhook" and not permissions.can_view_job_secrets(viewer(), obj.job):
            return redact_url(text, obj.target)
        return text

    @admin.display(description=_("output"))
    def output_display(self, obj):
        return self._redacted(obj, obj.output) or "—"

    @admin.display(description=_("error message"))
    def error_display(self, obj):
        return self._redacted(obj, obj.error_message) or "—"

    @admin.display(description=_("target"), ordering="target")
    def target_display(self, obj):
        if obj.execution_type == "webhook" and not permissions.can_view_job_secrets(viewer(), obj.job):
            return mask_url(obj.target) or "—"
        return obj.target or "—"

    @admin.display(description=_("job"), ordering="job__name")
    def job_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:jobs_job_change", args=[obj.job_id]), obj.job.name
        )

    @admin.display(description=_("duration"), ordering="duration_seconds")
    def duration(self, obj):
        return "—" if obj.duration_seconds is None else _("%(n).2f s") % {"n": obj.duration_seconds}

    @admin.display(description=_("following"))
    def github_following(self, obj):
        """Whether cronhub still looks the run up, and when next (docs/execution.md)."""
        if not obj.followed:
            return "—"
        if obj.github_follow_next_at is None:
            return _("followed from %(start)s; done") % {"start": clock.show(obj.github_follow_started_at)}
        text = _("followed since %(start)s; %(polls)s lookup(s); next at %(next)s") % {
            "start": clock.show(obj.github_follow_started_at), "polls": obj.github_follow_polls,
            "next": clock.show(obj.github_follow_next_at)}
        if obj.github_follow_error:
            text += _("; last problem: %(problem)s") % {"problem": obj.github_follow_error}
        return text

    @admin.display(description=_("lateness"))
    def lateness(self, obj):
        seconds = obj.lateness_seconds
        return "—" if seconds is None else _("%(n).1f s") % {"n": seconds}
