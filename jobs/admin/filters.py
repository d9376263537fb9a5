"""List filters of the jobs and executions pages."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone

from jobs import dashboard
from jobs.models import ExecutionStatus, scheduler_today
from taxonomy.models import JobCategory, PicTeam


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


class GithubConclusionFilter(admin.SimpleListFilter):
    """Executions by the conclusion of their GitHub workflow run."""

    title = "GitHub run conclusion"
    parameter_name = "github_conclusion"

    # GitHub's conclusions (a fixed list: no scan of the executions table per page).
    CONCLUSIONS = ("success", "failure", "cancelled", "timed_out", "skipped", "startup_failure",
                   "action_required", "neutral", "stale")

    def lookups(self, request, model_admin):
        return [(value, value) for value in self.CONCLUSIONS]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(github_run_conclusion=self.value())
        return queryset
