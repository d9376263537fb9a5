"""Read queries for the jobs and executions API, each a constant number of queries.

``GET /jobs`` returns every job with its next fire time. Jobs share a handful of
schedules, so next fire times are cached per (expression, zone): a cached value
computed at instant ``t`` stays correct for every ``now`` in ``[t, next)``, because
no fire time lies in between — so the cache never has to be invalidated.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import zoneinfo
from dataclasses import dataclass

from django.db.models import Avg, Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from cronhub import audit
from cronhub.permissions import can_view_job_secrets
from integrations.models import mask_url
from jobs import cron
from jobs.models import Job, JobExecution

_NEXT_CACHE: dict[tuple[str, str], tuple[dt.datetime, dt.datetime | None]] = {}
_NEXT_CACHE_LOCK = threading.Lock()
_NEXT_CACHE_MAX = 20_000
_NEVER = object()


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def next_fire_after(expression: str, zone_name: str, now: dt.datetime) -> dt.datetime | None:
    """First fire time strictly after ``now``; None when unparsable or never firing."""
    key = (expression, zone_name)
    cached = _NEXT_CACHE.get(key)
    if cached is not None:
        computed_at, upcoming = cached
        if computed_at <= now and (upcoming is None or now < upcoming):
            return upcoming
    zone = _zone(zone_name)
    try:
        schedule = cron.parse(expression) if zone is not None else None
    except cron.CronError:
        schedule = None
    if schedule is None:
        upcoming = None
        now = dt.datetime.min.replace(tzinfo=dt.UTC)  # an invalid expression stays invalid
    else:
        upcoming = schedule.next_fire_time(zone, now)
    with _NEXT_CACHE_LOCK:
        if len(_NEXT_CACHE) >= _NEXT_CACHE_MAX:
            _NEXT_CACHE.clear()
        _NEXT_CACHE[key] = (now, upcoming)
    return upcoming


def job_next_execution_at(job: Job | dict, now: dt.datetime | None = None) -> dt.datetime | None:
    """Null for inactive jobs; set for active ones even past their end date (the scheduler pauses those).
    ``job`` is a Job or a column dict of one."""
    if isinstance(job, dict):
        active, expression, zone = job["is_active"], job["cron_expression"], job["timezone"]
    else:
        active, expression, zone = job.is_active, job.cron_expression, job.timezone
    if not active:
        return None
    return next_fire_after(expression, zone, now or timezone.now())


def _last_started_subquery():
    return Subquery(
        JobExecution.objects.filter(job=OuterRef("pk")).order_by("-started_at").values("started_at")[:1]
    )


def job_list() -> QuerySet[Job]:
    """Every job, newest first, with ``last_execution_at`` (one query; index seek per job)."""
    return Job.objects.annotate(last_execution_at=_last_started_subquery()).order_by("-created_at")


def job_list_rows(columns: tuple[str, ...]):
    """``job_list()`` as column dicts: skips model instances, the bulk of the list's cost."""
    return job_list().values(*columns, "last_execution_at")


def job_get(job_id: str) -> Job | None:
    return job_list().filter(pk=job_id).first()


# --- executions ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ExecutionFilters:
    job_id: str | None = None
    statuses: tuple[str, ...] = ()
    trigger_type: str | None = None
    execution_type: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None

    def apply(self, queryset: QuerySet[JobExecution]) -> QuerySet[JobExecution]:
        if self.job_id:
            queryset = queryset.filter(job_id=self.job_id)
        if self.statuses:
            queryset = queryset.filter(status__in=self.statuses)
        if self.trigger_type:
            queryset = queryset.filter(trigger_type=self.trigger_type)
        if self.execution_type:
            queryset = queryset.filter(execution_type=self.execution_type)
        if self.start is not None:
            queryset = queryset.filter(started_at__gte=self.start)
        if self.end is not None:
            queryset = queryset.filter(started_at__lt=self.end)
        return queryset


def split_statuses(raw: str | None) -> tuple[str, ...]:
    """``failed,running`` → ("failed", "running"); blank items ignored."""
    return tuple(part.strip() for part in (raw or "").split(",") if part.strip())


@dataclass(frozen=True)
class ExecutionPage:
    executions: list[JobExecution]
    total: int
    page: int
    limit: int

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total / self.limit) if self.total else 0


def execution_page(filters: ExecutionFilters, *, page: int, limit: int) -> ExecutionPage:
    """One COUNT and one page query (job name and repo joined in), whatever the page size."""
    queryset = filters.apply(JobExecution.objects.all())
    total = queryset.count()
    offset = (page - 1) * limit
    rows = list(queryset.select_related("job").only(
        *(f.name for f in JobExecution._meta.concrete_fields), "job__name", "job__github_repo",
    ).order_by("-started_at", "-id")[offset:offset + limit]) if offset < total else []
    return ExecutionPage(rows, total, page, limit)


def job_executions(job: Job, filters: ExecutionFilters, *, limit: int) -> list[JobExecution]:
    return list(filters.apply(job.executions.all()).order_by("-started_at", "-id")[:limit])


def execution_statistics(filters: ExecutionFilters) -> dict:
    """Counts by status and the mean duration of every execution that has one.

    One query grouped by status, summed up here: it reads only ``status`` and
    ``duration_seconds``, which ``ix_job_executions_status_dur`` holds, so at a million rows
    PostgreSQL answers from that index (an index-only scan) instead of every wide row.
    """
    groups = list(filters.apply(JobExecution.objects.all()).order_by().values("status").annotate(
        runs=Count("*"), seconds=Sum("duration_seconds"), timed=Count("duration_seconds"),
    ))
    runs = {group["status"]: group["runs"] for group in groups}
    timed = sum(group["timed"] for group in groups)
    seconds = sum(group["seconds"] or 0.0 for group in groups)
    return {
        "total": sum(runs.values()),
        "success": runs.get("success", 0),
        "failed": runs.get("failed", 0),
        "running": runs.get("running", 0),
        "average": seconds / timed if timed else None,
    }


def job_execution_stats(job: Job) -> dict:
    """Per-job, all time: the mean duration counts successful runs only (as clients have always shown it)."""
    return job.executions.aggregate(
        total=Count("id"),
        success=Count("id", filter=Q(status="success")),
        failed=Count("id", filter=Q(status="failed")),
        running=Count("id", filter=Q(status="running")),
        average=Avg("duration_seconds", filter=Q(status="success", duration_seconds__isnull=False)),
    )


def latest_execution(job: Job) -> JobExecution | None:
    return job.executions.order_by("-started_at", "-id").first()


# --- history (audit trail) ------------------------------------------------------------------


@dataclass
class HistoryPage:
    entries: list[dict]
    total: int
    page: int
    limit: int

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total / self.limit) if self.total else 0


def job_history_masker(user, job: Job):
    """``mask(field, value)`` for ``cronhub.audit.entries``: a webhook URL in full only for
    callers allowed to see the job's secrets, else ``scheme://host/****``."""
    full = can_view_job_secrets(user, job)

    def mask(field: str, value):
        return value if full or field != "target_url" or not value else mask_url(value)

    return mask


def job_history(job: Job, *, user, page: int = 1, limit: int = 50) -> HistoryPage:
    """One page of the job's changes, newest first (two queries: the page and the count)."""
    rows = audit.history_rows(Job, job.pk)
    entries = audit.page_entries(rows, page=page, limit=limit, mask=job_history_masker(user, job))
    return HistoryPage(entries=entries, total=rows.count(), page=page, limit=limit)
def github_target_q() -> Q:
    """Jobs whose GitHub owner, repository and workflow are all filled (``Job.is_github``)."""
    filled = Q()
    for name in ("github_owner", "github_repo", "github_workflow_name"):
        filled &= Q(**{f"{name}__isnull": False}) & ~Q(**{name: ""})
    return filled


def jobs_of_target_type(queryset: QuerySet[Job], target_type: str | None) -> QuerySet[Job]:
    """``github_actions`` or ``webhook`` jobs, with ``Job.execution_type``'s precedence (a complete
    GitHub configuration wins); any other value leaves ``queryset`` as it is."""
    if target_type == "github_actions":
        return queryset.filter(github_target_q())
    if target_type == "webhook":
        return queryset.exclude(github_target_q()).filter(target_url__isnull=False).exclude(target_url="")
    return queryset
