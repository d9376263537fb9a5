"""APScheduler wiring: the job entries, catch-up and missed runs.

Two APScheduler instances run in the leader:

- ``jobs``: one entry per schedulable job, in a ``MemoryJobStore``. The database
  is the truth (the reconciler rebuilds these entries at every leadership start
  and keeps them in step), so persisting them again would only add work: with
  django-apscheduler's ``DjangoJobStore`` every fire costs an extra
  ``SELECT … FOR UPDATE`` + ``UPDATE`` of a pickled row, and its result listener
  writes a ``DjangoJobExecution`` row per run; at 10,000 jobs due in one second
  that doubles the database writes of a burst whose every run already writes a
  ``JobExecution`` row (the record users and the API see).
- ``internal``: the maintenance jobs (end-date rules, pruning) in
  django-apscheduler's ``DjangoJobStore``. They are few, their execution records
  show up in the admin's django-apscheduler pages, and the persisted next run time
  lets a maintenance run missed while no leader was up run once when one returns.

The runs themselves happen in ``jobs.scheduler.dispatcher``. ``coalesce`` is off on purpose: when APScheduler
finds several fire times due at once (the process stalled), the dispatcher runs
the newest (if within the misfire grace) and records the older ones as missed
instead of dropping them silently.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import time
from dataclasses import dataclass

from apscheduler.events import EVENT_JOB_MAX_INSTANCES
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from django.conf import settings

from jobs.scheduler.dispatcher import MAX_MISSED_RECORDED, Dispatcher, DispatchExecutor, DueJobs
from jobs.scheduler.trigger import CronHubTrigger

log = logging.getLogger("cronhub.scheduler")


@dataclass(frozen=True)
class Entry:
    """What the engine needs to know about a job; the rest is read at fire time."""

    job_id: str
    name: str
    expression: str
    timezone: str

    @property
    def signature(self) -> tuple[str, str]:
        return (self.expression, self.timezone)


def newest_fire_times(trigger: CronHubTrigger, *, after: dt.datetime, until: dt.datetime,
                      limit: int = MAX_MISSED_RECORDED + 1) -> tuple[list[dt.datetime], bool]:
    """The newest ``limit`` fire times in ``(after, until]`` (oldest first), and whether older ones exist.

    Widens a window back from ``until`` so an every-minute job after a long
    outage costs a few hundred steps, not one per minute of the outage.
    """
    span = dt.timedelta(hours=1)
    while True:
        low = max(after, until - span)
        times = trigger.fire_times_between(low, until, limit=100_000)
        if len(times) >= limit or low == after:
            kept = times[-limit:]
            first = trigger.next_after(after)
            return kept, bool(kept) and first is not None and first < kept[0]
        span *= 4


class Engine:
    """The ``jobs`` APScheduler instance plus what the leader knows about its entries."""

    def __init__(self, *, max_workers: int | None = None, claimer: str | None = None):
        self.grace_seconds = settings.SCHEDULER_MISFIRE_GRACE_SECONDS
        due = DueJobs()
        self.dispatcher = Dispatcher(grace_seconds=self.grace_seconds, due=due, claimer=claimer)
        self.executor = DispatchExecutor(max_workers or settings.SCHEDULER_MAX_WORKERS, due=due)
        self.dispatcher.submit = self.executor.submit_call
        self.scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": self.executor},
            job_defaults={"coalesce": False, "max_instances": 1, "misfire_grace_time": None},
            timezone=dt.UTC,
        )
        self._bookkeeping = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="bookkeeping")
        self.scheduler.add_listener(self._on_max_instances, EVENT_JOB_MAX_INSTANCES)
        self.entries: dict[str, Entry] = {}

    # --- lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        """Start paused: entries can be loaded and catch-ups queued before anything fires."""
        self.scheduler.start(paused=True)

    def resume(self) -> None:
        self.scheduler.resume()

    def stop_firing(self) -> None:
        if self.scheduler.running:
            self.scheduler.pause()

    def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for running dispatches and the skipped-row writes queued
        behind them (retried while the database is away); False if any is still going."""
        deadline = time.monotonic() + timeout
        finished = self.executor.drain(timeout)
        if finished:
            # The bookkeeping pool has one thread: a marker queued now runs after every earlier write.
            marker = self._bookkeeping.submit(lambda: None)
            try:
                marker.result(timeout=max(0.0, deadline - time.monotonic()))
            except concurrent.futures.TimeoutError:
                finished = False
        self._bookkeeping.shutdown(wait=finished, cancel_futures=True)
        return finished

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def recover(self, *, leadership_start: bool) -> int:
        """Queue the recovery of the runs left ``running`` that need it (``jobs.services.runs``).
        Returns how many were queued; raises on a database error (nothing queued)."""
        ids = self.dispatcher.runs_to_recover(leadership_start=leadership_start)
        for execution_id in ids:
            self.executor.submit_call(self.dispatcher.recover, execution_id)
        return len(ids)

    def resume_waiting(self) -> int:
        """Queue the waiting runs that are due (retries, rate-limited dispatches, buffered fires).
        Returns how many were queued; raises on a database error (nothing queued)."""
        ids = self.dispatcher.runs_waiting()
        for execution_id in ids:
            self.executor.submit_call(self.dispatcher.resume, execution_id)
        return len(ids)

    # --- entries ------------------------------------------------------------------------
    def add(self, entry: Entry, trigger: CronHubTrigger, *, now: dt.datetime) -> bool:
        next_run = trigger.get_next_fire_time(None, now)
        if next_run is None:
            return False
        self.scheduler.add_job(
            self.dispatcher.dispatch, trigger=trigger, args=(entry.job_id,), id=entry.job_id,
            name=entry.name, next_run_time=next_run, replace_existing=True,
        )
        self.entries[entry.job_id] = entry
        return True

    def replace(self, entry: Entry, trigger: CronHubTrigger, *, now: dt.datetime) -> bool | None:
        """Swap the trigger. ``None`` = not now: the old entry is due this instant and
        must fire first (a reconciliation pass never swallows a due fire)."""
        current = self.scheduler.get_job(entry.job_id)
        if current is None:
            return self.add(entry, trigger, now=now)
        if current.next_run_time is not None and current.next_run_time <= now:
            return None
        next_run = trigger.get_next_fire_time(None, now)
        if next_run is None:
            self.remove(entry.job_id)
            return False
        current.modify(trigger=trigger, next_run_time=next_run, name=entry.name)
        self.entries[entry.job_id] = entry
        return True

    def rename(self, entry: Entry) -> None:
        self.scheduler.modify_job(entry.job_id, name=entry.name)
        self.entries[entry.job_id] = entry

    def remove(self, job_id: str) -> None:
        self.entries.pop(job_id, None)
        if self.scheduler.get_job(job_id) is not None:
            self.scheduler.remove_job(job_id)

    def next_runs(self, limit: int = 20) -> list[dict]:
        upcoming = []
        for job in self.scheduler.get_jobs():  # the memory store keeps them ordered by next run
            if job.next_run_time is None:
                continue
            upcoming.append({
                "job_id": job.id,
                "name": job.name,
                "fire_at": job.next_run_time.astimezone(dt.UTC).isoformat(),
            })
            if len(upcoming) >= limit:
                break
        return upcoming

    # --- catch-up ----------------------------------------------------------------------
    def catch_up(self, anchors: dict[str, dt.datetime], *, now: dt.datetime) -> int:
        """Queue, per entry, the fire times missed since its anchor: the newest runs once if it is
        within the misfire grace, the others are recorded as missed. Returns how many entries had any."""
        queued = 0
        for job_id, anchor in anchors.items():
            job = self.scheduler.get_job(job_id)
            if job is None or anchor >= now:
                continue
            times, more = newest_fire_times(job.trigger, after=anchor, until=now)
            if not times:
                continue
            log.info("catch-up job=%s missed=%d%s newest=%s", job_id, len(times), "+" if more else "",
                     times[-1].isoformat())
            self.executor.submit_catch_up(job, times, missed_since=anchor if more else None)
            queued += 1
        return queued

    def _on_max_instances(self, event) -> None:
        self._bookkeeping.submit(
            self.dispatcher.record_overlap, event.job_id, list(event.scheduled_run_times))
