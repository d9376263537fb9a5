"""The staff console for jobs and executions.

Job list: schedule with its description, next run in the job's zone, last run
status (one subquery, so the page costs the same for 10 or 1,000 jobs), end
dates highlighted, run-now / pause / resume. Job form: grouped fields, cron
checked by the same engine as the API, live description and next fire times
(``jobs/admin_views.cron_help`` + ``static/jobs/admin/cron_help.js``).
Executions are read-only: they are history.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import OuterRef, Q, Subquery
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from cronhub.errors import CronhubError
from cronhub.forms import add_domain_error
from jobs import admin_actions, admin_views, cron, dashboard, rules
from jobs.models import ExecutionStatus, Job, JobExecution, SchedulerState, scheduler_today
from jobs.services.writes import job_create, job_update
from taxonomy.models import JobCategory, PicTeam

STATUS_COLOURS = {
    ExecutionStatus.SUCCESS: "#2e7d32",
    ExecutionStatus.FAILED: "#c62828",
    ExecutionStatus.MISSED: "#ef6c00",
    ExecutionStatus.SKIPPED: "#757575",
    ExecutionStatus.RUNNING: "#1565c0",
}


def status_badge(status: str | None):
    if not status:
        return format_html('<span class="cronhub-status cronhub-status-none">{}</span>', "never run")
    return format_html(
        '<span class="cronhub-status cronhub-status-{}" style="color:{};font-weight:bold">{}</span>',
        status,
        STATUS_COLOURS.get(status, "#333"),
        status,
    )


def format_in_zone(moment: dt.datetime | None, zone: zoneinfo.ZoneInfo | None = None) -> str:
    if moment is None:
        return "—"
    if zone is not None:
        moment = moment.astimezone(zone)
    return moment.strftime("%Y-%m-%d %H:%M %Z")


# --- list filters ------------------------------------------------------------------------


class ReadOnlyMixin:
    """Rows written only by the scheduler and the execution service: viewable, never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ExecutionColumnsMixin:
    """How an execution's status and GitHub run show, in the list and in the job's inline."""

    @admin.display(description="status", ordering="status")
    def status_display(self, obj):
        return status_badge(obj.status)

    @admin.display(description="GitHub run")
    def github_run(self, obj):
        if obj.github_run_url:
            return format_html(
                '<a href="{}" target="_blank" rel="noopener">#{}</a>',
                obj.github_run_url,
                obj.github_run_id or "run",
            )
        return "—"


class SlugFilter(admin.SimpleListFilter):
    """Jobs by a soft slug reference (category or PIC team), choices named from their table."""

    model: type

    def lookups(self, request, model_admin):
        return [(row.slug, row.name) for row in self.model.objects.order_by("name")]

    def queryset(self, request, queryset):
        return queryset.filter(**{self.parameter_name: self.value()}) if self.value() else queryset


class CategoryFilter(SlugFilter):
    title = "category"
    parameter_name = "category"
    model = JobCategory


class PicTeamFilter(SlugFilter):
    title = "PIC team"
    parameter_name = "pic_team"
    model = PicTeam


def _github_q() -> Q:
    filled = Q()
    for name in ("github_owner", "github_repo", "github_workflow_name"):
        filled &= Q(**{f"{name}__isnull": False}) & ~Q(**{name: ""})
    return filled


class TargetTypeFilter(admin.SimpleListFilter):
    title = "target type"
    parameter_name = "target"

    def lookups(self, request, model_admin):
        return [("github_actions", "GitHub Actions"), ("webhook", "Webhook")]

    def queryset(self, request, queryset):
        # Same precedence as Job.execution_type: complete GitHub config wins.
        if self.value() == "github_actions":
            return queryset.filter(_github_q())
        if self.value() == "webhook":
            return queryset.exclude(_github_q()).filter(target_url__isnull=False).exclude(target_url="")
        return queryset


class LastStatusFilter(admin.SimpleListFilter):
    title = "last run status"
    parameter_name = "last_status"

    def lookups(self, request, model_admin):
        return [*ExecutionStatus.choices, ("never", "Never run")]

    def queryset(self, request, queryset):
        if self.value() == "never":
            return queryset.filter(last_status__isnull=True)
        if self.value() in ExecutionStatus.values:
            return queryset.filter(last_status=self.value())
        return queryset


class EndDateFilter(admin.SimpleListFilter):
    title = "end date"
    parameter_name = "ending"

    def lookups(self, request, model_admin):
        return [
            ("soon", f"Ending within {dashboard.ENDING_SOON_DAYS} days"),
            ("expired", "Expired"),
            ("none", "No end date"),
        ]

    def queryset(self, request, queryset):
        today = scheduler_today()
        if self.value() == "soon":
            return queryset.filter(
                end_date__gte=today, end_date__lte=today + dt.timedelta(days=dashboard.ENDING_SOON_DAYS)
            )
        if self.value() == "expired":
            return queryset.filter(end_date__lt=today)
        if self.value() == "none":
            return queryset.filter(end_date__isnull=True)
        return queryset


# --- job form --------------------------------------------------------------------------------


def _timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


# The form's fields in the order an API body lists them.
API_FIELDS = [
    "name",
    "cron_expression",
    "end_date",
    "target_url",
    "github_owner",
    "github_repo",
    "github_workflow_name",
    "metadata",
    "category",
    "pic_team",
    "enable_email_notifications",
    "notification_emails",
    "notify_on_success",
    "is_active",
    *(f.name for f in rules.FIELDS),
]


class JobAdminForm(forms.ModelForm):
    """The admin's job form. Its values are checked by the job rules (the API's and
    the CSV import's: same checks, same order, same messages, each on its field)
    and saved once by ``jobs.services.writes`` (same notifications), so an admin
    edit is an API edit."""

    timezone = forms.ChoiceField(choices=_timezone_choices, initial=lambda: settings.SCHEDULER_TIMEZONE)
    category = forms.ChoiceField(choices=(), initial="general")
    pic_team = forms.ChoiceField(choices=(), label="PIC team")

    class Meta:
        model = Job
        fields = [
            "name",
            "is_active",
            "cron_expression",
            "timezone",
            "end_date",
            "target_url",
            "github_owner",
            "github_repo",
            "github_workflow_name",
            "metadata",
            "enable_email_notifications",
            "notification_emails",
            "notify_on_success",
            "category",
            "pic_team",
            "created_by",
        ]
        widgets = {
            "cron_expression": forms.TextInput(
                attrs={
                    "class": "vTextField cronhub-cron-input",
                    "autocomplete": "off",
                    "spellcheck": "false",
                    "placeholder": "e.g. 0 9 * * 1-5",
                }
            ),
            "notification_emails": forms.TextInput(attrs={"class": "vTextField"}),
        }
        help_texts = {
            "cron_expression": "Five fields: minute hour day-of-month month day-of-week (classic cron; "
            "0 and 7 are Sunday).",
            "target_url": "A webhook URL (http:// or https://), or owner/repo/workflow for GitHub Actions.",
            "end_date": "The last day the job runs (scheduler time zone).",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.api_data: dict = {}
        adding = self.instance._state.adding
        # Empty values reach the API's checks so the messages are the API's, not Django's.
        for name in ("name", "cron_expression", "end_date"):
            if name in self.fields:
                self.fields[name].required = False
        current_category = None if adding else self.instance.category
        categories = [(c.slug, c.name) for c in JobCategory.objects.order_by("name")]
        if not any(slug == "general" for slug, _ in categories):
            categories.insert(0, ("general", "General"))
        if current_category and not any(slug == current_category for slug, _ in categories):
            categories.append((current_category, f"{current_category} (unknown)"))
        self.fields["category"].choices = categories

        current_team = None if adding else self.instance.pic_team
        teams = [("", "---------")] + [
            (t.slug, t.name if t.is_active else f"{t.name} (disabled)")
            for t in PicTeam.objects.filter(Q(is_active=True) | Q(slug=current_team or "")).order_by("name")
        ]
        if current_team and not any(slug == current_team for slug, _ in teams):
            teams.append((current_team, f"{current_team} (unknown)"))
        self.fields["pic_team"].choices = teams

    def clean_cron_expression(self):
        # Checked here too so a bad cron is reported even when another field is also wrong.
        expression = (self.cleaned_data.get("cron_expression") or "").strip()
        message = cron.validate(expression)
        if message:
            raise forms.ValidationError(message)
        return expression

    def api_body(self) -> dict:
        """The form as an API request body: every field on create, the changed ones on update."""
        adding = self.instance._state.adding
        body = {}
        for key in API_FIELDS:
            if key not in self.fields or (not adding and key not in self.changed_data):
                continue
            value = self.cleaned_data.get(key)
            if key == "end_date":
                value = value.isoformat() if value else None
            elif key == "notification_emails":
                value = [item.strip() for item in (value or "").split(",") if item.strip()]
            body[key] = value
        if not adding and "notification_emails" in body and "enable_email_notifications" not in body:
            body["enable_email_notifications"] = self.cleaned_data.get("enable_email_notifications")
        return body

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        body = self.api_body()
        try:
            if self.instance._state.adding:
                self.api_data = rules.clean_create(body)
            else:
                self.api_data = rules.clean_update(self.instance, body)
        except CronhubError as error:
            add_domain_error(self, error)
            return data
        owner_changed = self.instance._state.adding or "created_by" in self.changed_data
        if owner_changed and data.get("created_by") is not None:
            self.api_data["created_by"] = data["created_by"]
        return data


class CronHelpMedia:
    js = ("jobs/admin/cron_help.js",)
    css = {"all": ("jobs/admin/admin.css",)}


# --- executions inline ---------------------------------------------------------------------------

RECENT_EXECUTIONS = 10


class RecentExecutionsFormSet(BaseInlineFormSet):
    def get_queryset(self):
        # The inline shows history, not all of it: slicing after the formset's own
        # filter keeps the page one query whatever the job's age.
        return super().get_queryset().order_by("-started_at")[:RECENT_EXECUTIONS]


class RecentExecutionInline(ReadOnlyMixin, ExecutionColumnsMixin, admin.TabularInline):
    model = JobExecution
    formset = RecentExecutionsFormSet
    verbose_name_plural = f"Last {RECENT_EXECUTIONS} executions"
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
        (None, {"fields": ["name", "is_active"]}),
        (
            "Schedule",
            {
                "fields": ["cron_expression", "timezone", "end_date"],
                "description": "Fire times follow classic cron on the wall clock of the job's time zone.",
            },
        ),
        (
            "Target",
            {"fields": ["target_url", "github_owner", "github_repo", "github_workflow_name", "metadata"]},
        ),
        (
            "Notifications",
            {"fields": ["enable_email_notifications", "notification_emails", "notify_on_success"]},
        ),
        ("Ownership", {"fields": ["category", "pic_team", "created_by"]}),
        (
            "Record",
            {"fields": ["id", "created_at", "updated_at", "end_date_reminded_for"], "classes": ["collapse"]},
        ),
    ]

    def get_queryset(self, request):
        latest = JobExecution.objects.filter(job=OuterRef("pk")).order_by("-started_at")
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_status=Subquery(latest.values("status")[:1]),
                last_started_at=Subquery(latest.values("started_at")[:1]),
            )
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("cron-help/", wrap(admin_views.cron_help), name="jobs_job_cron_help"),
            path("import/", wrap(self.import_view), name="jobs_job_import"),
            path("<path:object_id>/run-now/", wrap(self.run_now_view), name="jobs_job_run_now"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        return admin_views.job_import(request, model_admin=self)

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
    @admin.display(description="schedule", ordering="cron_expression")
    def schedule(self, obj):
        return format_html(
            '<code>{}</code><br><span class="cronhub-describe">{}</span>',
            obj.cron_expression,
            obj.describe_schedule(),
        )

    @admin.display(description="next run")
    def next_run(self, obj):
        if not obj.is_active:
            return "paused"
        if obj.is_expired():
            return "expired"
        return format_in_zone(obj.next_execution_at(), obj.zone)

    @admin.display(description="last run", ordering="last_started_at")
    def last_run(self, obj):
        status = getattr(obj, "last_status", None)
        if not status:
            return status_badge(None)
        return format_html(
            "{}<br><small>{}</small>", status_badge(status), format_in_zone(obj.last_started_at, obj.zone)
        )

    @admin.display(description="owner", ordering="created_by__username")
    def owner(self, obj):
        return obj.created_by.username if obj.created_by else "—"

    @admin.display(description="end date", ordering="end_date")
    def end_date_display(self, obj):
        if obj.end_date is None:
            return "—"
        today = scheduler_today()
        if obj.end_date < today:
            return format_html(
                '<span class="cronhub-end cronhub-end-expired" title="expired">{} (expired)</span>',
                obj.end_date.isoformat(),
            )
        if obj.end_date <= today + dt.timedelta(days=dashboard.ENDING_SOON_DAYS):
            days = (obj.end_date - today).days
            return format_html(
                '<span class="cronhub-end cronhub-end-soon" title="ending soon">{} (in {} d)</span>',
                obj.end_date.isoformat(),
                days,
            )
        return obj.end_date.isoformat()

    # --- actions -------------------------------------------------------------------------
    def _run_now(self, request, jobs):
        result = admin_actions.jobs_run_now(jobs=jobs)
        if result.started:
            names = ", ".join(job.name for job in result.started)
            self.message_user(
                request,
                f"Started {len(result.started)} run(s) in the background: {names}. "
                "Their executions appear below and in Job executions when they finish.",
                messages.SUCCESS,
            )
        if result.refused_expired:
            names = ", ".join(job.name for job in result.refused_expired)
            self.message_user(
                request,
                f"Not run (past end date, now paused): {names}. Update end_date first.",
                messages.WARNING,
            )

    @admin.action(description="Run now (in the background)")
    def run_now(self, request, queryset):
        self._run_now(request, list(queryset))

    @admin.action(description="Pause selected jobs")
    def pause_jobs(self, request, queryset):
        result = admin_actions.jobs_set_active(jobs=list(queryset), active=False, user=request.user)
        self.message_user(
            request,
            f"Paused {len(result.changed)} job(s); {len(result.unchanged)} already paused.",
            messages.SUCCESS,
        )

    @admin.action(description="Resume selected jobs")
    def resume_jobs(self, request, queryset):
        result = admin_actions.jobs_set_active(jobs=list(queryset), active=True, user=request.user)
        self.message_user(
            request,
            f"Resumed {len(result.changed)} job(s); {len(result.unchanged)} already active.",
            messages.SUCCESS,
        )
        if result.refused_expired:
            names = ", ".join(job.name for job in result.refused_expired)
            self.message_user(
                request, f"Not resumed (past end date): {names}. Update end_date first.", messages.WARNING
            )


# --- executions ----------------------------------------------------------------------------------


class ExecutionDateFilter(admin.SimpleListFilter):
    title = "started"
    parameter_name = "started"

    def lookups(self, request, model_admin):
        return [("24h", "Last 24 hours"), ("7d", "Last 7 days"), ("30d", "Last 30 days")]

    def queryset(self, request, queryset):
        spans = {"24h": dt.timedelta(hours=24), "7d": dt.timedelta(days=7), "30d": dt.timedelta(days=30)}
        if self.value() in spans:
            return queryset.filter(started_at__gte=timezone.now() - spans[self.value()])
        return queryset


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

    @admin.display(description="lateness")
    def lateness(self, obj):
        seconds = obj.lateness_seconds
        return "—" if seconds is None else f"{seconds:.1f} s"


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

    @admin.display(boolean=True, description="alive")
    def alive(self, obj):
        return obj.is_alive()

    @admin.display(description="next runs (as the scheduler sees them)")
    def next_runs_display(self, obj):
        rows = obj.next_runs if isinstance(obj.next_runs, list) else []
        if not rows:
            return "—"
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((str(row),) for row in rows[:20]))
        )
