"""The burst pipeline: the webhook runs of a fire time claimed, sent and recorded in batches.

APScheduler decides *when* (one entry per job); what happens at a fire time is
batched here instead of one thread per run:

1. **claim**: the runs handed over since the last batch (up to ``BATCH``) have their jobs
   read in one query and their claim rows INSERTed in one statement
   (``runs.claim_many``: a conflict means another scheduler has that fire time);
   then one UPDATE marks them sent (``runs.mark_sent_many``). A run claimed but not yet
   marked sent when the process dies is sent by the next leader (``runs.execution_recover``),
   exactly as for a run of the one-at-a-time path;
2. **send**: every call goes out at once on the asynchronous client
   (``integrations.burst``: pooled connections per host, the outbound guard's pinned
   addresses, the total deadline per call, the idempotency headers), so a slow or
   dripping target holds one connection, not a worker: the other runs are not delayed;
3. **record**: answers are written back in batches (``runs.finish_many``, one
   transaction) as they arrive, and announced in bulk (``notify_many``) on a thread of
   their own so notifications never hold up recording. Announcing gives way to delivery:
   while runs handed over are still going out or unrecorded it waits (up to
   ``ANNOUNCE_DEFER_SECONDS``), then tells everything recorded meanwhile at once. A burst
   told to a team writes many rows (one a run and person) that would otherwise take the
   cores and the database from the calls still to be made.

With ``SCHEDULER_DISPATCH_PROCESSES`` set, each large batch is shared out first: an even
share of its plain fires to each dispatch process (``jobs.scheduler.workers``), which runs
these same steps on another core, the rest here.

What is not a plain webhook fire (a GitHub dispatch, which goes through its own budget;
a job with no valid target; an inactive or expired job; fire times to record as
missed) goes to the dispatch thread pool (``Dispatcher.dispatch``), as before.
Every write is retried until the database answers (the dispatcher's writer).
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections, connections
from django.utils import timezone

from integrations.burst import BurstClient
from integrations.http import OutboundError
from jobs.models import ExecutionStatus, ExecutionType, Job, JobExecution, TriggerType, scheduler_today
from jobs.scheduler import metrics
from jobs.scheduler.db import call_with_db_retry
from jobs.scheduler.workers import DispatchWorkers, Worker
from jobs.services import dispatch as dispatching
from jobs.services import runs
from notifications.services import notify_many

log = logging.getLogger("cronhub.scheduler")

BATCH = 1000  # runs per claim statement
RECORD_BATCH = 1000
RECORD_LINGER_SECONDS = 0.02  # gather answers this long before writing a batch
CLAIM_LINGER_SECONDS = 0.005  # and the fires handed over together (the timer hands them one by one)
ANNOUNCE_DEFER_SECONDS = 10.0  # how long announcing waits for the runs still going out
SHARE_MIN = 50  # a batch smaller than this is sent here: handing it over would cost more than it saves


@dataclass
class _Fire:
    job_id: str
    fire_times: list[dt.datetime]
    missed_since: dt.datetime | None
    done: Callable[[], None]  # tells APScheduler the run is over (its instance count)
    settled: bool = False
    seq: int | None = None  # names the fire between the leader and a dispatch process


@dataclass
class _Call:
    fire: _Fire
    job: Job
    execution: JobExecution


def _gather(items: queue.SimpleQueue, limit: int, linger: float) -> list | None:
    """The next batch from ``items``: the first item, then what comes within ``linger`` s (up to
    ``limit``); None once the queue is closed (a ``None`` item, left for the other readers)."""
    first = items.get()
    if first is None:
        return None
    batch = [first]
    deadline = time.monotonic() + linger
    while len(batch) < limit:
        left = deadline - time.monotonic()
        try:
            item = items.get(timeout=left) if left > 0 else items.get_nowait()
        except queue.Empty:
            break
        if item is None:
            items.put(None)
            break
        batch.append(item)
    return batch


class BurstPipeline:
    def __init__(self, dispatcher, *, fallback: Callable[[_Fire, Job | None], None],
                 client: BurstClient | None = None, processes: int = 0,
                 on_drop: Callable[[_Fire], None] | None = None):
        self.dispatcher = dispatcher
        self.fallback = fallback
        self.on_drop = on_drop or (lambda fire: fire.done())
        self.client = client or BurstClient()
        self._incoming: queue.SimpleQueue[_Fire | None] = queue.SimpleQueue()
        self._answers: queue.SimpleQueue = queue.SimpleQueue()
        self._announce: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._open = 0  # handed over and not recorded yet
        self._idle = threading.Condition(self._lock)
        self._accepting = True
        self._remote: dict[int, tuple[Worker, _Fire]] = {}  # seq → fires a dispatch process has
        self.workers = (DispatchWorkers(processes, on_message=self._from_worker, on_exit=self._worker_gone)
                        if processes else None)
        self._threads = [
            threading.Thread(target=self._claim_loop, name="burst-claim", daemon=True),
            threading.Thread(target=self._record_loop, name="burst-record", daemon=True),
            threading.Thread(target=self._announce_loop, name="burst-announce", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    # --- hand-over (APScheduler's thread) ---------------------------------------------------
    def submit(self, job_id: str, fire_times: list[dt.datetime], *, missed_since=None,
               done: Callable[[], None], seq: int | None = None) -> bool:
        with self._lock:
            if not self._accepting:
                return False
            self._open += 1
        self._incoming.put(_Fire(job_id, list(fire_times), missed_since, done, seq=seq))
        return True

    def busy(self) -> int:
        with self._lock:
            return self._open

    def wait_idle(self, timeout: float) -> bool:
        """Wait until everything handed over so far is recorded (or handed to the pool)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._open == 0, timeout=timeout)

    def drain(self, timeout: float) -> bool:
        """Take nothing new; fires not claimed yet are let go (``on_drop``: by default dropped,
        the next leader's catch-up has them); wait up to ``timeout`` s for the claimed ones to
        be recorded."""
        with self._lock:
            self._accepting = False
        while True:
            try:
                fire = self._incoming.get_nowait()
            except queue.Empty:
                break
            if fire is not None:
                self._let_go(fire, lambda f=fire: self.on_drop(f))
        started = timezone.now()
        with self._idle:
            finished = self._idle.wait_for(lambda: self._open == 0, timeout=timeout)
        if finished:  # and the announcements of what was recorded
            finished = self.wait_announced(timeout - (timezone.now() - started).total_seconds())
        return finished

    def wait_announced(self, timeout: float) -> bool:
        """Wait until every result recorded so far has been announced."""
        marker = threading.Event()
        self._announce.put(marker)
        return marker.wait(max(timeout, 0.0))

    def close(self) -> None:
        self._incoming.put(None)
        self._answers.put(None)
        self._announce.put(None)
        self.client.close()
        if self.workers is not None:
            self.workers.close()

    def _settle(self, fire: _Fire) -> None:
        self._let_go(fire, fire.done)

    def _let_go(self, fire: _Fire, then=None) -> bool:
        """Count ``fire`` out of the pipeline once (after ``then``); False if it already was."""
        with self._idle:
            if fire.settled:
                return False
            fire.settled = True
        try:
            if then is not None:
                then()
        finally:
            with self._idle:
                self._open -= 1
                if self._open == 0:
                    self._idle.notify_all()
        return True

    # --- 1. claim and send ------------------------------------------------------------------
    def _claim_loop(self) -> None:
        while True:
            batch = _gather(self._incoming, BATCH, CLAIM_LINGER_SECONDS)
            if batch is None:
                return
            try:
                batch = self._share_out(batch)
                if batch:
                    self._claim_and_send(batch)
            except Exception:
                log.exception("burst of %d runs: unexpected error; handing the rest to the dispatch pool "
                              "(a fire time claimed already is not sent twice: the claim row holds it)",
                              len(batch))
                for fire in batch:
                    if not fire.settled and not getattr(fire, "sending", False):
                        self._hand_to_pool(fire, None)
            finally:
                close_old_connections()

    def _claim_and_send(self, batch: list[_Fire]) -> None:
        ids = list({fire.job_id for fire in batch})
        jobs = call_with_db_retry(lambda: Job.objects.in_bulk(ids), what=f"read {len(ids)} due jobs",
                                  stop=self.dispatcher.stop)
        now = timezone.now()
        today = scheduler_today(now)
        grace = self.dispatcher.grace.total_seconds()
        # A job with a run still going in the database (waiting for a retry or a rate limit,
        # followed on GitHub, started by hand) is the overlap policy's to decide: the pool.
        busy = call_with_db_retry(lambda: runs.jobs_with_running_rows(ids), what="read busy jobs",
                                  stop=self.dispatcher.stop)
        plain: list[tuple[_Fire, Job, dispatching.RunConfig]] = []
        for fire in batch:
            job = jobs.get(fire.job_id)
            newest = fire.fire_times[-1]
            if job is None:
                log.info("dispatch job=%s scheduled_for=%s outcome=not-run (job deleted)",
                         fire.job_id, newest.isoformat())
                self._settle(fire)
                continue
            simple = (len(fire.fire_times) == 1 and job.is_active and not job.is_expired(today)
                      and (now - newest).total_seconds() <= grace and fire.job_id not in busy
                      # retries wait in the database and are sent one by one: the pool's path
                      and job.max_attempts <= 1)
            config = dispatching.run_config(job=job) if simple else None
            if config is None or config.execution_type != ExecutionType.WEBHOOK:
                self._hand_to_pool(fire, job)
                continue
            metrics.DISPATCH_LATENESS.observe(max((now - newest).total_seconds(), 0.0))
            plain.append((fire, job, config))
        executions = runs.scheduled_claims(self.dispatcher.claimer, now, [
            (job, fire.fire_times[-1], config.execution_type, config.target) for fire, job, config in plain])
        calls: list[_Call] = []
        for (fire, job, config), execution in zip(plain, executions, strict=True):
            execution._config = config
            calls.append(_Call(fire, job, execution))
        if not calls:
            return
        self.client.new_burst()
        executions = [call.execution for call in calls]
        runs.hold(execution.pk for execution in executions)
        claimed = self.dispatcher.write(lambda: runs.claim_many(executions), f"claim {len(executions)} runs")
        mine = {execution.pk for execution in claimed}
        late = []
        for call in calls:
            if call.execution.pk not in mine:
                log.info("Fire time %s of job %s already claimed: not dispatching",
                         call.execution.scheduled_for, call.job.pk)
                runs.release([call.execution.pk])
                self._settle(call.fire)
            elif (call.execution.started_at - call.execution.scheduled_for).total_seconds() > grace:
                late.append(call)
        for call in late:  # the claim could only be written past the grace (the database was away)
            lateness = (call.execution.started_at - call.execution.scheduled_for).total_seconds()
            runs._close(call.job, call.execution, ExecutionStatus.MISSED, (
                f"claimed {lateness:.1f} s late (the database was unavailable), beyond the misfire "
                f"grace of {grace:.0f} s"), write=self.dispatcher.write)
            runs.release([call.execution.pk])
            self._settle(call.fire)
        late_ids = {call.execution.pk for call in late}
        to_send = [call for call in calls if call.execution.pk in mine and call.execution.pk not in late_ids]
        sent = self.dispatcher.write(lambda: runs.mark_sent_many([call.execution for call in to_send]),
                                     f"mark {len(to_send)} runs sent")
        sent_ids = {execution.pk for execution in sent}
        outgoing = []
        for call in to_send:
            if call.execution.pk not in sent_ids:
                log.warning("Run %s of job %s was taken over by another process before it was sent: "
                            "not sending", call.execution.pk, call.job.pk)
                runs.release([call.execution.pk])
                self._settle(call.fire)
                continue
            call.fire.sending = True  # from here on it ends through the record step, whatever happens
            try:
                request = dispatching.burst_request(dispatching.webhook_request(
                    call.job, call.execution, call.execution.attempts, config=call.execution._config))
            except Exception as exc:  # a bug building one call must not strand the others
                log.exception("building the call of run %s failed", call.execution.pk)
                self._answers.put((call, None, OutboundError(f"the call could not be built: {exc}"),
                                   timezone.now()))
                continue
            outgoing.append((request, lambda response, error, c=call: self._answers.put(
                (c, response, error, timezone.now()))))
        self.client.submit_many(outgoing)

    def _hand_to_pool(self, fire: _Fire, job: Job | None) -> None:
        # the pool's own bookkeeping settles it from now on
        self._let_go(fire, lambda: self.fallback(fire, job))

    # --- 1b. sharing a batch with the dispatch processes ----------------------------------------
    def _share_out(self, batch: list[_Fire]) -> list[_Fire]:
        """Hand an even share of ``batch``'s plain fires to each ready dispatch process; the rest
        (and fires with several or missed fire times, the pool's) stay here."""
        if self.workers is None or len(batch) < SHARE_MIN:
            return batch
        ready = self.workers.ready()
        movable = [fire for fire in batch if len(fire.fire_times) == 1 and fire.missed_since is None]
        share = len(movable) // (len(ready) + 1)
        if not ready or share == 0:
            return batch
        kept = [fire for fire in batch if len(fire.fire_times) != 1 or fire.missed_since is not None]
        kept.extend(movable[len(ready) * share:])
        for index, worker in enumerate(ready):
            part = movable[index * share:(index + 1) * share]
            with self._lock:
                if worker.reclaimed:  # it exited since ``ready``, and its fires were taken back
                    kept.extend(part)
                    continue
                for fire in part:
                    fire.seq = self.workers.next_seq()
                    self._remote[fire.seq] = (worker, fire)
            if not worker.send([(fire.seq, fire.job_id, fire.fire_times[0].isoformat()) for fire in part]):
                with self._lock:  # gone meanwhile: what its exit did not take back stays here
                    kept.extend(fire for fire in part if self._remote.pop(fire.seq, None) is not None)
        return kept

    def _from_worker(self, worker: Worker, message: dict) -> None:
        """A dispatch process's answer: fires it settled, fires for the pool, its metrics."""
        with self._lock:
            settled = [self._remote.pop(seq, (None, None))[1] for seq in message.get("settled", ())]
            pooled = [self._remote.pop(seq, (None, None))[1] for seq in message.get("pool", ())]
        for fire in settled:
            if fire is not None:
                self._settle(fire)
        for fire in pooled:
            if fire is None:
                continue
            try:
                self._hand_to_pool(fire, None)
            except RuntimeError:  # the pool is shut down: this leader is going, the next one catches up
                log.info("dispatch job=%s scheduled_for=%s outcome=not-run (the scheduler is stopping)",
                         fire.job_id, fire.fire_times[-1].isoformat())
        for status, count in message.get("executions", {}).items():
            metrics.EXECUTIONS.labels(status=status).inc(count)
        for lateness in message.get("lateness", ()):
            metrics.DISPATCH_LATENESS.observe(lateness)

    def _worker_gone(self, worker: Worker) -> None:
        """A dispatch process exited: recover the runs it left ``running``; the fires it had not
        claimed go to the pool."""
        with self._lock:
            worker.reclaimed = True
            fires = [fire for seq, (owner, fire) in list(self._remote.items()) if owner is worker
                     and self._remote.pop(seq)]
        if self.workers.closed:  # the leader is going: the next one recovers what is left
            for fire in fires:
                self._settle(fire)
            return
        try:
            self._recover_from(worker, fires)
        finally:
            connections.close_all()  # this reader thread's own

    def _recover_from(self, worker: Worker, fires: list[_Fire]) -> None:
        if worker.claimer is not None:
            left = call_with_db_retry(lambda: list(JobExecution.objects.filter(
                status=ExecutionStatus.RUNNING, claimed_by=worker.claimer).values_list("pk", flat=True)),
                what="read the runs a dispatch process left", stop=self.dispatcher.stop)
            if left:
                log.warning("dispatch process %d left %d run(s) running: recovering them",
                            worker.index, len(left))
            for execution_id in self.dispatcher.to_recover(left):
                if self.dispatcher.submit is not None:
                    self.dispatcher.submit(self.dispatcher.recover, execution_id)
                else:
                    self.dispatcher.recover(execution_id)
        for fire in fires:  # a fire time it claimed is not run twice: the claim row holds it
            self._hand_to_pool(fire, None)

    # --- 2. record ----------------------------------------------------------------------------
    def _record_loop(self) -> None:
        while True:
            batch = _gather(self._answers, RECORD_BATCH, RECORD_LINGER_SECONDS)
            if batch is None:
                return
            try:
                self._record(batch)
            except Exception:
                log.exception("recording %d run outcomes failed; the recovery sweep closes them",
                              len(batch))
                for call, _response, _error, _at in batch:
                    runs.release([call.execution.pk])
                    self._settle(call.fire)
            finally:
                close_old_connections()

    def _record(self, batch) -> None:
        results = []
        for call, response, error, answered_at in batch:
            if response is None:
                outcome = dispatching.webhook_outcome(error=error, trigger=TriggerType.SCHEDULED)
            else:
                outcome = dispatching.webhook_outcome(status=response.status, text=response.text,
                                                      trigger=TriggerType.SCHEDULED)
            results.append((call, outcome, answered_at))
        recorded = self.dispatcher.write(
            lambda: runs.finish_many([(c.execution, o, at) for c, o, at in results]),
            f"record {len(results)} run outcomes")
        recorded_ids = {execution.pk for execution in recorded}
        told = []
        counted = collections.Counter()
        for call, outcome, _at in results:
            execution = call.execution
            lateness = (execution.started_at - execution.scheduled_for).total_seconds()
            if execution.pk in recorded_ids:
                counted[execution.status] += 1
                told.append((call.job, execution, outcome))
                log.info("dispatch job=%s scheduled_for=%s lateness=%.3fs outcome=%s", call.job.pk,
                         execution.scheduled_for.isoformat(), lateness, execution.status)
            else:
                log.warning("Run %s of job %s was closed by another process meanwhile; its answer "
                            "here was %s", execution.pk, call.job.pk, outcome.status)
            runs.release([execution.pk])
            self._settle(call.fire)
        for status, count in counted.items():
            metrics.EXECUTIONS.labels(status=status).inc(count)
        if told:
            self._announce.put(runs.announcements(told))

    # --- 3. announce --------------------------------------------------------------------------
    def _announce_loop(self) -> None:
        while True:
            first = self._announce.get()
            if first is None:
                return
            with self._idle:  # delivery first (ANNOUNCE_DEFER_SECONDS)
                self._idle.wait_for(lambda: self._open == 0, timeout=ANNOUNCE_DEFER_SECONDS)
            items, markers = [], []
            pending = [first]
            while True:  # gather what queued meanwhile
                for got in pending:
                    if isinstance(got, threading.Event):
                        markers.append(got)
                    else:
                        items.extend(got)
                try:
                    more = self._announce.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._announce.put(None)
                    break
                pending = [more]
            try:
                notify_many(items)
            except Exception:
                log.exception("announcing %d run results failed", len(items))
            finally:
                close_old_connections()
                for marker in markers:
                    marker.set()
