"""Standby → leader → drain: the loop behind ``manage.py runscheduler``.

A process waits (hot standby) until it gets the leader lock, then leads until
it is told to stop or loses the lock, then goes back to waiting. Leading is:

1. claim the heartbeat row and recover the runs a dead leader left ``running``
   (``jobs.services.runs``: claimed but never sent → sent now within the misfire
   grace, else ``missed``; sent webhooks → re-sent once with the same
   idempotency key; sent GitHub dispatches → ``unknown``);
2. load every schedulable job into the engine (a full reconciliation pass) and
   queue what was missed while no leader was up (one catch-up run within the
   misfire grace, ``missed`` rows beyond it);
3. fire; about once a second look for edits, deletions and resync requests;
   a full pass every ``SCHEDULER_POLL_SECONDS``; a heartbeat every
   ``SCHEDULER_HEARTBEAT_SECONDS`` (and at once when the database answers again
   after an outage); re-check the lock; every tick send the waiting runs that are
   due (retries, rate-limited GitHub dispatches, buffered fires); every
   ``RECOVERY_SWEEP_SECONDS`` recover runs past their deadline (any process's,
   manual runs included);
4. on stop: fire nothing new, let running dispatches finish (bounded by
   ``SCHEDULER_SHUTDOWN_GRACE_SECONDS``), mark the heartbeat row stopped.

The database may go away at any point; every step that needs it logs, backs
off and retries rather than ending the process.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.db.models import Max
from django.utils import timezone

from jobs.models import Job, JobExecution
from jobs.scheduler import follow, heartbeat, maintenance, metrics
from jobs.scheduler.db import call_with_db_retry, keep_connections_open
from jobs.scheduler.engine import Engine
from jobs.scheduler.lock import LeaderLock
from jobs.scheduler.reconcile import Reconciler
from jobs.services import runs

log = logging.getLogger("cronhub.scheduler")

STANDBY_RETRY_SECONDS = 2.0
STANDBY_LOG_EVERY_SECONDS = 60.0
TICK_SECONDS = 1.0
LOCK_CHECK_SECONDS = 2.0
RECOVERY_SWEEP_SECONDS = 15.0
OUTAGE_RETRY_MAX_SECONDS = 2.0  # during an outage the loop probes the database this often at least


def run(lock: LeaderLock, stop: threading.Event) -> bool:
    """Until ``stop`` is set: wait for the lock, lead while it is held, repeat.

    Returns False when runs were still in flight at the end (a dispatch that outlived
    the last shutdown grace, or one an earlier leadership of this process left
    going): the caller must then exit without waiting for them, and say so.
    """
    keep_connections_open()
    drained = True
    last_waiting_log = None
    while not stop.is_set():
        if not lock.try_acquire():
            now = time.monotonic()
            if last_waiting_log is None or now - last_waiting_log >= STANDBY_LOG_EVERY_SECONDS:
                log.info("standby: %s is held by another scheduler; retrying every %.0f s",
                         lock.describe(), STANDBY_RETRY_SECONDS)
                last_waiting_log = now
            stop.wait(STANDBY_RETRY_SECONDS)
            continue
        last_waiting_log = None
        log.info("leader: acquired %s", lock.describe())
        metrics.LEADER.set(1)
        leadership = Leadership(lock, stop)
        try:
            leadership.run()
        except Exception:
            # A bug must not leave a leader that fires nothing: step down, let a
            # standby (or this process, after a pause) take over.
            log.exception("leader: unexpected error; stepping down")
            stop.wait(STANDBY_RETRY_SECONDS)
        finally:
            drained = leadership.drained
            metrics.LEADER.set(0)
            lock.release()
            close_old_connections()
            log.info("leader: released %s", lock.describe())
    return drained and not runs.in_flight_ids()


class Leadership:
    def __init__(self, lock: LeaderLock, stop: threading.Event):
        self.lock = lock
        self.stop = stop
        self.lost = threading.Event()
        # Who claims this leadership's runs: a leadership of this same process that
        # lost and re-took the lock has another token, and its runs still in flight
        # are known to this process (``runs.in_flight_ids``), so it never recovers them.
        self.claimer = runs.claimer_id(runs.new_leadership_token())
        self.engine = Engine(claimer=self.claimer)
        self.internal = maintenance.build_scheduler()
        self.follower = follow.Follower()
        self.reconciler = Reconciler(self.engine, extra_entries=len(maintenance.internal_jobs()))
        self.drained = True

    def run(self) -> None:
        since = timezone.now()
        previous = self._db(lambda: heartbeat.leadership_started(since=since), "claim heartbeat row")
        if previous is None:
            return
        self.engine.start()
        try:
            queued = self._db(lambda: self.engine.recover(leadership_start=True), "recover interrupted runs")
            if queued:
                log.warning("leader: recovering %d run(s) left running by a previous scheduler", queued)
            self._start_internal()
            self.follower.start()
            # Entries get their next fire time at or after `since`, the catch-up covers what
            # came before it: nothing falls between the two however long loading takes.
            result = self._db(lambda: self.reconciler.full_pass(now=since), "first reconciliation")
            if result is None:
                return
            self._db(lambda: self._catch_up(previous.heartbeat_at, now=since - dt.timedelta(microseconds=1)),
                     "catch up missed runs")
            self.engine.resume()
            log.info("leader: %d job(s) scheduled; firing", len(self.engine.entries))
            self._beat()
            self._loop()
        finally:
            self._step_down()

    # --- the loop -------------------------------------------------------------------
    def _loop(self) -> None:
        poll = settings.SCHEDULER_POLL_SECONDS
        beat_every = settings.SCHEDULER_HEARTBEAT_SECONDS
        next_poll = time.monotonic() + poll
        next_beat = time.monotonic() + beat_every
        next_lock_check = time.monotonic() + LOCK_CHECK_SECONDS
        next_sweep = time.monotonic() + RECOVERY_SWEEP_SECONDS
        backoff = 1.0
        outage = False
        while not self.stop.wait(TICK_SECONDS):
            now = time.monotonic()
            if now >= next_lock_check:
                next_lock_check = now + LOCK_CHECK_SECONDS
                if not self.lock.still_held():
                    log.error("leader: lost %s; stepping down", self.lock.describe())
                    self.lost.set()
                    return
            close_old_connections()
            try:
                if outage:
                    # The status page reads the heartbeat: write it the moment the database is back.
                    self._beat()
                    next_beat = now + beat_every
                    outage = False
                    log.info("leader: database answering again")
                if heartbeat.resync_requested():
                    result = self.reconciler.full_pass()
                    heartbeat.resync_completed(result)
                    log.info("resync: %s", result)
                    next_poll = now + poll
                elif now >= next_poll or self.reconciler.changed():
                    self.reconciler.full_pass()
                    next_poll = now + poll
                if now >= next_beat:
                    self._beat()
                    next_beat = now + beat_every
                self.engine.resume_waiting()
                if now >= next_sweep:
                    next_sweep = now + RECOVERY_SWEEP_SECONDS
                    queued = self.engine.recover(leadership_start=False)
                    if queued:
                        log.warning("leader: recovering %d run(s) past their deadline", queued)
                backoff = 1.0
            except DatabaseError as exc:
                outage = True
                try:
                    connection.close()
                except Exception:  # a broken connection may fail to close; it is gone either way
                    pass
                log.warning("leader: database error (%s); retrying in %.0f s", exc, backoff)
                if self.stop.wait(backoff):
                    return
                backoff = min(backoff * 2, OUTAGE_RETRY_MAX_SECONDS)

    def _beat(self) -> None:
        heartbeat.beat(
            scheduled_jobs_count=len(self.engine.entries),
            next_runs=self.engine.next_runs(),
            last_reconcile_at=self.reconciler.last_pass_at,
        )

    # --- start and stop ---------------------------------------------------------------
    def _start_internal(self) -> None:
        def start():
            self.internal.start(paused=True)
            maintenance.register(self.internal)
            self.internal.resume()

        try:
            self._db(start, "start maintenance jobs")
        except Exception:  # maintenance must never keep jobs from firing
            log.exception("leader: maintenance jobs could not start; job scheduling goes on")

    def _catch_up(self, previous_heartbeat: dt.datetime | None, *, now: dt.datetime) -> None:
        """Fire times that fell while no leader was up (or while the last one was dying).

        Per job, misses start after the newest of: its last scheduled run, its last
        edit (a new or changed schedule owes nothing for the past), and the previous
        leader's last heartbeat minus two intervals (what it had been firing). A
        first start ever owes nothing: no flood of ``missed`` rows on deployment.
        """
        if previous_heartbeat is None:
            return
        floor = previous_heartbeat - dt.timedelta(seconds=2 * settings.SCHEDULER_HEARTBEAT_SECONDS)
        if floor >= now:
            return
        last_runs = dict(
            JobExecution.objects.filter(scheduled_for__isnull=False, scheduled_for__gt=floor)
            .values_list("job_id").annotate(last=Max("scheduled_for")).values_list("job_id", "last")
        )
        anchors = {}
        for job_id, updated_at in Job.objects.values_list("id", "updated_at").iterator(chunk_size=2000):
            if job_id in self.engine.entries:
                anchors[job_id] = max(floor, updated_at, last_runs.get(job_id, floor))
        queued = self.engine.catch_up(anchors, now=now)
        if queued:
            log.info("leader: queued catch-up for %d job(s) (misfire grace %d s)",
                     queued, self.engine.grace_seconds)

    def _step_down(self) -> None:
        self.engine.stop_firing()
        self.follower.stop()
        if self.internal.running:
            self.internal.pause()
        grace = settings.SCHEDULER_SHUTDOWN_GRACE_SECONDS
        busy = self.engine.executor.busy()
        if busy:
            log.info("leader: waiting up to %d s for %d running dispatch(es)", grace, busy)
        finished = self.engine.drain(grace)
        if not finished:
            log.warning("leader: dispatches still running after %d s; abandoning them: the next "
                        "leader recovers their runs (sends what was never sent, re-sends webhooks, "
                        "records the rest as unknown)", grace)
        self.engine.shutdown()
        if self.internal.running:
            self.internal.shutdown(wait=finished)
        if not self.lost.is_set():
            try:
                call_with_db_retry(heartbeat.leadership_ended, what="mark heartbeat stopped",
                                   deadline=time.monotonic() + 5)
            except DatabaseError:
                log.warning("leader: could not mark the heartbeat row stopped")
        self.drained = finished

    def _db(self, func, what: str):
        """Run a start-up step, retrying while the database is away (until stopped or the lock is lost)."""
        try:
            return call_with_db_retry(func, what=what, stop=self.stop)
        except DatabaseError:
            return None
