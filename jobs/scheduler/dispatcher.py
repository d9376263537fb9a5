"""Runs in the dispatch pool: each due fire time claimed, sent, recorded.

APScheduler calls a job function without telling it which fire time it is for,
but the claim row needs it, so ``DispatchExecutor`` passes the fire times to
``Dispatcher.dispatch`` itself. ``DueJobs`` reads the jobs due at one fire time
in one query. Fire times past the misfire grace become ``missed`` rows, fires
that come while the previous run is busy follow the job's overlap policy
(``skipped`` rows, one buffered run, or sent alongside): never silently lost.
Waiting runs (retries, rate-limited dispatches, buffered fires) are sent here
too when due (``resume``).
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import functools
import logging
import threading

from apscheduler.executors.pool import BasePoolExecutor
from django.db import close_old_connections
from django.utils import timezone

from cronhub.logs import log_context
from jobs.models import Job, JobExecution, OverlapPolicy
from jobs.scheduler import metrics
from jobs.scheduler.db import call_with_db_retry, retrying_writer
from jobs.services import runs

log = logging.getLogger("cronhub.scheduler")

# At most this many missed fire times are recorded one by one per job and
# outage (the newest ones); the oldest recorded row says when the gap began.
MAX_MISSED_RECORDED = 100


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
    """Starts the runs of a fire time: the burst pipeline first, else a bounded thread pool.

    The engine's APScheduler entries are per cron signature (``Engine``): when one fires,
    ``submit_job`` asks ``members`` which jobs it stands for and starts each of them,
    all in one hand-over, except those whose previous run is still going (``busy``):
    those go to ``on_overlap`` (recorded ``skipped``). The pool calls
    ``dispatch(job_id, fire_times=[...], ...)``; runs beyond ``max_workers`` queue
    (their lateness grows, and the dispatcher records them as missed once past the
    misfire grace).
    """

    def __init__(self, max_workers: int, *, due: DueJobs):
        pool = concurrent.futures.ThreadPoolExecutor(int(max_workers), thread_name_prefix="dispatch")
        super().__init__(pool)
        self.due = due
        self.pipeline = None  # a BurstPipeline takes the webhook fires when set (Engine)
        self.members = None  # entry id -> the job ids it fires for (Engine)
        self.dispatch = None  # the pool's job function (Dispatcher.dispatch)
        self.on_overlap = None  # (job_id, fire_times) of a job still running its previous fire
        self._futures: set[concurrent.futures.Future] = set()
        self._futures_lock = threading.Lock()
        self._busy: set[str] = set()  # jobs with a run under way (started here, not finished)
        self._busy_lock = threading.Lock()

    def submit_job(self, job, run_times):
        """APScheduler's hand-over of a due entry (its fire times, oldest first)."""
        self.fire(self.members(job.id), list(run_times))

    def fire(self, job_ids, run_times: list[dt.datetime], *, missed_since: dt.datetime | None = None) -> None:
        """Start the run of each job for ``run_times``, unless its previous run is still going."""
        with self._busy_lock:
            overlap = [job_id for job_id in job_ids if job_id in self._busy]
            start = [job_id for job_id in job_ids if job_id not in self._busy]
            self._busy.update(start)
        for job_id in start:
            try:
                self._start(job_id, run_times, missed_since=missed_since)
            except Exception:
                self.release(job_id)
                log.exception("could not start job %s for %s", job_id, run_times[-1].isoformat())
        for job_id in overlap:
            self.on_overlap(job_id, run_times)

    def release(self, job_id: str) -> None:
        with self._busy_lock:
            self._busy.discard(job_id)

    def _start(self, job_id: str, run_times, *, missed_since) -> None:
        if self.pipeline is not None and self.pipeline.submit(
                job_id, run_times, missed_since=missed_since, done=lambda: self.release(job_id)):
            return
        self.to_pool(job_id, run_times, missed_since=missed_since)

    def to_pool(self, job_id: str, run_times, **extra) -> None:
        """Run ``job_id``'s fire in the pool (also a fire the pipeline hands back: ``loaded`` set)."""
        if extra.get("loaded") is None:
            extra.pop("loaded", None)
            self.due.expect(job_id, run_times[-1])
        future = self._pool.submit(self.dispatch, job_id, fire_times=list(run_times), **extra)
        with self._futures_lock:
            self._futures.add(future)

        def done(f: concurrent.futures.Future):
            with self._futures_lock:
                self._futures.discard(f)
            if f.cancelled():
                self.due.forget(job_id, run_times[-1])
            self.release(job_id)

        future.add_done_callback(done)

    def submit_call(self, func, *args) -> None:
        """Run ``func(*args)`` in the pool (a recovery), waited for by ``drain`` like a run."""
        future = self._pool.submit(func, *args)
        with self._futures_lock:
            self._futures.add(future)

        def done(f: concurrent.futures.Future):
            with self._futures_lock:
                self._futures.discard(f)

        future.add_done_callback(done)

    def busy(self) -> int:
        with self._futures_lock:
            running = len(self._futures)
        return running + (self.pipeline.busy() if self.pipeline is not None else 0)

    def drain(self, timeout: float) -> bool:
        """Cancel runs not started yet, wait up to ``timeout`` s for the running ones."""
        with self._futures_lock:
            futures = list(self._futures)
        for future in futures:
            future.cancel()  # only succeeds for queued runs: they never claimed their fire time
        running = [f for f in futures if not f.cancelled()]
        _done, not_done = concurrent.futures.wait(running, timeout=timeout)
        return not not_done


class Dispatcher:
    """Runs in the pool: one call per due entry (its fire times, oldest first), and the recoveries.

    Every record write (the claim, sent, the outcome, missed and skipped rows) is
    retried until the database answers again (``writer``), never dropped: a fire
    time that came during an outage is claimed, or recorded ``missed`` once past
    the misfire grace, when the database is back. ``claimer`` names this
    leadership on the rows it claims.
    """

    def __init__(self, *, grace_seconds: int, due: DueJobs, claimer: str | None = None,
                 stop: threading.Event | None = None):
        self.grace = dt.timedelta(seconds=grace_seconds)
        self.due = due
        self.claimer = claimer or runs.claimer_id(runs.new_leadership_token())
        self.write = retrying_writer(stop)
        self.stop = stop
        self._recovering: set[str] = set()
        self._resuming: set[str] = set()
        self._recovering_lock = threading.Lock()
        # Runs a callable in the dispatch pool (set by the engine): fires an ``allow`` job overlaps.
        self.submit = None

    def dispatch(self, job_id: str, *, fire_times: list[dt.datetime] | None = None,
                 missed_since: dt.datetime | None = None, loaded: Job | None = None) -> None:
        with log_context(job_id=job_id, fire_time=fire_times[-1] if fire_times else None):
            self._dispatch(job_id, fire_times=fire_times, missed_since=missed_since, loaded=loaded)

    def _dispatch(self, job_id: str, *, fire_times: list[dt.datetime] | None = None,
                  missed_since: dt.datetime | None = None, loaded: Job | None = None) -> None:
        # fire_times has a default only because APScheduler checks the job function's
        # signature against the arguments it stores; DispatchExecutor always passes it.
        # ``loaded``: the job as the burst pipeline read it at the fire time.
        *older, newest = fire_times
        try:
            job = loaded or call_with_db_retry(lambda: self.due.take(job_id, newest),
                                               what=f"load job {job_id}", stop=self.stop)
            lateness = (timezone.now() - newest).total_seconds()
            if job is None:
                log.info("dispatch job=%s scheduled_for=%s outcome=not-run (job deleted)",
                         job_id, newest.isoformat())
                return
            if older:
                self._record_missed(job, older, missed_since=missed_since,
                                    reason="the scheduler was not running at this fire time")
            if lateness > self.grace.total_seconds():
                self._record_missed(job, [newest], missed_since=None if older else missed_since, reason=(
                    f"started {lateness:.1f} s late, beyond the misfire grace of "
                    f"{self.grace.total_seconds():.0f} s"))
                return
            metrics.DISPATCH_LATENESS.observe(max(lateness, 0.0))
            execution = runs.job_execute(job=job, trigger="scheduled", scheduled_for=newest,
                                         read_at_fire_time=True, claimer=self.claimer, write=self.write,
                                         grace_seconds=self.grace.total_seconds())
            if execution is None:
                outcome, run_id = "not-run (claimed elsewhere, or job deleted/inactive/expired)", None
            else:
                outcome, run_id = execution.status, execution.github_run_id
                self._count(execution)
            log.info(
                "dispatch job=%s scheduled_for=%s lateness=%.3fs outcome=%s%s",
                job_id, newest.isoformat(), lateness, outcome,
                f" github_run_id={run_id}" if run_id else "",
                extra={"run_id": execution.pk if execution is not None else None},
            )
        except Exception:
            log.exception("dispatch job=%s scheduled_for=%s outcome=error", job_id, newest.isoformat())
        finally:
            close_old_connections()

    def _record_missed(self, job: Job, times: list[dt.datetime], *, missed_since, reason: str):
        recorded = times[-MAX_MISSED_RECORDED:]
        for index, fire_time in enumerate(recorded):
            why = reason
            if index == 0 and (missed_since is not None or len(recorded) < len(times)):
                since = missed_since or times[0]
                why += f"; earlier fire times since {since.isoformat()} were missed too and are not listed"
            row = call_with_db_retry(
                lambda t=fire_time, w=why: runs.execution_record_missed(
                    job=job, scheduled_for=t, reason=w),
                what=f"record missed run of job {job.pk}", stop=self.stop,
            )
            if row is not None:
                metrics.MISSED_RUNS.inc()
                metrics.EXECUTIONS.labels(status="missed").inc()
            log.warning("dispatch job=%s scheduled_for=%s outcome=missed reason=%s",
                        job.pk, fire_time.isoformat(), why)

    def _count(self, execution) -> None:
        """Metrics of a run this process ended or deferred."""
        if execution.status == "running" and execution.wait_reason:
            metrics.DEFERRED_RUNS.labels(reason=execution.wait_reason).inc()
        else:
            metrics.EXECUTIONS.labels(status=execution.status).inc()
        if execution.rate_limit_wait_seconds is not None and execution.status != "running":
            metrics.RATE_LIMIT_WAIT.observe(execution.rate_limit_wait_seconds)

    def record_overlap(self, job_id: str, fire_times: list[dt.datetime]) -> None:
        """A fire came while this process is still dispatching the previous run of the job.

        The job's ``overlap_policy`` decides (``runs.job_fire_while_busy``): ``skip`` records
        it ``skipped``, ``buffer_one`` keeps one waiting, ``allow`` sends it alongside (in the
        pool, through ``submit``). Retried until the database answers (a fire time must leave a row)."""
        try:
            job = call_with_db_retry(lambda: Job.objects.filter(pk=job_id).first(),
                                     what=f"load job {job_id}", stop=self.stop)
            if job is None:
                return
            for fire_time in fire_times:
                if job.overlap_policy == OverlapPolicy.ALLOW and self.submit is not None:
                    self.submit(functools.partial(self.dispatch, job_id, fire_times=[fire_time]))
                    log.info("dispatch job=%s scheduled_for=%s outcome=overlap-allowed", job_id,
                             fire_time.isoformat())
                    continue
                row = call_with_db_retry(
                    lambda t=fire_time: runs.job_fire_while_busy(job=job, scheduled_for=t,
                                                                 claimer=self.claimer),
                    what=f"record skipped run of job {job_id}", stop=self.stop,
                )
                if row is not None:
                    self._count(row)
                what = "buffered" if row is not None and row.wait_reason else "skipped"
                log.warning("dispatch job=%s scheduled_for=%s outcome=%s-overlap", job_id,
                            fire_time.isoformat(), what)
        except Exception:
            log.exception("could not record the skipped run of job %s", job_id)
        finally:
            close_old_connections()

    # --- waiting runs --------------------------------------------------------------------------
    def runs_waiting(self) -> list[str]:
        """Waiting runs due now (retries, rate-limited dispatches, buffered fires), minus queued ones."""
        ids = runs.executions_waiting(now=timezone.now())
        with self._recovering_lock:
            fresh = [pk for pk in ids if pk not in self._resuming]
            self._resuming.update(fresh)
        return fresh

    def resume(self, execution_id: str) -> None:
        try:
            what = runs.execution_resume(execution_id, claimer=self.claimer, write=self.write)
            log.info("resume execution=%s outcome=%s", execution_id, what)
            if what != "not-ours":
                execution = JobExecution.objects.filter(pk=execution_id).first()
                if execution is not None:
                    self._count(execution)
        except Exception:
            log.exception("resume execution=%s outcome=error", execution_id)
        finally:
            with self._recovering_lock:
                self._resuming.discard(execution_id)
            close_old_connections()

    # --- recovery -------------------------------------------------------------------------
    def runs_to_recover(self, *, leadership_start: bool) -> list[str]:
        """Rows to recover now, minus those already queued for recovery here."""
        return self.to_recover(runs.executions_needing_recovery(now=timezone.now(),
                                                                leadership_start=leadership_start))

    def to_recover(self, ids) -> list[str]:
        """``ids`` minus the runs already queued for recovery here; the rest count as queued now
        (a row recovered twice at once by one claimer would be sent twice)."""
        with self._recovering_lock:
            fresh = [pk for pk in ids if pk not in self._recovering]
            self._recovering.update(fresh)
        return fresh

    def recover(self, execution_id: str) -> None:
        with log_context(run_id=execution_id):
            self._recover(execution_id)

    def _recover(self, execution_id: str) -> None:
        try:
            what = runs.execution_recover(execution_id, claimer=self.claimer,
                                          grace_seconds=self.grace.total_seconds(), write=self.write)
            log.warning("recover execution=%s outcome=%s", execution_id, what)
            metrics.RECOVERED_RUNS.labels(action=what).inc()
        except Exception:
            log.exception("recover execution=%s outcome=error", execution_id)
        finally:
            with self._recovering_lock:
                self._recovering.discard(execution_id)
            close_old_connections()
