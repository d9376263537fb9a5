"""How executions and their status show across the jobs admin; rows it never edits."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cronhub import clock
from jobs.models import ExecutionStatus
from jobs.run_history import STATUS_COLOURS  # one colour per status, on every page


def status_badge(status: str | None):
    if not status:
        return format_html('<span class="cronhub-status cronhub-status-none">{}</span>', _("never run"))
    return format_html(
        '<span class="cronhub-status cronhub-status-{}" style="color:{};font-weight:bold">{}</span>',
        status,
        STATUS_COLOURS.get(status, "#333"),
        ExecutionStatus(status).label if status in ExecutionStatus.values else status,
    )


def format_in_zone(moment: dt.datetime | None, zone: zoneinfo.ZoneInfo | None = None) -> str:
    """The one spelling of an instant (``cronhub/clock.py``), in the viewer's zone unless ``zone``."""
    return clock.show(moment, zone)


class ReadOnlyMixin:
    """Rows written only by the scheduler and the execution service: viewable, never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ExecutionColumnsMixin:
    """How an execution's status and GitHub run show, in the list and in the job's inline."""

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, obj):
        return status_badge(obj.status)

    @admin.display(description=_("GitHub run"))
    def github_run(self, obj):
        """A link to the run, with its conclusion (or status while it runs) when known."""
        state = obj.github_run_conclusion or obj.github_run_status
        if obj.github_run_url:
            if state:
                return format_html(
                    '<a href="{}" target="_blank" rel="noopener">#{}</a> ({})',
                    obj.github_run_url, obj.github_run_id or "run", state,
                )
            return format_html(
                '<a href="{}" target="_blank" rel="noopener">#{}</a>',
                obj.github_run_url,
                obj.github_run_id or "run",
            )
        if obj.github_run_id:
            return f"#{obj.github_run_id}" + (f" ({state})" if state else "")
        return "—"
