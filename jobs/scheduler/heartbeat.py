"""The ``SchedulerState`` row: how the leader tells the web app it is alive.

``GET /api/v2/scheduler/status`` reads it; ``POST /api/v2/scheduler/resync``
writes ``resync_requested_at`` and waits for ``resync_completed_at`` to pass it
(the leader checks about once a second and stores the pass summary in
``last_resync_result``).
"""

from __future__ import annotations

import datetime as dt
import os
import socket

from django.utils import timezone

from jobs.models import SchedulerState

_ID = SchedulerState.SINGLETON_ID


def leadership_started(*, since: dt.datetime) -> SchedulerState:
    """Claim the row for this process. Returns the row as the previous leader left it."""
    previous = SchedulerState.load()
    SchedulerState.objects.filter(pk=_ID).update(
        host=socket.gethostname(), pid=os.getpid(), leader_since=since, heartbeat_at=since,
        stopped_at=None, scheduled_jobs_count=0, next_runs=[],
    )
    return previous


def beat(*, scheduled_jobs_count: int, next_runs: list[dict], last_reconcile_at: dt.datetime | None) -> None:
    SchedulerState.objects.filter(pk=_ID).update(
        host=socket.gethostname(), pid=os.getpid(), heartbeat_at=timezone.now(),
        scheduled_jobs_count=scheduled_jobs_count, next_runs=next_runs, last_reconcile_at=last_reconcile_at,
    )


def resync_requested() -> bool:
    row = SchedulerState.objects.filter(pk=_ID).values("resync_requested_at", "resync_completed_at").first()
    if not row or row["resync_requested_at"] is None:
        return False
    return row["resync_completed_at"] is None or row["resync_requested_at"] > row["resync_completed_at"]


def resync_completed(result: dict) -> None:
    requested = SchedulerState.objects.filter(pk=_ID).values_list("resync_requested_at", flat=True).first()
    now = timezone.now()
    # Another host's clock may be ahead of ours: "completed" must not look older
    # than the request it answers, or the request would be served forever.
    completed = max(now, requested) if requested else now
    SchedulerState.objects.filter(pk=_ID).update(
        resync_completed_at=completed, last_resync_result=result, last_reconcile_at=now,
    )


def leadership_ended() -> None:
    """On a clean exit: mark the row stopped (only if it is still ours)."""
    SchedulerState.objects.filter(pk=_ID, pid=os.getpid(), host=socket.gethostname()).update(
        stopped_at=timezone.now(),
    )
