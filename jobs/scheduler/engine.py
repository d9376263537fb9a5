"""APScheduler wiring: the job entries, catch-up and missed runs.

Two APScheduler instances run in the leader:

- ``jobs``: one entry per cron signature (expression, zone) in a ``MemoryJobStore``,
  standing for every schedulable job with that signature (``Engine.groups``): at a
  fire time APScheduler computes the next fire time once per signature, not once per
  job, and the runs of all the jobs due then are handed over together (teams put their
  jobs at 10:00 sharp: 10,000 jobs due in one second share a handful of signatures).
  The database
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
import threading
import time
import zoneinfo
from dataclasses import dataclass

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from django.conf import settings

from cronhub.timestamps import zoned_seconds
from jobs.scheduler.dispatcher import MAX_MISSED_RECORDED, Dispatcher, DispatchExecutor, DueJobs
from jobs.scheduler.pipeline import BurstPipeline
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


def group_id(signature: tuple[str, str]) -> str:
    """The APScheduler entry id of a cron signature (expression, zone)."""
    expression, zone = signature
    return f"cron:{zone}:{expression}"


class Engine:
    """The ``jobs`` APScheduler instance plus what the leader knows about its entries.

    ``entries``: job id → Entry (what is scheduled); ``groups``: APScheduler entry id →
    the ids of the jobs it fires for. Both change under ``_lock`` (the reconciler's thread)
    and are read under it when an entry fires (APScheduler's thread).
    """

    def __init__(self, *, max_workers: int | None = None, claimer: str | None = None):
        self.grace_seconds = settings.SCHEDULER_MISFIRE_GRACE_SECONDS
        due = DueJobs()
        self.dispatcher = Dispatcher(grace_seconds=self.grace_seconds, due=due, claimer=claimer)
        self.executor = DispatchExecutor(max_workers or settings.SCHEDULER_MAX_WORKERS, due=due)
        self.executor.members = self.members
        self.executor.dispatch = self.dispatcher.dispatch
        self.executor.on_overlap = self._on_overlap
        self.pipeline = None
        if settings.SCHEDULER_BURST_PIPELINE:
            self.pipeline = BurstPipeline(self.dispatcher, fallback=self._pool_fallback,
                                          processes=settings.SCHEDULER_DISPATCH_PROCESSES)
            self.executor.pipeline = self.pipeline
        self.dispatcher.submit = self.executor.submit_call
        self.scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": self.executor},
            job_defaults={"coalesce": False, "max_instances": 1, "misfire_grace_time": None},
            timezone=dt.UTC,
        )
        self._bookkeeping = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="bookkeeping")
        self.entries: dict[str, Entry] = {}
        self.groups: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def members(self, entry_id: str) -> list[str]:
        with self._lock:
            return list(self.groups.get(entry_id, ()))

    def _pool_fallback(self, fire, job) -> None:
        if fire.job_id not in self.entries:  # removed meanwhile: nothing to run, only the busy mark
            fire.done()
            return
        self.executor.to_pool(fire.job_id, fire.fire_times, missed_since=fire.missed_since, loaded=job)

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
        finished = True
        if self.pipeline is not None:
            finished = self.pipeline.drain(timeout)
        finished = self.executor.drain(max(0.0, deadline - time.monotonic())) and finished
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
        if self.pipeline is not None:
            # Calls still in flight (a drain shorter than a call) finish and are recorded, as a
            # run on a pool thread does; the pipeline closes once they are.
            pipeline = self.pipeline
            self.pipeline = self.executor.pipeline = None

            def close_when_idle():
                pipeline.wait_idle(float(settings.OUTBOUND_TOTAL_TIMEOUT) + 60.0)
                pipeline.close()

            threading.Thread(target=close_when_idle, name="burst-close", daemon=True).start()

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
    def add(self, entry: Entry, trigger: CronHubTrigger, *, now: dt.datetime) -> bool | None:
        """Schedule a job. ``None`` = not now: its signature's entry is due this instant (the
        job would join a fire time from before it was added); the reconciler tries again.

        Only the reconciler's thread changes entries; APScheduler's own lock is never taken
        while holding ``_lock`` (its thread holds its lock when it asks for ``members``).
        """
        entry_id = group_id(entry.signature)
        if entry_id in self.groups:
            current = self.scheduler.get_job(entry_id)
            if current is not None and current.next_run_time is not None and current.next_run_time <= now:
                return None
            with self._lock:
                self.groups[entry_id].add(entry.job_id)
                self.entries[entry.job_id] = entry
            return True
        next_run = trigger.get_next_fire_time(None, now)
        if next_run is None:
            return False
        with self._lock:
            self.groups[entry_id] = {entry.job_id}
            self.entries[entry.job_id] = entry
        self.scheduler.add_job(
            _fired_through_the_executor, trigger=trigger, args=(entry_id,), id=entry_id, name=entry_id,
            next_run_time=next_run, replace_existing=True,
        )
        return True

    def replace(self, entry: Entry, trigger: CronHubTrigger, *, now: dt.datetime) -> bool | None:
        """Move a job to its new signature. ``None`` = not now: its old entry (or the new one)
        is due this instant and must fire first (a reconciliation pass never swallows a due fire)."""
        old = self.entries.get(entry.job_id)
        if old is None:
            return self.add(entry, trigger, now=now)
        for entry_id in (group_id(old.signature), group_id(entry.signature)):
            current = self.scheduler.get_job(entry_id)
            if current is not None and current.next_run_time is not None and current.next_run_time <= now:
                return None
        self.remove(entry.job_id)
        return self.add(entry, trigger, now=now)

    def rename(self, entry: Entry) -> None:
        with self._lock:
            self.entries[entry.job_id] = entry

    def remove(self, job_id: str) -> None:
        with self._lock:
            entry = self.entries.pop(job_id, None)
            if entry is None:
                return
            entry_id = group_id(entry.signature)
            members = self.groups.get(entry_id, set())
            members.discard(job_id)
            emptied = not members
            if emptied:
                self.groups.pop(entry_id, None)
        if emptied and self.scheduler.get_job(entry_id) is not None:
            self.scheduler.remove_job(entry_id)

    def next_fire_time(self, job_id: str) -> dt.datetime | None:
        entry = self.entries.get(job_id)
        current = self.scheduler.get_job(group_id(entry.signature)) if entry is not None else None
        return current.next_run_time if current is not None else None

    def next_runs(self, limit: int = 20) -> list[dict]:
        """The next fire times, soonest first, each on its job's wall clock."""
        upcoming = []
        for current in self.scheduler.get_jobs():  # the memory store keeps them ordered by next run
            if current.next_run_time is None:
                continue
            # On the job's clock, like every fire time the API states (cronhub/api/formats.py).
            fire_at = zoned_seconds(_on_job_clock(current))
            with self._lock:
                ids = [job_id for job_id in self.groups.get(current.id, ()) if job_id in self.entries]
                named = sorted((self.entries[job_id].name, job_id) for job_id in ids)
            for name, job_id in named[: limit - len(upcoming)]:
                upcoming.append({"job_id": job_id, "name": name, "fire_at": fire_at})
            if len(upcoming) >= limit:
                break
        return upcoming

    # --- catch-up ----------------------------------------------------------------------
    def catch_up(self, anchors: dict[str, dt.datetime], *, now: dt.datetime) -> int:
        """Queue, per job, the fire times missed since its anchor: the newest runs once if it is
        within the misfire grace, the others are recorded as missed. Returns how many jobs had any."""
        queued = 0
        for job_id, anchor in anchors.items():
            entry = self.entries.get(job_id)
            current = self.scheduler.get_job(group_id(entry.signature)) if entry is not None else None
            if current is None or anchor >= now:
                continue
            times, more = newest_fire_times(current.trigger, after=anchor, until=now)
            if not times:
                continue
            log.info("catch-up job=%s missed=%d%s newest=%s", job_id, len(times), "+" if more else "",
                     times[-1].isoformat())
            self.executor.fire([job_id], times, missed_since=anchor if more else None)
            queued += 1
        return queued

    def _on_overlap(self, job_id: str, fire_times: list[dt.datetime]) -> None:
        self._bookkeeping.submit(self.dispatcher.record_overlap, job_id, list(fire_times))


def _on_job_clock(job) -> dt.datetime:
    if isinstance(job.trigger, CronHubTrigger):
        return job.next_run_time.astimezone(zoneinfo.ZoneInfo(job.trigger.timezone))
    return job.next_run_time


def _fired_through_the_executor(entry_id: str) -> None:
    """Never called: ``DispatchExecutor.submit_job`` starts the runs of an entry's jobs itself."""
    raise RuntimeError(f"entry {entry_id} fired outside DispatchExecutor")
