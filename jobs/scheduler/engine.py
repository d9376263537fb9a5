"""APScheduler wiring: the job entries, the dispatch executor, catch-up and missed runs.

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

Fire times: APScheduler calls a job function without telling it which fire time
it is for, but the claim row needs it, so ``DispatchExecutor`` passes the fire
times to the function itself. ``coalesce`` is off on purpose: when APScheduler
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
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.events import EVENT_JOB_MAX_INSTANCES
from apscheduler.executors.pool import BasePoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from jobs.models import Job
from jobs.scheduler import metrics
from jobs.scheduler.trigger import CronHubTrigger

log = logging.getLogger("cronhub.scheduler")

# At most this many missed fire times are recorded one by one per job and
# outage (the newest ones); the oldest recorded row says when the gap began.
MAX_MISSED_RECORDED = 100


def services():
    """The execution service (imported late: the scheduler is usable before it is)."""
    from jobs import services as module

    return module


def call_with_db_retry(func: Callable, *, what: str, deadline: float | None = None,
                       stop: threading.Event | None = None):
    """Run ``func`` and, while the database is unreachable, retry with backoff.

    Gives up (re-raises) at ``deadline`` (a ``time.monotonic()`` value) or when
    ``stop`` is set; without either it retries until the database is back.
    """
    delay = 0.5
    while True:
        close_old_connections()
        try:
            return func()
        except DatabaseError as exc:
            # A dead connection stays broken until closed; Django's health check
            # reopens it on the next query.
            connection.close()
            remaining = None if deadline is None else deadline - time.monotonic()
            if (remaining is not None and remaining <= delay) or (stop is not None and stop.is_set()):
                raise
            log.warning("%s: database error (%s); retrying in %.1f s", what, exc, delay)
            if stop is not None:
                if stop.wait(delay):
                    raise
            else:
                time.sleep(delay)
            delay = min(delay * 2, 30.0)


class DueJobs:
    """The jobs of the runs handed to the pool, read together when the first run of a fire time starts.

    A run uses its job as it is at the fire time (an edit made after it is for the next run).
    Reading each job on its own
    cost about a quarter of a run's CPU in a burst; one query for the jobs due at a
    fire time (up to ``chunk`` of them), made when the first of those runs starts,
    gives each run its configuration as of that fire time for a fraction of that.
    """

    def __init__(self, chunk: int = 1000):
        self.chunk = chunk
        self._lock = threading.Lock()
        self._expected: dict[dt.datetime, dict[str, None]] = {}  # insertion order = start order
        self._read: dict[tuple[str, dt.datetime], Job | None] = {}

    def expect(self, job_id: str, fire_time: dt.datetime) -> None:
        with self._lock:
            self._expected.setdefault(fire_time, {})[job_id] = None

    def take(self, job_id: str, fire_time: dt.datetime) -> Job | None:
        """The job as read at ``fire_time`` (None if deleted); reads it with the others due then."""
        with self._lock:  # held while reading: the runs waiting here need this very read
            if (job_id, fire_time) in self._read:
                return self._read.pop((job_id, fire_time))
            expected = self._expected.get(fire_time, {})
            expected.pop(job_id, None)
            ids = [job_id, *list(expected)[: self.chunk - 1]]
            jobs = Job.objects.in_bulk(ids)  # raises on a database error: nothing consumed
            for other in ids[1:]:
                expected.pop(other)
                self._read[(other, fire_time)] = jobs.get(other)
            if not expected:
                self._expected.pop(fire_time, None)
            return jobs.get(job_id)

    def forget(self, job_id: str, fire_time: dt.datetime) -> None:
        """A run that will not start (cancelled while queued)."""
        with self._lock:
            self._read.pop((job_id, fire_time), None)
            self._expected.get(fire_time, {}).pop(job_id, None)


class DispatchExecutor(BasePoolExecutor):
    """A bounded thread pool that hands the fire times to the job function.

    The job function is called as ``func(*args, fire_times=[...])``. The pool has
    ``max_workers`` threads; runs beyond that queue (their lateness grows, and
    the dispatcher records them as missed once past the misfire grace).
    """

    def __init__(self, max_workers: int, *, due: DueJobs):
        pool = concurrent.futures.ThreadPoolExecutor(int(max_workers), thread_name_prefix="dispatch")
        super().__init__(pool)
        self.due = due
        self._futures: set[concurrent.futures.Future] = set()
        self._futures_lock = threading.Lock()

    def _do_submit_job(self, job, run_times, **extra):
        self.due.expect(job.id, run_times[-1])
        future = self._pool.submit(job.func, *job.args, fire_times=list(run_times), **extra)
        with self._futures_lock:
            self._futures.add(future)

        def done(f: concurrent.futures.Future):
            with self._futures_lock:
                self._futures.discard(f)
            if f.cancelled():
                self.due.forget(job.id, run_times[-1])
            if f.cancelled() or f.exception() is None:
                self._run_job_success(job.id, [])
            else:
                exc = f.exception()
                self._run_job_error(job.id, exc, exc.__traceback__)

        future.add_done_callback(done)

    def submit_catch_up(self, job, run_times, **extra) -> None:
        """Like APScheduler's ``submit_job`` (same instance count, so no overlap), with extra arguments."""
        with self._lock:
            self._do_submit_job(job, run_times, **extra)
            self._instances[job.id] += 1

    def busy(self) -> int:
        with self._futures_lock:
            return len(self._futures)

    def drain(self, timeout: float) -> bool:
        """Cancel runs not started yet, wait up to ``timeout`` s for the running ones."""
        with self._futures_lock:
            futures = list(self._futures)
        for future in futures:
            future.cancel()  # only succeeds for queued runs: they never claimed their fire time
        running = [f for f in futures if not f.cancelled()]
        _done, not_done = concurrent.futures.wait(running, timeout=timeout)
        return not not_done


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


class Dispatcher:
    """Runs in the pool: one call per due entry (its fire times, oldest first)."""

    def __init__(self, *, grace_seconds: int, due: DueJobs):
        self.grace = dt.timedelta(seconds=grace_seconds)
        self.due = due

    def dispatch(self, job_id: str, *, fire_times: list[dt.datetime] | None = None,
                 missed_since: dt.datetime | None = None) -> None:
        # fire_times has a default only because APScheduler checks the job function's
        # signature against the arguments it stores; DispatchExecutor always passes it.
        *older, newest = fire_times
        started = time.monotonic()
        # Claims are retried while a run is still inside the grace window: a
        # database blip must not lose a fire time.
        deadline = started + max(self.grace.total_seconds() - (timezone.now() - newest).total_seconds(), 5.0)
        try:
            job = call_with_db_retry(lambda: self.due.take(job_id, newest),
                                     what=f"load job {job_id}", deadline=deadline)
            lateness = (timezone.now() - newest).total_seconds()
            if job is None:
                log.info("dispatch job=%s scheduled_for=%s outcome=not-run (job deleted)",
                         job_id, newest.isoformat())
                return
            if older:
                self._record_missed(job, older, missed_since=missed_since, deadline=deadline,
                                    reason="the scheduler was not running at this fire time")
            if lateness > self.grace.total_seconds():
                self._record_missed(job, [newest], missed_since=None if older else missed_since,
                                    deadline=deadline, reason=(
                                        f"started {lateness:.1f} s late, beyond the misfire grace of "
                                        f"{self.grace.total_seconds():.0f} s"))
                return
            metrics.DISPATCH_LATENESS.observe(max(lateness, 0.0))
            execution = call_with_db_retry(
                lambda: services().job_execute(job=job, trigger="scheduled", scheduled_for=newest,
                                               read_at_fire_time=True),
                what=f"dispatch job {job_id}", deadline=deadline,
            )
            if execution is None:
                outcome, run_id = "not-run (claimed elsewhere, or job deleted/inactive/expired)", None
            else:
                outcome, run_id = execution.status, execution.github_run_id
                metrics.EXECUTIONS.labels(status=execution.status).inc()
            log.info(
                "dispatch job=%s scheduled_for=%s lateness=%.3fs outcome=%s%s",
                job_id, newest.isoformat(), lateness, outcome,
                f" github_run_id={run_id}" if run_id else "",
            )
        except Exception:
            log.exception("dispatch job=%s scheduled_for=%s outcome=error", job_id, newest.isoformat())
        finally:
            close_old_connections()

    def _record_missed(self, job: Job, times: list[dt.datetime], *, missed_since, deadline, reason: str):
        recorded = times[-MAX_MISSED_RECORDED:]
        for index, fire_time in enumerate(recorded):
            why = reason
            if index == 0 and (missed_since is not None or len(recorded) < len(times)):
                since = missed_since or times[0]
                why += f"; earlier fire times since {since.isoformat()} were missed too and are not listed"
            row = call_with_db_retry(
                lambda t=fire_time, w=why: services().execution_record_missed(
                    job=job, scheduled_for=t, reason=w),
                what=f"record missed run of job {job.pk}", deadline=deadline,
            )
            if row is not None:
                metrics.MISSED_RUNS.inc()
                metrics.EXECUTIONS.labels(status="missed").inc()
            log.warning("dispatch job=%s scheduled_for=%s outcome=missed reason=%s",
                        job.pk, fire_time.isoformat(), why)

    def record_overlap(self, job_id: str, fire_times: list[dt.datetime]) -> None:
        """A fire came while the previous run of the job is still going: record it as skipped."""
        close_old_connections()
        try:
            job = Job.objects.filter(pk=job_id).first()
            if job is None:
                return
            for fire_time in fire_times:
                services().execution_record_skipped(
                    job=job, scheduled_for=fire_time,
                    reason="the previous run of this job was still in progress",
                )
                metrics.EXECUTIONS.labels(status="skipped").inc()
                log.warning("dispatch job=%s scheduled_for=%s outcome=skipped-overlap",
                            job_id, fire_time.isoformat())
        except Exception:
            log.exception("could not record the skipped run of job %s", job_id)
        finally:
            close_old_connections()


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

    def __init__(self, *, max_workers: int | None = None):
        self.grace_seconds = settings.SCHEDULER_MISFIRE_GRACE_SECONDS
        due = DueJobs()
        self.dispatcher = Dispatcher(grace_seconds=self.grace_seconds, due=due)
        self.executor = DispatchExecutor(max_workers or settings.SCHEDULER_MAX_WORKERS, due=due)
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
        finished = self.executor.drain(timeout)
        self._bookkeeping.shutdown(wait=finished, cancel_futures=True)
        return finished

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

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
