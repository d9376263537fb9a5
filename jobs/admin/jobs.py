"""The job pages.

List: schedule with its description, next run in the job's zone, last run
status (one subquery, so the page costs the same for 10 or 1,000 jobs), end
dates highlighted, run-now / pause / resume / export. Form: grouped fields, live cron
description and next fire times (``views.cron_help`` +
``static/jobs/admin/cron_help.js``), the last executions read-only; clone; history.

Who may do what is ``cronhub.permissions``: every role reads every job, writers
create, owners (and admins) change, pause, run and delete theirs; anything else is
a 403 and changes nothing. Webhook URLs show in full only to the job's owner and admins.
"""

from __future__ import annotations

import datetime as dt
import json

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cronhub import permissions
from cronhub.admin import HistoryMixin, RoleAdmin
from jobs import dashboard, rules, run_history
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
from jobs.selectors import job_history_masker
from jobs.services.exports import jobs_export_csv, jobs_export_json, target_url_for
from jobs.services.writes import job_create, job_delete, job_update

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

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_executions(request.user)


# --- jobs --------------------------------------------------------------------------------------------


def _job_action_rule(name: str):
    """The rule each list action asks of every selected job."""
    return {
        "run_now": permissions.can_run_job,
        "pause_jobs": permissions.can_change_job,
        "resume_jobs": permissions.can_change_job,
        "delete_selected": permissions.can_delete_job,
    }.get(name, lambda user, job: permissions.can_view_job(user, job))


@admin.register(Job)
class JobAdmin(HistoryMixin, RoleAdmin):
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
    actions = ["run_now", "pause_jobs", "resume_jobs", "export_csv", "export_json"]
    readonly_fields = ["id", "created_at", "updated_at", "end_date_reminded_for"]
    raw_id_fields = ["created_by"]
    inlines = [RecentExecutionInline]
    fieldsets = [
        *FIELDSETS,
        (_("Record"), {"fields": ["id", "created_at", "updated_at", "end_date_reminded_for"],
                    "classes": ["collapse"]}),
    ]

    view_rule = staticmethod(permissions.can_view_jobs)
    add_rule = staticmethod(permissions.can_create_job)
    change_rule = staticmethod(permissions.can_change_job)
    delete_rule = staticmethod(permissions.can_delete_job)

    # --- who sees what ---------------------------------------------------------------------
    def get_search_fields(self, request):
        # Searching inside webhook URLs would reveal them piece by piece: admins only.
        if permissions.is_admin(request.user):
            return self.search_fields
        return [name for name in self.search_fields if name != "target_url"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not permissions.is_admin(request.user):
            fields += ["created_by", "owner"]  # a user's jobs are its own
        if obj is not None and not permissions.can_view_job_secrets(request.user, obj):
            fields.append("webhook_url")
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:  # new jobs are always active (as in the API)
            fieldsets = [
                (name, {**opts, "fields": [f for f in opts["fields"] if f != "is_active"]})
                for name, opts in fieldsets
            ]
        shown = {}
        if obj is not None and not permissions.can_view_job_secrets(request.user, obj):
            shown["target_url"] = "webhook_url"
        if not permissions.is_admin(request.user):
            shown["created_by"] = "owner"  # a name, not a link to a user page they may not open
        if shown:
            fieldsets = [
                (name, {**opts, "fields": [shown.get(f, f) for f in opts["fields"]]})
                for name, opts in fieldsets
            ]
        return fieldsets

    @admin.display(description=_("target URL"))
    def webhook_url(self, obj):
        return target_url_for(None, obj) or "—"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        can_add_team = permissions.can_manage_taxonomy(request.user)

        class BoundToRequest(form_class):
            def __init__(self, *args, **inner):
                super().__init__(*args, can_add_team=can_add_team, **inner)

        return BoundToRequest

    def history_mask(self, request, obj):
        return job_history_masker(request.user, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        extra_context = {
            **(extra_context or {}),
            "can_run": obj is not None and permissions.can_run_job(request.user, obj),
            "can_clone": obj is not None and permissions.can_create_job(request.user),
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_import": permissions.can_import_jobs(request.user),
            "can_export": permissions.can_export_jobs(request.user),
        }
        return super().changelist_view(request, extra_context)

    def response_action(self, request, queryset):
        """A list action runs only if the role may use it on every selected job; otherwise
        nothing is done and the answer is a 403."""
        name = request.POST.get("action", "")
        if name:
            if request.POST.get("select_across", "0") == "0":
                queryset = queryset.filter(pk__in=request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))
            rule = _job_action_rule(name)
            if not all(rule(request.user, job) for job in queryset):
                raise PermissionDenied
        return super().response_action(request, queryset)

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
            path("export/", wrap(self.export_view), name="jobs_job_export"),
            path("<path:object_id>/run-now/", wrap(self.run_now_view), name="jobs_job_run_now"),
            path("<path:object_id>/clone/", wrap(self.clone_view), name="jobs_job_clone"),
            *super().get_urls(),
        ]

    def calendar_view(self, request):
        return calendar.upcoming_runs(request, model_admin=self)

    def import_view(self, request):
        if not permissions.can_import_jobs(request.user):
            raise PermissionDenied
        return views.job_import(request, model_admin=self)

    def export_view(self, request):
        """Every job, as the CSV the import reads (``?type=csv``) or as JSON (``?type=json``)."""
        if not permissions.can_export_jobs(request.user):
            raise PermissionDenied
        return self._export(request, Job.objects.all(), request.GET.get("type", "csv"))

    def _export(self, request, jobs, kind: str) -> HttpResponse:
        if kind == "json":
            body = json.dumps(jobs_export_json(jobs, user=request.user), ensure_ascii=False, indent=2)
            response = HttpResponse(body, content_type="application/json; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="cronhub-jobs.json"'
            return response
        # A BOM, so spreadsheets read the UTF-8 (Japanese names) right; the import skips it.
        response = HttpResponse("\ufeff" + jobs_export_csv(jobs, user=request.user),
                                content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="cronhub-jobs.csv"'
        return response

    def run_now_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        job = get_object_or_404(Job, pk=object_id)
        if not permissions.can_run_job(request.user, job):
            raise PermissionDenied
        self._run_now(request, [job])
        return HttpResponseRedirect(reverse("admin:jobs_job_change", args=[job.pk]))

    def clone_view(self, request, object_id):
        """The add form, filled in from the job, under a free "(copy)" name."""
        job = get_object_or_404(Job, pk=object_id)
        if not (permissions.can_create_job(request.user) and permissions.can_view_job(request.user, job)):
            raise PermissionDenied
        return HttpResponseRedirect(reverse("admin:jobs_job_add") + "?" + urlencode({"_clone": job.pk}))

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_changeform_initial_data(self, request):
        initial = {"metadata": {}, **super().get_changeform_initial_data(request)}
        initial.pop("_clone", None)
        source = request.GET.get("_clone")
        if source:
            job = Job.objects.filter(pk=source).first()
            if job is not None and permissions.can_view_job(request.user, job):
                initial.update(self._clone_initial(request, job))
        return initial

    @staticmethod
    def _clone_initial(request, job: Job) -> dict:
        # A webhook URL the cloner may not see is left empty, to be typed in again.
        target_url = job.target_url if permissions.can_view_job_secrets(request.user, job) else ""
        return {
            "name": rules.copy_name(job.name),
            "cron_expression": job.cron_expression,
            "timezone": job.timezone,
            "end_date": job.end_date,
            "target_url": target_url,
            "github_owner": job.github_owner,
            "github_repo": job.github_repo,
            "github_workflow_name": job.github_workflow_name,
            "metadata": job.metadata_dict,
            "enable_email_notifications": job.enable_email_notifications,
            "notification_emails": ", ".join(job.notification_email_list),
            "notify_on_success": job.notify_on_success,
            "category": job.category,
            "pic_team": job.pic_team,
        }

    def get_deleted_objects(self, objs, request):
        # A job's executions go with it (the API's delete); whoever may delete the job may
        # delete them, though the executions page itself offers no delete.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if all(permissions.can_delete_job(request.user, job) for job in objs):
            perms_needed = set()
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        job_delete(job=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for job in queryset:
            job_delete(job=job, user=request.user)

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

    @admin.action(description=_("Run now (in the background)"), permissions=["change"])
    def run_now(self, request, queryset):
        self._run_now(request, list(queryset))

    @admin.action(description=_("Export selected as CSV (the import's format)"), permissions=["view"])
    def export_csv(self, request, queryset):
        return self._export(request, queryset, "csv")

    @admin.action(description=_("Export selected as JSON"), permissions=["view"])
    def export_json(self, request, queryset):
        return self._export(request, queryset, "json")

    @admin.action(description=_("Pause selected jobs"), permissions=["change"])
    def pause_jobs(self, request, queryset):
        result = actions.jobs_set_active(jobs=list(queryset), active=False, user=request.user)
        self.message_user(request, gettext("Paused %(changed)s job(s); %(unchanged)s already paused.") % {
            "changed": len(result.changed), "unchanged": len(result.unchanged)}, messages.SUCCESS)

    @admin.action(description=_("Resume selected jobs"), permissions=["change"])
    def resume_jobs(self, request, queryset):
        result = actions.jobs_set_active(jobs=list(queryset), active=True, user=request.user)
        self.message_user(request, gettext("Resumed %(changed)s job(s); %(unchanged)s already active.") % {
            "changed": len(result.changed), "unchanged": len(result.unchanged)}, messages.SUCCESS)
        self._tell(request, result.refused_expired,
                   gettext("Not resumed (past end date): {names}. Update end_date first."), messages.WARNING)
