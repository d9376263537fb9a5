"""Running jobs: claim, send, record, announce; and recovering runs a stopped process left.

A run's life (``JobExecution``): **claimed** (the row is INSERTed ``running``;
for a scheduled run the unique (job, scheduled_for) makes the insert the claim)
→ **sent** (``sent_at`` committed right before the outbound call) → **finished**
(``success`` / ``failed``; ``missed`` when it could not be sent in time;
``unknown`` when the call may have gone out and its answer cannot be known).
Every row names its owner in ``claimed_by`` (host:pid:token, the token per
scheduler leadership), and every write after the claim is conditional on that
owner, so a process that lost a row to a recovery can neither send nor record it.

Database writes go through ``write(func, what)``: the scheduler passes a writer
that retries until the database answers again (``jobs.scheduler.db``), and each
step is safe to repeat after a write whose answer was lost (the claim recognises
its own row, sending and finishing are conditional updates that recognise their
own result).

Recovery (``executions_needing_recovery`` + ``execution_recover``): a run the
dead owner claimed but never sent is sent now if still within the misfire grace
(else recorded ``missed``); a webhook run that was sent is re-sent once with the
same idempotency headers and recorded by the real answer; a GitHub run that was
sent is recorded ``unknown`` (its outcome cannot be looked up yet), never ``failed``.

A GitHub dispatch that was accepted and recorded is followed instead of closed
(``jobs.services.github_runs``): it stays ``running`` until its workflow run
concludes, and recovery never touches it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.base import ModelState
from django.utils import timezone

from cronhub import audit
from cronhub.db import insert_rows, update_rows
from cronhub.errors import InvalidInput
from jobs.models import (
    OUTPUT_MAX_CHARS,
    ExecutionStatus,
    ExecutionType,
    Job,
    JobExecution,
    OverlapPolicy,
    TriggerType,
    WaitReason,
    scheduler_today,
)
from jobs.scheduler.db import bounded_writer
from jobs.services import github_runs
from jobs.services.dispatch import (
    Outcome,
    RunConfig,
    backoff_seconds,
    call_timeout,
    dispatch,
    github_grant,
    retryable,
    run_config,
    run_deadline,
    webhook_request,
)
from notifications.services import Announcement, Event, notify

log = logging.getLogger(__name__)

T = TypeVar("T")
Writer = Callable[[Callable[[], T], str], T]

SENT_BY_NEXT_LEADER_NOTE = "claimed by a scheduler that stopped before sending it; sent by the next scheduler"
RESENT_NOTE = "re-sent after a scheduler restart, with the same Idempotency-Key"
MAX_ATTEMPTS = 2  # the first call and one re-send (or the job's max_attempts when higher)
# Attempt-log outcomes besides a call's status: a rate-limit answer, a dispatch held back by
# the token's budget, a fire buffered behind the previous run.
RATE_LIMITED, BUDGET, BUFFERED = "rate_limited", "budget", "buffered"


class JobExpired(InvalidInput):
    """A manual run of a job past its end date (the job has been paused)."""

    def __init__(self):
        super().__init__("Job expired", "This job has passed its end_date and was auto-paused.",
                         field="end_date")


def write_once(func: Callable[[], T], what: str) -> T:  # noqa: ARG001 - the Writer signature
    """The default writer: one attempt (a web request answers the error instead of waiting)."""
    return func()


# How long a manual run's records (sent, finished) are retried while the database is away.
MANUAL_RECORD_RETRY_SECONDS = 60.0


# --- who owns a row ---------------------------------------------------------------------------------
_PROCESS_TOKEN = uuid.uuid4().hex[:12]


def new_leadership_token() -> str:
    """A token for one leadership: rows it claims are told from an earlier leadership of the same process."""
    return uuid.uuid4().hex[:16]


def claimer_id(token: str | None = None) -> str:
    """``host:pid:token``; without a token, this process's (manual runs in a web process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{token or 'process-' + _PROCESS_TOKEN}"


# Runs this process is working on (sending, recording, or retrying a write):
# never recovered by this process, whatever their deadline says.
_in_flight: set[str] = set()
_in_flight_lock = threading.Lock()


def in_flight_ids() -> set[str]:
    with _in_flight_lock:
        return set(_in_flight)


@contextlib.contextmanager
def _flight(execution_id: str):
    with _in_flight_lock:
        _in_flight.add(execution_id)
    try:
        yield
    finally:
        with _in_flight_lock:
            _in_flight.discard(execution_id)


# --- the steps of a run (each safe to repeat) ---------------------------------------------------------
def _claim(execution: JobExecution) -> bool:
    """INSERT the running row. False when someone else holds the fire time; True when it is ours,
    also when a previous attempt of this very insert was committed but its answer was lost."""
    now = timezone.now()
    execution.started_at = now
    if execution.wait_reason is None:
        execution.deadline_at = run_deadline(now, call_timeout(execution.job))
    try:
        with transaction.atomic():
            execution.save(force_insert=True)
        return True
    except IntegrityError:
        mine = (JobExecution.objects.filter(pk=execution.pk, claimed_by=execution.claimed_by)
                .values("started_at", "deadline_at").first())
        if mine is None:
            return False
        execution.started_at, execution.deadline_at = mine["started_at"], mine["deadline_at"]
        return True


def _mark_sent(execution: JobExecution, timeout: float) -> bool:
    """Commit that the call is about to go out (one more attempt). False when the row is no longer ours."""
    expected = execution.attempts
    now = timezone.now()
    deadline = run_deadline(now, timeout)
    owned = JobExecution.objects.filter(pk=execution.pk, status=ExecutionStatus.RUNNING,
                                        claimed_by=execution.claimed_by)
    if owned.filter(attempts=expected).update(sent_at=now, deadline_at=deadline, attempts=expected + 1):
        execution.sent_at, execution.deadline_at, execution.attempts = now, deadline, expected + 1
        return True
    row = owned.filter(attempts=expected + 1).values("sent_at", "deadline_at").first()
    if row is None:
        return False
    execution.sent_at, execution.deadline_at = row["sent_at"], row["deadline_at"]
    execution.attempts = expected + 1
    return True


def _announce(job: Job, execution: JobExecution, outcome_error: str | None) -> None:
    if execution.status == ExecutionStatus.SUCCESS:
        notify(event=Event.EXECUTION_SUCCEEDED, job=job, execution=execution)
    elif execution.status == ExecutionStatus.UNKNOWN:
        notify(event=Event.EXECUTION_UNKNOWN, job=job, execution=execution, error=execution.error_message)
    elif execution.status == ExecutionStatus.FAILED:
        notify(event=Event.EXECUTION_FAILED, job=job, execution=execution,
               error=outcome_error or execution.error_message)


def _stamp(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if moment else None


def _log_call(execution: JobExecution, outcome: Outcome, *, began: dt.datetime, ended: dt.datetime) -> dict:
    entry = {
        "attempt": execution.attempts, "at": _stamp(began), "outcome": outcome.status,
        "status": outcome.response_status, "error": outcome.error_message,
        "duration_seconds": round((ended - began).total_seconds(), 3),
    }
    execution.attempt_log = [*(execution.attempt_log or []), entry]
    return entry


def _rate_limit_started(execution: JobExecution) -> dt.datetime | None:
    """When the run first had to wait for GitHub's rate limits (from its attempt log)."""
    for entry in execution.attempt_log or []:
        if entry.get("outcome") in (RATE_LIMITED, BUDGET):
            return dt.datetime.fromisoformat(entry["at"].replace("Z", "+00:00"))
    return None


def _defer(execution: JobExecution, *, reason: str, until: dt.datetime | None) -> bool:
    """Leave the row ``running`` with nothing in flight, to be sent again at ``until`` (by the
    scheduler leader: ``executions_waiting``). False when the row is no longer ours."""
    fields = {"wait_reason": reason, "next_attempt_at": until, "sent_at": None, "deadline_at": None,
              "attempt_log": execution.attempt_log, "response_status": execution.response_status,
              "error_message": execution.error_message, "target": execution.target}
    rows = JobExecution.objects.filter(pk=execution.pk, status=ExecutionStatus.RUNNING,
                                       claimed_by=execution.claimed_by)
    if rows.update(**fields):
        for name, value in fields.items():
            setattr(execution, name, value)
        return True
    return False


def _rate_limit_deadline(execution: JobExecution) -> dt.datetime:
    """The latest moment the dispatch may still go out: from the first time rate limits held it
    (a buffered run that waited for its previous run does not lose that time)."""
    since = _rate_limit_started(execution) or execution.started_at
    return since + dt.timedelta(seconds=settings.GITHUB_RATE_LIMIT_MAX_WAIT_SECONDS)


def _wait_or_fail(job: Job, execution: JobExecution, config: RunConfig, *, reason: str, until: dt.datetime,
                  why: str, write: Writer, outcome: Outcome | None = None) -> JobExecution:
    """Defer the run (a retry's backoff, a rate limit), or end it when it may not wait that long."""
    execution.attempt_log[-1]["retry_at"] = _stamp(until)
    failure = None
    if reason == WaitReason.RATE_LIMIT and until > _rate_limit_deadline(execution):
        failure = (f"rate limited by GitHub: the dispatch could not go out within "
                   f"{settings.GITHUB_RATE_LIMIT_MAX_WAIT_SECONDS} s of being first held back "
                   f"(GITHUB_RATE_LIMIT_MAX_WAIT_SECONDS); {why}")
    elif config.github_token:
        failure = f"{why}; not deferred: a run with its own github_token is never stored to be sent later"
    if failure is not None:
        execution.attempt_log[-1].pop("retry_at", None)
        outcome = outcome or Outcome(ExecutionStatus.FAILED)
        message = failure if outcome.error_message is None else f"{outcome.error_message} ({failure})"
        final = Outcome(ExecutionStatus.FAILED, response_status=outcome.response_status,
                        output=outcome.output, error_message=message)
        return _finish(job, execution, final, write=write)
    if not write(lambda: _defer(execution, reason=reason, until=until), f"defer run {execution.pk}"):
        log.warning("Run %s of job %s was taken over by another process: not deferring it",
                    execution.pk, job.pk)
    else:
        log.info("Run %s of job %s waits until %s: %s", execution.pk, job.pk, until.isoformat(), why)
    return execution


def _finish(job: Job, execution: JobExecution, outcome: Outcome, *, write: Writer,
            note: str | None = None) -> JobExecution:
    if outcome.target:
        execution.target = outcome.target  # a .yml/.yaml fallback: record the workflow that ran
    execution.github_run_id = outcome.github_run_id
    execution.github_run_url = outcome.github_run_url
    if note:
        execution.note = note
    if outcome.follow_ref is not None:
        # Accepted: the run stays ``running`` until its workflow run concludes
        # (jobs.services.github_runs closes and announces it then).
        next_poll = github_runs.first_poll_at(timezone.now())
        followed = write(lambda: execution.start_following(
            response_status=outcome.response_status, output=outcome.output, ref=outcome.follow_ref,
            next_poll_at=next_poll), f"record the dispatch of run {execution.pk}")
        if not followed:
            log.warning("Run %s of job %s was closed by another process meanwhile; GitHub accepted its "
                        "dispatch", execution.pk, job.pk)
        return execution
    recorded = write(lambda: execution.finish(
        status=outcome.status, response_status=outcome.response_status, output=outcome.output,
        error_message=outcome.error_message), f"record the outcome of run {execution.pk}")
    if not recorded:
        log.warning("Run %s of job %s was closed by another process meanwhile; its answer here was %s",
                    execution.pk, job.pk, outcome.status)
        return execution
    _announce(job, execution, outcome.notify_error or outcome.error_message)
    return execution


def _send_and_finish(job: Job, execution: JobExecution, config: RunConfig, *, write: Writer,
                     note: str | None = None, in_request: bool = False) -> JobExecution | None:
    """One call of the run, then its end or its next wait (docs/execution.md, "Retries").

    A GitHub dispatch first takes its place in the token's budget; beyond it the run
    waits (``rate_limit``), deferred in the database. Then: mark sent, call, and
    record the answer: final (recorded and announced), or retried later when it is
    retryable and attempts are left (``retry``), or deferred until a rate-limit
    answer's time. Returns None when another process took the row over before the call.
    """
    timeout = call_timeout(job, in_request=in_request)
    try:
        grant = write(lambda: github_grant(config), f"take from the GitHub budget ({execution.pk})")
    except Exception:  # the budget must never keep a run from ending
        log.exception("GitHub rate budget unavailable for run %s; sending without it", execution.pk)
        grant = None
    if grant is not None and not grant.granted:
        now = timezone.now()
        execution.attempt_log = [*(execution.attempt_log or []), {
            "attempt": None, "at": _stamp(now), "outcome": BUDGET, "status": None, "error": grant.reason}]
        return _wait_or_fail(job, execution, config, reason=WaitReason.RATE_LIMIT, until=grant.wait_until,
                             why=f"waiting for GitHub's rate limit: {grant.reason}", write=write)
    if not write(lambda: _mark_sent(execution, timeout), f"mark run {execution.pk} sent"):
        log.warning("Run %s of job %s was taken over by another process before it was sent: not sending",
                    execution.pk, job.pk)
        return None
    waited_since = _rate_limit_started(execution)
    if waited_since is not None:
        execution.rate_limit_wait_seconds = max(0.0, (execution.sent_at - waited_since).total_seconds())
    began = timezone.now()
    try:
        request = None
        if config.execution_type == ExecutionType.WEBHOOK:
            request = webhook_request(job, execution, execution.attempts, config=config, timeout=timeout)
        outcome = dispatch(config, trigger=execution.trigger_type, webhook=request, timeout=timeout)
    except Exception as exc:  # the row must never stay 'running' because of a bug or a surprise
        log.exception("Unexpected error executing job %s", job.pk)
        outcome = Outcome(ExecutionStatus.FAILED,
                          error_message=f"Unexpected error executing job '{job.name}': {exc}")
    entry = _log_call(execution, outcome, began=began, ended=timezone.now())
    if outcome.target:
        execution.target = outcome.target
    if outcome.rate_limited_until is not None:
        entry["outcome"] = RATE_LIMITED
        execution.response_status, execution.error_message = outcome.response_status, outcome.error_message
        return _wait_or_fail(job, execution, config, reason=WaitReason.RATE_LIMIT,
                             until=outcome.rate_limited_until, outcome=outcome, write=write,
                             why=f"GitHub answered {outcome.response_status} (rate limit)")
    if retryable(outcome) and execution.attempts < max(1, job.max_attempts):
        until = timezone.now() + dt.timedelta(seconds=backoff_seconds(job.retry_backoff_seconds,
                                                                       execution.attempts))
        execution.response_status, execution.error_message = outcome.response_status, outcome.error_message
        return _wait_or_fail(job, execution, config, reason=WaitReason.RETRY, until=until, outcome=outcome,
                             write=write, why=f"attempt {execution.attempts} of {job.max_attempts} failed "
                             f"({outcome.error_message})")
    return _finish(job, execution, outcome, write=write, note=note)


def _close(job: Job, execution: JobExecution, status: str, reason: str, *, write: Writer) -> JobExecution:
    """Record a run that will not be sent (missed, failed before sending) or whose outcome is unknown."""
    write(lambda: execution.finish(status=status, error_message=reason), f"close run {execution.pk}")
    _announce(job, execution, reason)
    return execution


# --- overlap policy -----------------------------------------------------------------------------------
def _running_before(job: Job, scheduled_for: dt.datetime) -> JobExecution | None:
    """The job's run still ``running`` (any trigger; waiting rows too), other than this fire time's."""
    return (JobExecution.objects.filter(job=job, status=ExecutionStatus.RUNNING)
            .exclude(scheduled_for=scheduled_for).order_by("started_at").first())


def jobs_with_running_rows(job_ids) -> set[str]:
    """Which of ``job_ids`` have a run still ``running`` (in flight, waiting or followed): the
    burst pipeline leaves their fires to the path that applies the overlap policy."""
    busy: set[str] = set()
    for chunk in _chunks(list(job_ids)):
        busy.update(JobExecution.objects.filter(job_id__in=chunk, status=ExecutionStatus.RUNNING)
                    .values_list("job_id", flat=True).distinct())
    return busy


def job_fire_while_busy(*, job: Job, scheduled_for: dt.datetime, previous: JobExecution | None = None,
                        claimer: str | None = None) -> JobExecution | None:
    """A fire that came while the previous run of the job is still running, per the job's
    ``overlap_policy``: ``skip`` → a ``skipped`` row with the reason; ``buffer_one`` → one
    run waits (``previous_run``) and starts when nothing else of the job runs, a further
    fire is skipped. ``allow`` is for the caller to send. None when the fire time was
    already recorded (safe to repeat)."""
    previous = previous or _running_before(job, scheduled_for)
    since = ""
    if previous is not None:
        waiting = {WaitReason.RETRY: ", waiting for a retry", WaitReason.RATE_LIMIT: ", waiting for GitHub's "
                   "rate limit", WaitReason.PREVIOUS_RUN: ", buffered"}.get(previous.wait_reason, "")
        since = f" (started {_stamp(previous.started_at)}{waiting})"
    if job.overlap_policy == OverlapPolicy.BUFFER_ONE:
        waiting = JobExecution.objects.filter(job=job, status=ExecutionStatus.RUNNING,
                                              wait_reason=WaitReason.PREVIOUS_RUN).exists()
        if not waiting:
            config = run_config(job=job)
            execution = JobExecution(
                job=job, status=ExecutionStatus.RUNNING, trigger_type=TriggerType.SCHEDULED,
                scheduled_for=scheduled_for, execution_type=config.execution_type, target=config.target,
                claimed_by=claimer or claimer_id(), wait_reason=WaitReason.PREVIOUS_RUN,
                attempt_log=[{"attempt": None, "at": _stamp(timezone.now()), "outcome": BUFFERED,
                              "status": None,
                              "error": f"the previous run of this job was still running{since}"}],
            )
            return execution if _claim(execution) else None
        reason = (f"the previous run of this job was still running{since} and one run already waits "
                  f"for it (overlap policy: buffer_one)")
    else:
        reason = f"the previous run of this job was still running{since} (overlap policy: skip)"
    return execution_record_skipped(job=job, scheduled_for=scheduled_for, reason=reason)


def job_execute(*, job: Job, trigger: str, scheduled_for: dt.datetime | None = None,
                overrides: dict | None = None, read_at_fire_time: bool = False,
                claimer: str | None = None, write: Writer = write_once,
                grace_seconds: float | None = None) -> JobExecution | None:
    """Run ``job`` now and return the execution (None when a scheduled run did not happen).

    The execution returned is finished, or still ``running`` when it waits: a retry
    after a retryable failure (``max_attempts``), GitHub's rate limit, or (a
    scheduled fire under ``overlap_policy=buffer_one``) the previous run; the
    scheduler leader sends waiting runs when they are due (``execution_resume``).

    ``trigger="scheduled"`` (needs ``scheduled_for``): the job is re-read so the run
    uses the configuration as it is now, unless the caller read it at the fire time
    already (``read_at_fire_time``: the scheduler reads all jobs due at one fire time
    in one query); inactive → None; expired → auto-pause,
    notify creator + admins, None. A fire while the job's previous run is still
    running follows the job's ``overlap_policy`` (``job_fire_while_busy``). The
    running row is INSERTed first with its fire
    time, and that insert is the claim: a second scheduler inserting the same
    (job, scheduled_for) gets an IntegrityError and dispatches nothing (None).
    ``claimer`` names the owner (the scheduler's leadership); ``write`` runs each
    database write (the scheduler's retries until the database is back); with
    ``grace_seconds``, a claim that could only be written beyond the misfire grace
    (the database was away) is recorded ``missed`` instead of sent late.

    ``trigger="manual"``: ``overrides`` are the fields of the execute request body
    already checked (``run_overrides``). Inactive jobs run; an expired job is paused
    silently (committed, so do not call this inside a transaction you roll back)
    and JobExpired is raised.
    """
    if trigger == TriggerType.SCHEDULED:
        if scheduled_for is None:
            raise ValueError("scheduled runs need scheduled_for (the fire time they claim)")
        if not read_at_fire_time:
            job = Job.objects.filter(pk=job.pk).first()
        if job is None or not job.is_active:
            return None
        if job.is_expired(scheduler_today()):
            if job.pause(via=audit.SCHEDULER):
                notify(event=Event.JOB_EXPIRED_AT_FIRE, job=job)
            return None
        if job.overlap_policy != OverlapPolicy.ALLOW:
            previous = write(lambda: _running_before(job, scheduled_for), f"look for a run of {job.pk}")
            if previous is not None:
                return write(lambda: job_fire_while_busy(job=job, scheduled_for=scheduled_for,
                                                         previous=previous, claimer=claimer),
                             f"record the overlapping fire of job {job.pk} at {scheduled_for}")
        config = run_config(job=job)
        execution = JobExecution(
            job=job, status=ExecutionStatus.RUNNING, trigger_type=TriggerType.SCHEDULED,
            scheduled_for=scheduled_for, execution_type=config.execution_type, target=config.target,
            claimed_by=claimer or claimer_id(),
        )
        with _flight(execution.pk):
            if not write(lambda: _claim(execution), f"claim the run of job {job.pk} at {scheduled_for}"):
                log.info("Fire time %s of job %s already claimed: not dispatching", scheduled_for, job.pk)
                return None
            lateness = (execution.started_at - scheduled_for).total_seconds()
            if grace_seconds is not None and lateness > grace_seconds:
                return _close(job, execution, ExecutionStatus.MISSED, (
                    f"claimed {lateness:.1f} s late (the database was unavailable), beyond the misfire "
                    f"grace of {grace_seconds:.0f} s"), write=write)
            return _send_and_finish(job, execution, config, write=write)

    if trigger == TriggerType.MANUAL:
        if job.is_expired(scheduler_today()):
            job.pause()
            raise JobExpired()
        config = run_config(job=job, overrides=overrides)
        kept = {key: value for key, value in (overrides or {}).items() if key != "github_token"}
        execution = JobExecution(
            job=job, status=ExecutionStatus.RUNNING, trigger_type=TriggerType.MANUAL,
            execution_type=config.execution_type, target=config.target, claimed_by=claimer or claimer_id(),
            run_overrides=kept or None,
        )
        with _flight(execution.pk):
            # Recording the claim is tried once (nothing has gone out: the request answers the
            # outage). Once the call may have gone out, its record is retried while the database
            # is away, for a while: the request's thread waits meanwhile; after that the row is
            # closed at its deadline by the scheduler leader, as ``unknown``.
            write(lambda: _claim(execution), f"record the manual run of job {job.pk}")
            after_sending = bounded_writer(MANUAL_RECORD_RETRY_SECONDS) if write is write_once else write
            return _send_and_finish(job, execution, config, write=after_sending, in_request=True)

    raise ValueError(f"unknown trigger {trigger!r}")


# --- waiting runs: sent by the scheduler leader when due ------------------------------------------------
def executions_waiting(*, now: dt.datetime, limit: int = 1000) -> list[str]:
    """Waiting runs due now, in the order they wait: retries and rate-limited dispatches whose
    ``next_attempt_at`` has come (earliest first, then the oldest run), and buffered runs
    (``buffer_one``) whose job has nothing else running."""
    due = list(JobExecution.objects.filter(
        status=ExecutionStatus.RUNNING, wait_reason__in=(WaitReason.RETRY, WaitReason.RATE_LIMIT),
        next_attempt_at__lte=now,
    ).order_by("next_attempt_at", "started_at").values_list("pk", flat=True)[:limit])
    others = JobExecution.objects.filter(job=OuterRef("job"), status=ExecutionStatus.RUNNING).exclude(
        pk=OuterRef("pk"))
    buffered = (JobExecution.objects
                .filter(status=ExecutionStatus.RUNNING, wait_reason=WaitReason.PREVIOUS_RUN)
                .filter(~Exists(others)).order_by("started_at").values_list("pk", flat=True)[:limit])
    return [*due, *buffered]


def _take_waiting(execution: JobExecution, claimer: str) -> bool:
    """Take a waiting row (it stops waiting, this process owns it). False when someone else did."""
    rows = JobExecution.objects.filter(pk=execution.pk, status=ExecutionStatus.RUNNING)
    now = timezone.now()
    deadline = run_deadline(now, call_timeout(execution.job))
    if rows.filter(claimed_by=execution.claimed_by, wait_reason=execution.wait_reason,
                   next_attempt_at=execution.next_attempt_at).update(
            claimed_by=claimer, wait_reason=None, next_attempt_at=None, deadline_at=deadline):
        execution.claimed_by, execution.wait_reason, execution.next_attempt_at = claimer, None, None
        execution.deadline_at = deadline
        return True
    if rows.filter(claimed_by=claimer, wait_reason__isnull=True).exists():  # our lost answer
        execution.claimed_by, execution.wait_reason, execution.next_attempt_at = claimer, None, None
        return True
    return False


def execution_resume(execution_id: str, *, claimer: str, write: Writer = write_once) -> str:
    """Send a waiting run that is due (``executions_waiting``). Returns what happened, for the log:
    ``sent`` (then finished or waiting again), ``skipped`` (a buffered run of a paused job),
    ``failed``, or ``not-ours`` when another process took it or it ended meanwhile."""
    execution = JobExecution.objects.select_related("job").filter(
        pk=execution_id, status=ExecutionStatus.RUNNING, wait_reason__isnull=False).first()
    if execution is None:
        return "not-ours"
    with _flight(execution.pk):
        was = execution.wait_reason
        if not write(lambda: _take_waiting(execution, claimer), f"take waiting run {execution.pk}"):
            return "not-ours"
        job = execution.job
        if execution.trigger_type == TriggerType.SCHEDULED and (
                not job.is_active or job.is_expired(scheduler_today())):
            if was == WaitReason.PREVIOUS_RUN:
                _close(job, execution, ExecutionStatus.SKIPPED, "buffered run not started: the job has "
                       "been paused since", write=write)
                return "skipped"
            last = execution.error_message or "the last attempt failed"
            _close(job, execution, ExecutionStatus.FAILED, f"{last} (no further attempt: the job has been "
                   "paused since)", write=write)
            return "failed"
        config = run_config(job=job, overrides=execution.run_overrides)
        if config.execution_type is None:
            _close(job, execution, ExecutionStatus.FAILED, "the job no longer has a target", write=write)
            return "failed"
        if execution.attempts == 0:
            execution.execution_type, execution.target = config.execution_type, config.target
        elif config.execution_type != execution.execution_type:
            last = execution.error_message or "the last attempt failed"
            _close(job, execution, ExecutionStatus.FAILED, f"{last} (no further attempt: the job's target "
                   "changed while the run waited)", write=write)
            return "failed"
        elif config.execution_type == ExecutionType.WEBHOOK:
            config.target_url = execution.target or config.target_url  # every attempt to the same URL
        result = _send_and_finish(job, execution, config, write=write)
        return "sent" if result is not None else "not-ours"


# --- rows that never dispatch ---------------------------------------------------------------------
def _record_undispatched(job: Job, scheduled_for: dt.datetime, status: str,
                         reason: str) -> JobExecution | None:
    """Safe to repeat: a retry after a lost answer finds its own row and returns None like a lost race."""
    now = timezone.now()
    try:
        with transaction.atomic():
            return JobExecution.objects.create(
                job=job, status=status, trigger_type=TriggerType.SCHEDULED, scheduled_for=scheduled_for,
                started_at=now, completed_at=now, duration_seconds=0.0,
                execution_type=job.execution_type, target=job.target_display, error_message=reason,
            )
    except IntegrityError:
        return None


def execution_record_missed(*, job: Job, scheduled_for: dt.datetime, reason: str) -> JobExecution | None:
    """Record a fire time that passed beyond the misfire grace (None if it was already claimed)."""
    return _record_undispatched(job, scheduled_for, ExecutionStatus.MISSED, reason)


def execution_record_skipped(*, job: Job, scheduled_for: dt.datetime, reason: str) -> JobExecution | None:
    """Record a fire time skipped on purpose, e.g. the previous run still busy (None if already claimed)."""
    return _record_undispatched(job, scheduled_for, ExecutionStatus.SKIPPED, reason)


# --- recovery -----------------------------------------------------------------------------------------
def executions_needing_recovery(*, now: dt.datetime, leadership_start: bool) -> list[str]:
    """Running rows this process should recover, oldest first.

    Always: rows past their ``deadline_at`` (they cannot still be in flight),
    manual runs included; rows from before run phases were recorded (no
    deadline) once they are older than a call's bound. With ``leadership_start``
    also every scheduled row claimed before ``now`` (the previous leader is gone).
    Rows this process is still working on are never returned.
    """
    legacy_cutoff = now - (run_deadline(now) - now)
    due = Q(deadline_at__lt=now) | Q(deadline_at__isnull=True, started_at__lt=legacy_cutoff)
    if leadership_start:
        due |= Q(trigger_type=TriggerType.SCHEDULED, started_at__lt=now)
    mine = in_flight_ids()
    # A followed GitHub run (the dispatch was accepted and recorded) belongs to the
    # follower (jobs.services.github_runs): it ends when GitHub says the run did, or
    # at the follow limit, never as interrupted while GitHub still reports it.
    # Waiting rows (a retry's backoff, a rate limit, a buffered fire) have nothing in flight:
    # ``executions_waiting`` sends them when due, whoever claimed them.
    rows = (JobExecution.objects.filter(status=ExecutionStatus.RUNNING, github_follow_started_at__isnull=True,
                                        wait_reason__isnull=True)
            .filter(due).order_by("started_at").values_list("pk", flat=True))
    return [pk for pk in rows if pk not in mine]


def _take_over(execution: JobExecution, claimer: str) -> bool:
    previous = execution.claimed_by
    # Never a row whose dispatch was recorded as accepted meanwhile: the follower owns it.
    rows = JobExecution.objects.filter(pk=execution.pk, status=ExecutionStatus.RUNNING,
                                       github_follow_started_at__isnull=True)
    if rows.filter(claimed_by=previous, attempts=execution.attempts).update(claimed_by=claimer):
        execution.claimed_by = claimer
        return True
    if rows.filter(claimed_by=claimer, attempts=execution.attempts).exists():  # our lost answer
        execution.claimed_by = claimer
        return True
    return False


def execution_recover(execution_id: str, *, claimer: str, grace_seconds: float,
                      write: Writer = write_once) -> str:
    """Take a run over from the process that left it ``running`` and end it truthfully.

    Returns what happened (for the log): ``sent``, ``re-sent``, ``missed``,
    ``unknown``, ``failed`` (a manual run that was never sent), or ``not-ours``
    when the row was finished or taken over by someone else meanwhile.
    """
    execution = JobExecution.objects.select_related("job").filter(
        pk=execution_id, status=ExecutionStatus.RUNNING, github_follow_started_at__isnull=True).first()
    if execution is None:
        return "not-ours"
    with _flight(execution.pk):
        legacy = execution.claimed_by is None
        if not write(lambda: _take_over(execution, claimer), f"take over run {execution.pk}"):
            return "not-ours"
        job = execution.job
        if legacy:
            _close(job, execution, ExecutionStatus.UNKNOWN, (
                "outcome unknown: left running by a scheduler that did not record whether the call went out"),
                write=write)
            return "unknown"
        if execution.sent_at is None and (execution.attempts or execution.attempt_log):
            # A retry (or a buffered or rate-limited run) taken up but not sent: it waits again, due now.
            execution.attempt_log = [*(execution.attempt_log or []), {
                "attempt": None, "at": _stamp(timezone.now()), "outcome": "requeued", "status": None,
                "error": "taken up by a process that stopped before sending it"}]
            write(lambda: _defer(execution, reason=WaitReason.RETRY, until=timezone.now()),
                  f"requeue run {execution.pk}")
            return "requeued"
        if execution.trigger_type == TriggerType.MANUAL:
            if execution.sent_at is None:
                _close(job, execution, ExecutionStatus.FAILED,
                       "not sent: the process running this manual run stopped before sending it", write=write)
                return "failed"
            _close(job, execution, ExecutionStatus.UNKNOWN, (
                "outcome unknown: the process running this manual run stopped before recording the answer"),
                write=write)
            return "unknown"
        if execution.sent_at is None:
            return _recover_unsent(job, execution, grace_seconds=grace_seconds, write=write)
        return _recover_sent(job, execution, write=write)


def _recover_unsent(job: Job, execution: JobExecution, *, grace_seconds: float, write: Writer) -> str:
    lateness = (timezone.now() - execution.scheduled_for).total_seconds()
    why = "claimed by a scheduler that stopped before sending it"
    if not job.is_active or job.is_expired(scheduler_today()):
        _close(job, execution, ExecutionStatus.MISSED, f"{why}; the job has been paused since", write=write)
        return "missed"
    if lateness > grace_seconds:
        _close(job, execution, ExecutionStatus.MISSED, (
            f"{why}; the next scheduler took over {lateness:.1f} s after the fire time, beyond the "
            f"misfire grace of {grace_seconds:.0f} s"), write=write)
        return "missed"
    config = run_config(job=job)
    execution.execution_type, execution.target = config.execution_type, config.target
    result = _send_and_finish(job, execution, config, write=write, note=SENT_BY_NEXT_LEADER_NOTE)
    return "sent" if result is not None else "not-ours"


def _recover_sent(job: Job, execution: JobExecution, *, write: Writer) -> str:
    if execution.execution_type == ExecutionType.GITHUB_ACTIONS:
        _close(job, execution, ExecutionStatus.UNKNOWN, (
            "outcome unknown: the scheduler stopped after sending the workflow dispatch and before "
            "recording GitHub's answer; look for the run on GitHub"), write=write)
        return "unknown"
    config = run_config(job=job)
    allowed = max(MAX_ATTEMPTS, job.max_attempts)
    if (execution.execution_type != ExecutionType.WEBHOOK or config.execution_type != ExecutionType.WEBHOOK
            or execution.attempts >= allowed):
        reason = ("outcome unknown: the scheduler stopped while this call was in flight, also after it "
                  "was re-sent" if execution.attempts >= allowed else
                  "outcome unknown: the scheduler stopped while this call was in flight, and the job "
                  "no longer calls a webhook")
        _close(job, execution, ExecutionStatus.UNKNOWN, reason, write=write)
        return "unknown"
    config.target_url = execution.target or config.target_url  # the URL the first call went to
    result = _send_and_finish(job, execution, config, write=write, note=RESENT_NOTE)
    return "re-sent" if result is not None else "not-ours"


# --- many runs at once (the scheduler's burst pipeline) ---------------------------------------------
# The same steps as one run, each one statement (or one transaction) for a whole batch,
# each safe to repeat after a write whose answer was lost, each conditional on the owner.
def hold(execution_ids) -> None:
    """Mark runs as being worked on by this process (never recovered by it meanwhile)."""
    with _in_flight_lock:
        _in_flight.update(execution_ids)


def release(execution_ids) -> None:
    with _in_flight_lock:
        _in_flight.difference_update(execution_ids)


def scheduled_claims(claimer: str, now: dt.datetime, runs: list[tuple[Job, dt.datetime, str, str | None]],
                     ) -> list[JobExecution]:
    """Unsaved ``running`` rows of scheduled runs, one per (job, fire time, execution type,
    target), for ``claim_many``: the values ``JobExecution(...)`` gives them, without building
    each through the model's constructor (tens of microseconds per row, thousands of rows in a
    burst): the first row is built by the model, the others copy its values, each with its own
    value of every field whose default is computed (its id, a fresh attempt log)."""
    out: list[JobExecution] = []
    given = {"job_id", "status", "trigger_type", "scheduled_for", "execution_type", "target", "claimed_by",
             "started_at"}
    computed = [f for f in JobExecution._meta.concrete_fields
                if f.attname not in given and f.has_default() and callable(f.default)]
    shared = None
    for job, scheduled_for, execution_type, target in runs:
        if shared is None:
            first = JobExecution(job=job, status=ExecutionStatus.RUNNING, trigger_type=TriggerType.SCHEDULED,
                                 scheduled_for=scheduled_for, execution_type=execution_type, target=target,
                                 claimed_by=claimer, started_at=now)
            shared = {name: value for name, value in first.__dict__.items() if name != "_state"}
            out.append(first)
            continue
        execution = JobExecution.__new__(JobExecution)
        values = execution.__dict__
        values.update(shared)
        values["_state"] = ModelState()
        for f in computed:
            values[f.attname] = f.get_default()
        values["job_id"] = job.pk
        execution._state.fields_cache["job"] = job
        values["scheduled_for"] = scheduled_for
        values["execution_type"], values["target"] = execution_type, target
        out.append(execution)
    return out


def claim_many(executions: list[JobExecution]) -> list[JobExecution]:
    """INSERT the running rows of many scheduled runs (multi-row statements); returns those now ours.

    A (job, fire time) another scheduler holds is skipped by the database (its unique
    constraint: ``ON CONFLICT DO NOTHING`` / ``INSERT OR IGNORE`` / ``INSERT IGNORE``);
    which rows are ours is read back by owner, so a repeat after a lost answer finds
    the rows the first attempt inserted. The statement names only the columns a claim
    sets and those that cannot be NULL (the others stay NULL, as on a single claim).
    """
    if not executions:
        return []
    now = timezone.now()
    deadline = run_deadline(now)
    for execution in executions:
        execution.started_at, execution.deadline_at = now, deadline
    with transaction.atomic():
        insert_rows(JobExecution, *_claim_rows(executions), ignore_conflicts=True)
    claimers = sorted({execution.claimed_by for execution in executions})
    ids = [execution.pk for execution in executions]
    # The rows this very statement inserted carry its started_at; only the others (another
    # scheduler's, or an earlier attempt's whose answer was lost) are read with their values.
    inserted = _ids_where(f"{_col('claimed_by')} IN ({', '.join(['%s'] * len(claimers))}) "
                          f"AND {_col('started_at')} = %s", [*claimers, _db_value('started_at', now)], ids)
    ours = dict.fromkeys(inserted, (now, deadline))
    for chunk in _chunks([pk for pk in ids if pk not in inserted]):
        ours.update((pk, (started, deadline_at)) for pk, started, deadline_at in JobExecution.objects.filter(
            pk__in=chunk, claimed_by__in=claimers).values_list("pk", "started_at", "deadline_at"))
    claimed = []
    for execution in executions:
        if execution.pk in ours:
            execution.started_at, execution.deadline_at = ours[execution.pk]
            claimed.append(execution)
    return claimed


# What a claim row sets per run; every other column of the row is the same for the whole batch.
_CLAIM_PER_RUN = ("id", "job", "scheduled_for", "execution_type", "target", "claimed_by")
_CLAIM_SHARED = ("status", "trigger_type", "started_at", "deadline_at", "attempts")


def _claim_rows(executions: list[JobExecution]) -> tuple[list, list]:
    """The claim rows' (fields, prepared values), for ``insert_rows``."""
    meta = JobExecution._meta
    per_run = [meta.get_field(name) for name in _CLAIM_PER_RUN]
    shared = [meta.get_field(name) for name in _CLAIM_SHARED]
    named = {f.name for f in per_run + shared}
    # Columns that may not be NULL and are not set above take their model default.
    defaults = [f for f in meta.concrete_fields if not f.null and f.name not in named]
    first = executions[0]
    constants = [f.get_db_prep_save(getattr(first, f.attname), connection) for f in shared]
    constants += [f.get_db_prep_save(f.get_default(), connection) for f in defaults]
    stamp = {}  # fire time -> its database value (a burst has few distinct ones)
    scheduled = meta.get_field("scheduled_for")
    rows = []
    # In the order of the unique (job, fire time) key: two schedulers claiming overlapping
    # batches (a split brain) then wait for each other's rows in one order, never in a cycle
    # (PostgreSQL and MariaDB would end one of them with a deadlock error).
    for execution in sorted(executions, key=lambda e: (e.job_id, e.scheduled_for)):
        when = execution.scheduled_for
        if when not in stamp:
            stamp[when] = scheduled.get_db_prep_save(when, connection)
        rows.append((execution.pk, execution.job_id, stamp[when], execution.execution_type, execution.target,
                     execution.claimed_by, *constants))
    return per_run + shared + defaults, rows


def mark_sent_many(executions: list[JobExecution]) -> list[JobExecution]:
    """Commit that the first call of each freshly claimed run is about to go out; returns those still ours."""
    if not executions:
        return []
    now = timezone.now()
    # One deadline for the batch: the longest call any of its jobs may make (a later
    # deadline only makes recovery wait longer before it asks what became of a run).
    deadline = run_deadline(now, max(call_timeout(execution.job) for execution in executions))
    claimer = executions[0].claimed_by
    ids = [execution.pk for execution in executions]
    owned = f"{_col('status')} = %s AND {_col('claimed_by')} = %s"
    sent_at = _db_value("sent_at", now)
    update = (f"UPDATE {_table()} SET {_col('sent_at')} = %s, {_col('deadline_at')} = %s, "
              f"{_col('attempts')} = 1 WHERE {owned} AND {_col('attempts')} = 0 AND {_col('id')}")
    values = [sent_at, _db_value("deadline_at", deadline), ExecutionStatus.RUNNING.value, claimer]
    with connection.cursor() as cursor:
        for among, chunk in _among(ids):
            cursor.execute(update + among, [*values, *chunk])
    # Rows this update marked carry its sent_at; the others (marked by an earlier attempt whose
    # answer was lost, or no longer ours) are read with their values.
    marked = _ids_where(f"{owned} AND {_col('attempts')} = 1 AND {_col('sent_at')} = %s",
                        [ExecutionStatus.RUNNING.value, claimer, sent_at], ids)
    sent = dict.fromkeys(marked, (now, deadline))
    rows = JobExecution.objects.filter(status=ExecutionStatus.RUNNING, claimed_by=claimer, attempts=1)
    for chunk in _chunks([pk for pk in ids if pk not in marked]):
        sent.update((pk, (at, until)) for pk, at, until in rows.filter(pk__in=chunk)
                    .values_list("pk", "sent_at", "deadline_at"))
    out = []
    for execution in executions:
        if execution.pk in sent:
            execution.sent_at, execution.deadline_at = sent[execution.pk]
            execution.attempts = 1
            out.append(execution)
    return out


_FINISH_FIELDS = ("completed_at", "duration_seconds", "status", "response_status", "output", "error_message",
                  "execution_type", "target", "github_run_id", "github_run_url", "note", "attempt_log")


def finish_many(results: list[tuple[JobExecution, Outcome, dt.datetime]]) -> list[JobExecution]:
    """Record the outcomes of many runs (execution, outcome, answered at) in one transaction.

    Each row is updated only while it is still ``running`` and claimed by this process
    (``cronhub.db.update_rows``: one statement for the batch on PostgreSQL); returns the
    runs now recorded as this process recorded them (a repeat finds its own rows; a row
    taken over meanwhile is not ours).
    """
    if not results:
        return []
    meta = JobExecution._meta
    fields = [meta.get_field(name) for name in _FINISH_FIELDS]
    match = [meta.get_field("id"), meta.get_field("claimed_by")]
    rows = []
    prepare = [(f.attname, _preparer(f)) for f in fields]
    for execution, outcome, answered_at in results:
        _apply_outcome(execution, outcome, answered_at)
        rows.append([*(prep(getattr(execution, attname)) for attname, prep in prepare),
                     execution.pk, execution.claimed_by])
    with transaction.atomic():
        update_rows(JobExecution, fields, match, rows, where=f"{_col('status')} = %s",
                    where_params=[ExecutionStatus.RUNNING.value])
    claimer = results[0][0].claimed_by
    ids = [execution.pk for execution, _o, _a in results]
    done = _ids_where(f"{_col('claimed_by')} = %s AND {_col('status')} <> %s",
                      [claimer, ExecutionStatus.RUNNING.value], ids)
    return [execution for execution, _o, _a in results if execution.pk in done]


def _preparer(field) -> Callable:
    """``field.get_db_prep_save(value, connection)`` with shortcuts for the plain values a burst
    records thousands of (text, numbers, aware datetimes: what that call does to them, directly);
    anything else goes the whole way."""
    full = functools.partial(field.get_db_prep_save, connection=connection)
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        def prep(value):
            if value is None:
                return None
            if type(value) is dt.datetime and value.tzinfo is not None:
                return ops.adapt_datetimefield_value(value)
            return full(value)
    elif isinstance(field, (models.CharField, models.TextField)):
        def prep(value):
            return value if value is None or type(value) is str else full(value)
    elif isinstance(field, models.FloatField):
        def prep(value):
            return value if value is None or type(value) is float else full(value)
    elif isinstance(field, models.IntegerField):
        internal = field.get_internal_type()

        def prep(value):
            if value is None:
                return None
            return ops.adapt_integerfield_value(value, internal) if type(value) is int else full(value)
    else:
        prep = full
    return prep


def _apply_outcome(execution: JobExecution, outcome: Outcome, answered_at: dt.datetime) -> None:
    """Set the fields ``JobExecution.finish`` writes, as it writes them (the one call's entry
    in the attempt log included)."""
    _log_call(execution, outcome, began=execution.sent_at or execution.started_at, ended=answered_at)
    if outcome.target:
        execution.target = outcome.target
    execution.github_run_id = outcome.github_run_id
    execution.github_run_url = outcome.github_run_url
    execution.completed_at = answered_at
    execution.duration_seconds = max(0.0, (answered_at - execution.started_at).total_seconds())
    execution.status = outcome.status
    execution.response_status = outcome.response_status
    output = outcome.output
    execution.output = output[:OUTPUT_MAX_CHARS].replace("\x00", "\ufffd") if output is not None else None
    error = outcome.error_message
    execution.error_message = error.replace("\x00", "\ufffd") if error is not None else None


def announcements(results: list[tuple[Job, JobExecution, Outcome]]) -> list[Announcement]:
    """What ``_announce`` would tell for each recorded run, for ``notify_many``."""
    out = []
    for job, execution, outcome in results:
        if execution.status == ExecutionStatus.SUCCESS:
            out.append(Announcement(Event.EXECUTION_SUCCEEDED, job, execution, None))
        elif execution.status == ExecutionStatus.UNKNOWN:
            out.append(Announcement(Event.EXECUTION_UNKNOWN, job, execution, execution.error_message))
        elif execution.status == ExecutionStatus.FAILED:
            out.append(Announcement(Event.EXECUTION_FAILED, job, execution,
                                    outcome.notify_error or outcome.error_message or execution.error_message))
    return out


# The burst's read-backs and updates by id are plain SQL (the same on SQLite, PostgreSQL and
# MySQL/MariaDB): compiling an ORM ``pk__in`` of hundreds of ids cost more than running it.
def _table() -> str:
    return connection.ops.quote_name(JobExecution._meta.db_table)


def _col(name: str) -> str:
    return connection.ops.quote_name(JobExecution._meta.get_field(name).column)


def _db_value(name: str, value):
    """``value`` as the database is sent it for field ``name`` (as an INSERT or UPDATE sends it)."""
    return JobExecution._meta.get_field(name).get_db_prep_save(value, connection)


def _among(ids: list[str]):
    """(SQL that follows a column: it is one of ``ids``, its parameters), a part of ``ids`` at a
    time: on PostgreSQL ``= ANY(%s)`` with one array (the statement's text the same for any
    number of ids), elsewhere ``IN (%s, …)`` with at most 500 placeholders."""
    if connection.vendor == "postgresql":
        for chunk in _chunks(ids, 5000):
            yield " = ANY(%s::varchar[])", [chunk]
        return
    for chunk in _chunks(ids):
        yield " IN (" + ", ".join(["%s"] * len(chunk)) + ")", chunk


def _ids_where(where: str, params: list, ids: list[str]) -> set[str]:
    """The ids among ``ids`` whose rows match ``where`` (with ``params``)."""
    found: set[str] = set()
    head = f"SELECT {_col('id')} FROM {_table()} WHERE {where} AND {_col('id')}"
    with connection.cursor() as cursor:
        for among, chunk in _among(ids):
            cursor.execute(head + among, [*params, *chunk])
            found.update(row[0] for row in cursor.fetchall())
    return found


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start:start + size]
