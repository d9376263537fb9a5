"""Selectors for the admin dashboard: what runs next, what failed, what ends
soon, how the last 30 days went, and whether a scheduler is alive.

Every function runs a fixed number of queries whatever the number of jobs or
executions; fire times come from the same cron engine as the scheduler.
"""

from __future__ import annotations

import datetime as dt
import heapq
import zoneinfo
from dataclasses import dataclass
from html import escape

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from jobs.models import ExecutionStatus, Job, JobExecution, SchedulerState, scheduler_today

UPCOMING_LIMIT = 20
FAILURE_WINDOW = dt.timedelta(hours=24)
ENDING_SOON_DAYS = 30
CHART_DAYS = 30
CHART_STATUSES = (ExecutionStatus.SUCCESS, ExecutionStatus.FAILED, ExecutionStatus.MISSED)
CHART_COLOURS = {
    ExecutionStatus.SUCCESS: "#2e7d32",
    ExecutionStatus.FAILED: "#c62828",
    ExecutionStatus.MISSED: "#ef6c00",
}


@dataclass(frozen=True)
class UpcomingRun:
    at: dt.datetime  # in the job's zone
    job: Job


def scheduler_status(*, now: dt.datetime | None = None) -> dict:
    state = SchedulerState.objects.filter(pk=SchedulerState.SINGLETON_ID).first()
    alive = bool(state and state.is_alive(now))
    return {"state": state, "alive": alive}


def upcoming_runs(*, limit: int = UPCOMING_LIMIT, now: dt.datetime | None = None) -> list[UpcomingRun]:
    """The next ``limit`` fire times across all active, unexpired jobs.

    A k-way merge: one fire time per job, then the next one of whichever job
    fired earliest, so the work is one cron step per job plus ``limit``.
    Fire times after a job's end date (a calendar day in the scheduler zone)
    are left out: the scheduler will not run them.
    """
    now = now or timezone.now()
    today = scheduler_today(now)
    scheduler_zone = zoneinfo.ZoneInfo(settings.SCHEDULER_TIMEZONE)
    jobs = list(
        Job.objects.filter(is_active=True)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .select_related("created_by")
    )

    def next_after(job: Job, after: dt.datetime) -> dt.datetime | None:
        times = job.next_fire_times(1, after=after)
        if not times:
            return None
        if job.end_date is not None and times[0].astimezone(scheduler_zone).date() > job.end_date:
            return None
        return times[0]

    heap: list[tuple[dt.datetime, int, Job]] = []
    for index, job in enumerate(jobs):
        first = next_after(job, now)
        if first is not None:
            heap.append((first, index, job))
    heapq.heapify(heap)
    runs: list[UpcomingRun] = []
    while heap and len(runs) < limit:
        at, index, job = heapq.heappop(heap)
        runs.append(UpcomingRun(at=at, job=job))
        following = next_after(job, at)
        if following is not None:
            heapq.heappush(heap, (following, index, job))
    return runs


def recent_failures(*, now: dt.datetime | None = None, limit: int = 50) -> list[JobExecution]:
    since = (now or timezone.now()) - FAILURE_WINDOW
    return list(
        JobExecution.objects.filter(
            status__in=[ExecutionStatus.FAILED, ExecutionStatus.MISSED], started_at__gte=since
        )
        .select_related("job")
        .order_by("-started_at")[:limit]
    )


def jobs_ending_soon(*, today: dt.date | None = None, days: int = ENDING_SOON_DAYS) -> list[Job]:
    """Active jobs whose end date is within ``days`` (or already past: expired)."""
    today = today or scheduler_today()
    return list(
        Job.objects.filter(
            is_active=True, end_date__isnull=False, end_date__lte=today + dt.timedelta(days=days)
        )
        .select_related("created_by")
        .order_by("end_date", "name")
    )


def executions_per_day(*, today: dt.date | None = None, days: int = CHART_DAYS) -> list[dict]:
    """Counts per calendar day (scheduler zone) and status over the last ``days`` days.

    Grouped by UTC hour in the database (portable: no time-zone tables needed
    on MySQL), then folded into local days here: at most 24 × days × 3 rows.
    """
    zone = zoneinfo.ZoneInfo(settings.SCHEDULER_TIMEZONE)
    today = today or scheduler_today()
    first_day = today - dt.timedelta(days=days - 1)
    start = dt.datetime.combine(first_day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    days_list = [first_day + dt.timedelta(days=offset) for offset in range(days)]
    counts = {day: {status.value: 0 for status in CHART_STATUSES} for day in days_list}
    rows = (
        JobExecution.objects.filter(started_at__gte=start, started_at__lt=end, status__in=CHART_STATUSES)
        .annotate(hour=TruncHour("started_at", tzinfo=dt.UTC))
        .values("hour", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        hour = row["hour"]
        if timezone.is_naive(hour):
            hour = hour.replace(tzinfo=dt.UTC)
        day = hour.astimezone(zone).date()
        if day in counts:
            counts[day][row["status"]] += row["n"]
    return [{"day": day, **counts[day], "total": sum(counts[day].values())} for day in days_list]


def chart_svg(series: list[dict], *, width: int = 720, height: int = 200) -> str:
    """A stacked bar chart (success / failed / missed per day) as inline SVG,
    drawn on the server so the admin needs no script or CDN to show it."""
    left, right, top, bottom = 36, 8, 10, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((point["total"] for point in series), default=0)
    scale_max = max(peak, 1)
    slot = plot_w / max(len(series), 1)
    bar_w = max(slot * 0.7, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cronhub-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" '
        f'aria-label="Executions per day over the last {len(series)} days">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#999"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" font-size="10" fill="#666">{peak}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" font-size="10" fill="#666">0</text>',
    ]
    for index, point in enumerate(series):
        x = left + index * slot + (slot - bar_w) / 2
        y = top + plot_h
        label = (
            f"{point['day']:%Y-%m-%d}: {point['success']} success, {point['failed']} failed, "
            f"{point['missed']} missed"
        )
        parts.append(f'<g class="day" data-day="{point["day"]:%Y-%m-%d}"><title>{escape(label)}</title>')
        for status in CHART_STATUSES:
            count = point[status.value]
            if not count:
                continue
            bar_h = plot_h * count / scale_max
            y -= bar_h
            parts.append(
                f'<rect class="bar-{status.value}" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{bar_h:.1f}" fill="{CHART_COLOURS[status]}"/>'
            )
        parts.append("</g>")
        if index % 5 == 0 or index == len(series) - 1:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - 8}" text-anchor="middle" font-size="10" '
                f'fill="#666">{point["day"]:%m-%d}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def dashboard_context(*, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    today = scheduler_today(now)
    series = executions_per_day(today=today)
    return {
        "scheduler": scheduler_status(now=now),
        "upcoming": upcoming_runs(now=now),
        "failures": recent_failures(now=now),
        "ending_soon": jobs_ending_soon(today=today),
        "today": today,
        "chart_svg": chart_svg(series),
        "chart_totals": {
            status.value: sum(point[status.value] for point in series) for status in CHART_STATUSES
        },
        "chart_colours": {status.value: colour for status, colour in CHART_COLOURS.items()},
        "scheduler_timezone": settings.SCHEDULER_TIMEZONE,
    }
