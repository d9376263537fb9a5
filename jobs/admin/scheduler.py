"""The scheduler's heartbeat row, as the leader last wrote it."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from jobs.admin.display import ReadOnlyMixin
from jobs.models import SchedulerState


@admin.register(SchedulerState)
class SchedulerStateAdmin(ReadOnlyMixin, admin.ModelAdmin):
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
