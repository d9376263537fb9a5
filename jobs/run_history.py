"""A job's run history: the last runs as chart data, and success rate / mean duration for
the job list (one query for the whole page, whatever the number of jobs).

What counts:
- a *finished* run is one with an outcome: success, failed, unknown or missed (running and
  skipped runs are left out of rates and means);
- the success rate is successes / finished runs; durations are the recorded ones;
- lateness is how long after its fire time a scheduled run started (manual runs have none).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape

from django.db.models import Avg, Count, FloatField, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from cronhub import clock
from jobs.models import ExecutionStatus, Job, JobExecution

HISTORY_RUNS = 90
STATS_DAYS = 30
FINISHED = (ExecutionStatus.SUCCESS, ExecutionStatus.FAILED, ExecutionStatus.UNKNOWN, ExecutionStatus.MISSED)
STATUS_COLOURS = {
    ExecutionStatus.SUCCESS: "#2e7d32",
    ExecutionStatus.FAILED: "#c62828",
    ExecutionStatus.MISSED: "#ef6c00",
    ExecutionStatus.SKIPPED: "#757575",
    ExecutionStatus.RUNNING: "#1565c0",
    ExecutionStatus.UNKNOWN: "#6a1b9a",
}
LATENESS_COLOUR = "#f9a825"


@dataclass(frozen=True)
class RunPoint:
    id: str
    started_at: dt.datetime
    status: str
    trigger_type: str
    duration: float | None  # seconds
    lateness: float | None  # seconds after the fire time (scheduled runs)
    conclusion: str


def conclusion(execution: JobExecution) -> str:
    """What the run's target answered, in a few words: the single place that reads it.

    Today this is the recorded outcome (status, HTTP status, first line of the error). When
    GitHub runs are followed to their end, their conclusion (``success``, ``failure``,
    ``cancelled``...) belongs here, before the fallbacks.
    """
    parts = [execution.get_status_display()]
    if execution.response_status:
        parts.append(f"HTTP {execution.response_status}")
    if execution.error_message:
        parts.append(execution.error_message.splitlines()[0][:120])
    return " · ".join(str(part) for part in parts)


def run_history(job: Job, *, limit: int = HISTORY_RUNS) -> list[RunPoint]:
    """The last ``limit`` runs of ``job``, oldest first (one query)."""
    rows = list(JobExecution.objects.filter(job=job).order_by("-started_at")[:limit])
    return [RunPoint(id=str(row.pk), started_at=row.started_at, status=row.status,
                     trigger_type=row.trigger_type, duration=row.duration_seconds,
                     lateness=row.lateness_seconds, conclusion=conclusion(row))
            for row in reversed(rows)]


def history_summary(points: list[RunPoint]) -> dict:
    finished = [p for p in points if p.status in FINISHED]
    durations = [p.duration for p in finished if p.duration is not None]
    lateness = [p.lateness for p in points if p.lateness is not None]
    return {
        "runs": len(points),
        "finished": len(finished),
        "success_rate": (sum(p.status == ExecutionStatus.SUCCESS for p in finished) / len(finished)
                         if finished else None),
        "mean_duration": sum(durations) / len(durations) if durations else None,
        "max_lateness": max(lateness) if lateness else None,
    }


def stats_annotations(*, now: dt.datetime) -> dict:
    """Per-job ``stats_finished``, ``stats_succeeded`` and ``stats_mean_duration`` over the last
    ``STATS_DAYS`` days, as correlated subqueries: the job list stays one query."""
    recent = JobExecution.objects.filter(job=OuterRef("pk"), status__in=FINISHED,
                                         started_at__gte=now - dt.timedelta(days=STATS_DAYS))
    grouped = recent.order_by().values("job")
    return {
        "stats_finished": Coalesce(Subquery(grouped.annotate(n=Count("id")).values("n")[:1],
                                            output_field=IntegerField()), 0),
        "stats_succeeded": Coalesce(Subquery(
            grouped.filter(status=ExecutionStatus.SUCCESS).annotate(n=Count("id")).values("n")[:1],
            output_field=IntegerField()), 0),
        "stats_mean_duration": Subquery(grouped.annotate(mean=Avg("duration_seconds")).values("mean")[:1],
                                        output_field=FloatField()),
    }


def seconds_text(value: float | None) -> str:
    if value is None:
        return clock.EMPTY
    if value < 60:
        return _("%(n).1f s") % {"n": value}
    return _("%(m)d min %(s)02d s") % {"m": value // 60, "s": value % 60}


def history_svg(points: list[RunPoint], *, width: int = 900, height: int = 180) -> str:
    """Bars of the runs' durations coloured by status, oldest on the left, and the lateness of
    scheduled runs as dots on its own scale; each run's tooltip names its time, status,
    duration, lateness and conclusion. Inline SVG drawn here: no script, no CDN."""
    left, right, top, bottom = 64, 64, 10, 20
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / max(len(points), 1)
    bar_w = max(slot * 0.75, 1)
    longest = max((p.duration or 0 for p in points), default=0) or 1
    latest = max((p.lateness or 0 for p in points), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cronhub-history-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" aria-label="{escape(_("Last runs"))}">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#999"/>',
        f'<text x="2" y="{top + 8}" font-size="10" fill="#666">{escape(seconds_text(longest))}</text>',
        f'<text x="{width - 2}" y="{top + 8}" text-anchor="end" font-size="10" fill="{LATENESS_COLOUR}">'
        f'{escape(seconds_text(latest))}</text>',
    ]
    for index, point in enumerate(points):
        x = left + index * slot + (slot - bar_w) / 2
        colour = STATUS_COLOURS.get(point.status, "#333")
        bar_h = max(plot_h * (point.duration or 0) / longest, 2.0)
        tip = _("%(when)s — %(status)s, duration %(duration)s, late %(late)s — %(conclusion)s") % {
            "when": clock.show(point.started_at), "status": ExecutionStatus(point.status).label
            if point.status in ExecutionStatus.values else point.status,
            "duration": seconds_text(point.duration), "late": seconds_text(point.lateness),
            "conclusion": point.conclusion}
        parts.append(
            f'<g class="run run-{escape(point.status)}" data-id="{escape(point.id)}">'
            f'<title>{escape(tip)}</title>'
            f'<rect x="{x:.1f}" y="{top + plot_h - bar_h:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" '
            f'fill="{colour}"/>')
        if point.lateness is not None:
            y = top + plot_h - plot_h * max(point.lateness, 0) / latest
            parts.append(f'<circle class="late" cx="{x + bar_w / 2:.1f}" cy="{y:.1f}" r="2.5" '
                         f'fill="{LATENESS_COLOUR}" stroke="#333" stroke-width="0.5"/>')
        parts.append("</g>")
    if points:
        parts.append(f'<text x="{left}" y="{height - 6}" font-size="10" fill="#666">'
                     f'{escape(clock.show(points[0].started_at, fmt=clock.DATE_FORMAT))}</text>')
        parts.append(f'<text x="{width - right}" y="{height - 6}" text-anchor="end" font-size="10" '
                     f'fill="#666">{escape(clock.show(points[-1].started_at, fmt=clock.DATE_FORMAT))}</text>')
    parts.append("</svg>")
    return "".join(parts)
