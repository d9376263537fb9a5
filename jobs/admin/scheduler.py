"""The scheduler's internals, admins only and read-only, under "System": its heartbeat row
as the leader last wrote it, and django-apscheduler's tables (its own pages offered "Add"
and a "run selected jobs" action; neither is for hands)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_apscheduler.models import DjangoJob, DjangoJobExecution

from cronhub.admin import SystemAdmin
from jobs.models import SchedulerState

for _model in (DjangoJob, DjangoJobExecution):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(DjangoJob)
class DjangoJobAdmin(SystemAdmin):
    list_display = ["id", "next_run_time"]
    search_fields = ["id"]
    ordering = ["next_run_time"]
    exclude = ["job_state"]  # a pickled blob


@admin.register(DjangoJobExecution)
class DjangoJobExecutionAdmin(SystemAdmin):
    list_display = ["id", "job", "status", "run_time", "duration", "finished"]
    list_filter = ["status"]
    list_select_related = ["job"]
    ordering = ["-run_time"]


@admin.register(SchedulerState)
class SchedulerStateAdmin(SystemAdmin):
    list_display = [
        "__str__",
        "alive",
        "leader_since",
        "heartbeat_at",
        "last_reconcile_at",
        "scheduled_jobs_count",
    ]
    readonly_fields = [
        "host",
        "pid",
        "leader_since",
        "heartbeat_at",
        "last_reconcile_at",
        "scheduled_jobs_count",
        "next_runs_display",
        "resync_requested_at",
        "resync_completed_at",
        "last_resync_result",
        "stopped_at",
    ]
    fields = readonly_fields

    @admin.display(boolean=True, description=_("alive"))
    def alive(self, obj):
        return obj.is_alive()

    @admin.display(description=_("next runs (as the scheduler sees them)"))
    def next_runs_display(self, obj):
        rows = obj.next_runs if isinstance(obj.next_runs, list) else []
        if not rows:
            return "—"
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((str(row),) for row in rows[:20]))
        )
