"""The job pages.

List: schedule with its description, next run in the job's zone, last run
status (one subquery, so the page costs the same for 10 or 1,000 jobs), end
dates highlighted, run-now / pause / resume. Form: grouped fields, live cron
description and next fire times (``views.cron_help`` +
``static/jobs/admin/cron_help.js``), the last executions read-only.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jobs import dashboard, run_history
from jobs.admin import actions, calendar, views
from jobs.admin.display import ExecutionColumnsMixin, ReadOnlyMixin, format_in_zone, status_badge
from jobs.admin.filters import (
    CategoryFilter,
    EndDateFilter,
    LastStatusFilter,
    PicTeamFilter,
    TargetTypeFilter,
)
from jobs.admin.forms import FIELDSETS, CronHelpMedia, JobAdminForm
from jobs.models import Job, JobExecution, scheduler_today
from jobs.services.writes import job_create, job_update

RECENT_EXECUTIONS = 10


class RecentExecutionsFormSet(BaseInlineFormSet):
    def get_queryset(self):
        # The inline shows history, not all of it: slicing after the formset's own
        # filter keeps the page one query whatever the job's age.
        return super().get_queryset().order_by("-started_at")[:RECENT_EXECUTIONS]


class RecentExecutionInline(ReadOnlyMixin, ExecutionColumnsMixin, admin.TabularInline):
    model = JobExecution
    formset = RecentExecutionsFormSet
    verbose_name_plural = format_lazy(_("Last {count} executions"), count=RECENT_EXECUTIONS)
    fields = [
        "started_at",
        "status_display",
        "trigger_type",
        "scheduled_for",
        "duration_seconds",
        "response_status",
        "github_run",
    ]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True


# --- jobs --------------------------------------------------------------------------------------------


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    form = JobAdminForm
    Media = CronHelpMedia
    change_list_template = "admin/jobs/job/change_list.html"
    change_form_template = "admin/jobs/job/change_form.html"
    list_display = [
        "name",
        "schedule",
        "timezone",
        "next_run",
        "last_run",
        "category",
        "pic_team",
        "owner",
        "is_active",
        "end_date_display",
        "success_rate",
        "mean_duration",
    ]
    list_filter = [
        "is_active",
        CategoryFilter,
        PicTeamFilter,
        TargetTypeFilter,
        LastStatusFilter,
        EndDateFilter,
    ]
    list_select_related = ["created_by"]
    search_fields = ["name", "github_repo", "target_url"]
    ordering = ["name"]
    list_per_page = 50
    list_max_show_all = 1000
    actions = ["run_now", "pause_jobs", "resume_jobs"]
    readonly_fields = ["id", "created_at", "updated_at", "end_date_reminded_for"]
    raw_id_fields = ["created_by"]
    inlines = [RecentExecutionInline]
    fieldsets = [
        *FIELDSETS,
        (_("Record"), {"fields": ["id", "created_at", "updated_at", "end_date_reminded_for"],
                    "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        latest = JobExecution.objects.filter(job=OuterRef("pk")).order_by("-started_at")
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_status=Subquery(latest.values("status")[:1]),
                last_started_at=Subquery(latest.values("started_at")[:1]),
                **run_history.stats_annotations(now=timezone.now()),
            )
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        if job is not None:
            points = run_history.run_history(job)
            extra_context = {**(extra_context or {}),
                             "run_history_svg": run_history.history_svg(points) if points else "",
                             "run_history": run_history.history_summary(points),
                             "run_history_limit": run_history.HISTORY_RUNS}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("cron-help/", wrap(views.cron_help), name="jobs_job_cron_help"),
            path("calendar/", wrap(self.calendar_view), name="jobs_job_calendar"),
            path("import/", wrap(self.import_view), name="jobs_job_import"),
            path("<path:object_id>/run-now/", wrap(self.run_now_view), name="jobs_job_run_now"),
            *super().get_urls(),
        ]

    def calendar_view(self, request):
        return calendar.upcoming_runs(request, model_admin=self)

    def import_view(self, request):
        return views.job_import(request, model_admin=self)

    def run_now_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        job = get_object_or_404(Job, pk=object_id)
        self._run_now(request, [job])
        return HttpResponseRedirect(reverse("admin:jobs_job_change", args=[job.pk]))

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_changeform_initial_data(self, request):
        return {"metadata": {}, **super().get_changeform_initial_data(request)}

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:  # new jobs are always active (as in the API)
            fieldsets = [
                (name, {**opts, "fields": [f for f in opts["fields"] if f != "is_active"]})
                for name, opts in fieldsets
            ]
        return fieldsets

    def save_model(self, request, obj, form, change):
        if change:
            # A fresh copy: the form has already written its values onto ``obj``, and
            # job_update must see the job as it was to tell "Enabled" from "Updated".
            saved = job_update(job=Job.objects.get(pk=obj.pk), data=form.api_data, user=request.user)
        else:
            saved = job_create(data=form.api_data, user=request.user)
        # The admin goes on with ``obj`` (log entry, redirect): give it the saved state.
        for field in saved._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False

    # --- columns -----------------------------------------------------------------------
    @admin.display(description=_("schedule"), ordering="cron_expression")
    def schedule(self, obj):
        return format_html(
            '<code>{}</code><br><span class="cronhub-describe">{}</span>',
            obj.cron_expression,
            obj.describe_schedule(),
        )

    @admin.display(description=_("next run"))
    def next_run(self, obj):
        if not obj.is_active:
            return gettext("paused")
        if obj.is_expired():
            return gettext("expired")
        return format_in_zone(obj.next_execution_at())

    @admin.display(description=_("last run"), ordering="last_started_at")
    def last_run(self, obj):
        status = getattr(obj, "last_status", None)
        if not status:
            return status_badge(None)
        return format_html(
            "{}<br><small>{}</small>", status_badge(status), format_in_zone(obj.last_started_at)
        )

    @admin.display(description=_("success (30 d)"), ordering="stats_succeeded")
    def success_rate(self, obj):
        finished = getattr(obj, "stats_finished", 0)
        if not finished:
            return "—"
        return f"{100 * obj.stats_succeeded / finished:.0f}% ({obj.stats_succeeded}/{finished})"

    @admin.display(description=_("mean duration (30 d)"), ordering="stats_mean_duration")
    def mean_duration(self, obj):
        return run_history.seconds_text(getattr(obj, "stats_mean_duration", None))

    @admin.display(description=_("owner"), ordering="created_by__username")
    def owner(self, obj):
        return obj.created_by.username if obj.created_by else "—"

    @admin.display(description=_("end date"), ordering="end_date")
    def end_date_display(self, obj):
        if obj.end_date is None:
            return "—"
        today = scheduler_today()
        if obj.end_date < today:
            return format_html(
                '<span class="cronhub-end cronhub-end-expired" title="{}">{} ({})</span>',
                gettext("expired"), obj.end_date.isoformat(), gettext("expired"),
            )
        if obj.end_date <= today + dt.timedelta(days=dashboard.ENDING_SOON_DAYS):
            days = (obj.end_date - today).days
            return format_html(
                '<span class="cronhub-end cronhub-end-soon" title="{}">{} ({})</span>',
                gettext("ending soon"), obj.end_date.isoformat(),
                gettext("in %(days)s d") % {"days": days},
            )
        return obj.end_date.isoformat()

    # --- actions -------------------------------------------------------------------------
    def _tell(self, request, jobs, text: str, level=messages.SUCCESS) -> None:
        """One message naming ``jobs`` (``{count}`` and ``{names}`` in ``text``), if there are any."""
        if jobs:
            names = ", ".join(job.name for job in jobs)
            self.message_user(request, text.format(count=len(jobs), names=names), level)

    def _run_now(self, request, jobs):
        result = actions.jobs_run_now(jobs=jobs)
        self._tell(request, result.started, gettext(
            "Started {count} run(s) in the background: {names}. Their executions appear below and in Job "
            "executions when they finish."))
        self._tell(request, result.refused_expired,
                   gettext("Not run (past end date, now paused): {names}. Update end_date first."),
                   messages.WARNING)

    @admin.action(description=_("Run now (in the background)"))
    def run_now(self, request, queryset):
        self._run_now(request, list(queryset))

    @admin.action(description=_("Pause selected jobs"))
    def pause_jobs(self, request, queryset):
        result = actions.jobs_set_active(jobs=list(queryset), active=False, user=request.user)
        self.message_user(request, gettext("Paused %(changed)s job(s); %(unchanged)s already paused.") % {
            "changed": len(result.changed), "unchanged": len(result.unchanged)}, messages.SUCCESS)

    @admin.action(description=_("Resume selected jobs"))
    def resume_jobs(self, request, queryset):
        result = actions.jobs_set_active(jobs=list(queryset), active=True, user=request.user)
        self.message_user(request, gettext("Resumed %(changed)s job(s); %(unchanged)s already active.") % {
            "changed": len(result.changed), "unchanged": len(result.unchanged)}, messages.SUCCESS)
        self._tell(request, result.refused_expired,
                   gettext("Not resumed (past end date): {names}. Update end_date first."), messages.WARNING)
