"""The upcoming-runs calendar: every fire time of the active jobs over the next 24 hours or
7 days, with the load per minute and per hour.

Fire times come from the cron engine the scheduler uses (each job on its own zone's wall
clock, one walk of the engine per job); a job's end date (a day in the scheduler zone)
ends its fire times, as the scheduler pauses it then. Every query is fixed in number:
one for the jobs, whatever the window.

A *burst* is a minute in which two or more jobs fire; the busiest are named. GitHub
dispatches share one token, so a minute with more of them than
``GITHUB_SECONDARY_LIMIT_PER_MINUTE`` (GitHub's secondary rate limit) is flagged: some of
them would be refused.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from html import escape

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from jobs.models import Job, scheduler_today
from jobs.selectors import jobs_of_target_type

WINDOWS = {"24h": dt.timedelta(hours=24), "7d": dt.timedelta(days=7)}
DEFAULT_WINDOW = "24h"
BUSIEST_MINUTES = 20
TARGET_TYPES = ("github_actions", "webhook")


@dataclass(frozen=True)
class Filters:
    window: str = DEFAULT_WINDOW
    team: str = ""  # PIC team slug
    category: str = ""  # category slug
    owner: str = ""  # username
    target: str = ""  # github_actions | webhook

    @classmethod
    def from_query(cls, params) -> Filters:
        """Unknown values fall back to "no filter" (and the default window)."""
        window = params.get("window", DEFAULT_WINDOW)
        target = params.get("target", "")
        return cls(
            window=window if window in WINDOWS else DEFAULT_WINDOW,
            team=params.get("team", "").strip(),
            category=params.get("category", "").strip(),
            owner=params.get("owner", "").strip(),
            target=target if target in TARGET_TYPES else "",
        )


@dataclass(frozen=True)
class Fire:
    at: dt.datetime  # aware, in the job's zone
    job: Job


@dataclass
class Minute:
    at: dt.datetime  # the minute's start, UTC
    jobs: list[Job] = field(default_factory=list)
    github: int = 0  # how many of them dispatch a GitHub workflow

    @property
    def count(self) -> int:
        return len(self.jobs)


@dataclass
class Slot:
    at: dt.datetime  # start of the hour (or minute), UTC
    count: int
    github: int


@dataclass
class Calendar:
    filters: Filters
    start: dt.datetime
    end: dt.datetime
    jobs: list[Job]
    fires: list[Fire]
    hours: list[Slot]
    minutes: list[Slot]  # every minute of the window (24 h only; empty for 7 days)
    busiest: list[Minute]  # bursts (two or more jobs), busiest first
    over_budget: list[Minute]  # minutes whose GitHub dispatches exceed the limit
    github_limit: int

    @property
    def peak_per_minute(self) -> int:
        return self.busiest[0].count if self.busiest else (1 if self.fires else 0)


def calendar_jobs(filters: Filters, *, today: dt.date) -> QuerySet[Job]:
    jobs = (Job.objects.filter(is_active=True)
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
            .select_related("created_by").order_by("name"))
    if filters.team:
        jobs = jobs.filter(pic_team=filters.team)
    if filters.category:
        jobs = jobs.filter(category=filters.category)
    if filters.owner:
        jobs = jobs.filter(created_by__username=filters.owner)
    return jobs_of_target_type(jobs, filters.target)


def _job_fires(job: Job, start: dt.datetime, end: dt.datetime, scheduler_zone) -> list[dt.datetime]:
    schedule = job.schedule()
    if schedule is None:
        return []
    # The window is (start, end): strictly after now, as "next" always is, and before its end.
    times = [at for at in schedule.fire_times_between(job.zone, start, end) if at < end]
    if job.end_date is not None:
        times = [at for at in times if at.astimezone(scheduler_zone).date() <= job.end_date]
    return times


def _floor(moment: dt.datetime, unit: dt.timedelta) -> dt.datetime:
    moment = moment.astimezone(dt.UTC)
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return epoch + ((moment - epoch) // unit) * unit


def upcoming_calendar(filters: Filters | None = None, *, now: dt.datetime | None = None) -> Calendar:
    filters = filters or Filters()
    now = now or timezone.now()
    start, end = now, now + WINDOWS[filters.window]
    scheduler_zone = zoneinfo.ZoneInfo(settings.SCHEDULER_TIMEZONE)
    jobs = list(calendar_jobs(filters, today=scheduler_today(now)))
    fires: list[Fire] = []
    by_minute: dict[dt.datetime, Minute] = {}
    per_hour: Counter[dt.datetime] = Counter()
    github_per_hour: Counter[dt.datetime] = Counter()
    for job in jobs:
        github = job.is_github
        for at in _job_fires(job, start, end, scheduler_zone):
            fires.append(Fire(at=at, job=job))
            minute = by_minute.setdefault(_floor(at, dt.timedelta(minutes=1)),
                                          Minute(at=_floor(at, dt.timedelta(minutes=1))))
            minute.jobs.append(job)
            hour = _floor(at, dt.timedelta(hours=1))
            per_hour[hour] += 1
            if github:
                minute.github += 1
                github_per_hour[hour] += 1
    fires.sort(key=lambda fire: (fire.at.astimezone(dt.UTC), fire.job.name))
    hours = []
    cursor = _floor(start, dt.timedelta(hours=1))
    while cursor < end:
        hours.append(Slot(at=cursor, count=per_hour[cursor], github=github_per_hour[cursor]))
        cursor += dt.timedelta(hours=1)
    minutes: list[Slot] = []
    if filters.window == "24h":
        cursor = _floor(start, dt.timedelta(minutes=1))
        while cursor < end:
            found = by_minute.get(cursor)
            minutes.append(Slot(at=cursor, count=found.count if found else 0,
                                github=found.github if found else 0))
            cursor += dt.timedelta(minutes=1)
    bursts = sorted((m for m in by_minute.values() if m.count >= 2), key=lambda m: (-m.count, m.at))
    limit = settings.GITHUB_SECONDARY_LIMIT_PER_MINUTE
    over = sorted((m for m in by_minute.values() if m.github > limit), key=lambda m: m.at)
    for minute in by_minute.values():
        minute.jobs.sort(key=lambda job: job.name)
    return Calendar(filters=filters, start=start, end=end, jobs=jobs, fires=fires, hours=hours,
                    minutes=minutes, busiest=bursts[:BUSIEST_MINUTES], over_budget=over, github_limit=limit)


def load_strip_svg(slots: list[Slot], *, label, title, width: int = 960, height: int = 90) -> str:
    """Bars of the number of fire times per slot, GitHub dispatches darker, as inline SVG (drawn
    on the server: no script, no CDN). ``label(slot)`` names a slot in its tooltip."""
    top, bottom = 6, 14
    plot_h = height - top - bottom
    peak = max((slot.count for slot in slots), default=0) or 1
    step = width / max(len(slots), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="cronhub-load" role="img" '
             f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="none" '
             f'aria-label="{escape(title)}">',
             f'<line x1="0" y1="{top + plot_h}" x2="{width}" y2="{top + plot_h}" stroke="#999"/>']
    for index, slot in enumerate(slots):
        if not slot.count:
            continue
        x = index * step
        bar_h = max(plot_h * slot.count / peak, 1.0)
        github_h = bar_h * slot.github / slot.count
        parts.append(f'<g class="slot" data-count="{slot.count}"><title>{escape(label(slot))}</title>'
                     f'<rect x="{x:.2f}" y="{top + plot_h - bar_h:.2f}" width="{max(step * 0.9, 0.6):.2f}" '
                     f'height="{bar_h:.2f}" fill="#79aec8"/>')
        if github_h:
            parts.append(f'<rect x="{x:.2f}" y="{top + plot_h - github_h:.2f}" '
                         f'width="{max(step * 0.9, 0.6):.2f}" height="{github_h:.2f}" fill="#417690"/>')
        parts.append("</g>")
    parts.append(f'<text x="2" y="{height - 2}" font-size="10" fill="#666">0 – {peak}</text></svg>')
    return "".join(parts)
