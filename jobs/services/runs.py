"""Running jobs: claim, dispatch, record, announce.

``job_execute`` records a ``JobExecution`` (running → success/failed), sends it
through ``jobs.services.dispatch`` and tells people through
``notifications.services.notify``. Rows for fire times that never dispatch
(missed, skipped) and the closing of runs a dead scheduler left behind live
here too.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from cronhub.errors import InvalidInput
from jobs.models import ExecutionStatus, Job, JobExecution, TriggerType, scheduler_today
from jobs.services.dispatch import Outcome, RunConfig, dispatch, run_config
from notifications.services import Event, notify

log = logging.getLogger(__name__)

INTERRUPTED_MESSAGE = "interrupted: scheduler restarted"


class JobExpired(InvalidInput):
    """A manual run of a job past its end date (the job has been paused)."""

    def __init__(self):
        super().__init__("Job expired", "This job has passed its end_date and was auto-paused.",
                         field="end_date")


def _dispatch_and_finish(job: Job, execution: JobExecution, config: RunConfig) -> JobExecution:
    try:
        outcome = dispatch(config, trigger=execution.trigger_type)
    except Exception as exc:  # the row must never stay 'running' because of a bug or a surprise
        log.exception("Unexpected error executing job %s", job.pk)
        outcome = Outcome(ExecutionStatus.FAILED,
                          error_message=f"Unexpected error executing job '{job.name}': {exc}")
    if outcome.target:
        execution.target = outcome.target  # a .yml/.yaml fallback: record the workflow that ran
    execution.github_run_id = outcome.github_run_id
    execution.github_run_url = outcome.github_run_url
    execution.finish(status=outcome.status, response_status=outcome.response_status,
                     output=outcome.output, error_message=outcome.error_message)
    if outcome.status == ExecutionStatus.SUCCESS:
        notify(event=Event.EXECUTION_SUCCEEDED, job=job, execution=execution)
    else:
        notify(event=Event.EXECUTION_FAILED, job=job, execution=execution,
               error=outcome.notify_error or outcome.error_message)
    return execution


def job_execute(*, job: Job, trigger: str, scheduled_for: dt.datetime | None = None,
                overrides: dict | None = None, read_at_fire_time: bool = False) -> JobExecution | None:
    """Run ``job`` now and return the finished execution (None when a scheduled run did not happen).

    ``trigger="scheduled"`` (needs ``scheduled_for``): the job is re-read so the run
    uses the configuration as it is now, unless the caller read it at the fire time
    already (``read_at_fire_time``: the scheduler reads all jobs due at one fire time
    in one query); inactive → None; expired → auto-pause,
    notify creator + admins, None. The running row is INSERTed first with its fire
    time, and that insert is the claim: a second scheduler inserting the same
    (job, scheduled_for) gets an IntegrityError and dispatches nothing (None).

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
            if job.pause():
                notify(event=Event.JOB_EXPIRED_AT_FIRE, job=job)
            return None
        config = run_config(job=job)
        try:
            with transaction.atomic():
                execution = JobExecution.objects.create(
                    job=job, status=ExecutionStatus.RUNNING, trigger_type=TriggerType.SCHEDULED,
                    scheduled_for=scheduled_for, started_at=timezone.now(),
                    execution_type=config.execution_type, target=config.target,
                )
        except IntegrityError:
            log.info("Fire time %s of job %s already claimed: not dispatching", scheduled_for, job.pk)
            return None
        return _dispatch_and_finish(job, execution, config)

    if trigger == TriggerType.MANUAL:
        if job.is_expired(scheduler_today()):
            job.pause()
            raise JobExpired()
        config = run_config(job=job, overrides=overrides)
        execution = JobExecution.objects.create(
            job=job, status=ExecutionStatus.RUNNING, trigger_type=TriggerType.MANUAL,
            started_at=timezone.now(), execution_type=config.execution_type, target=config.target,
        )
        return _dispatch_and_finish(job, execution, config)

    raise ValueError(f"unknown trigger {trigger!r}")


# --- rows that never dispatch ---------------------------------------------------------------------
def _record_undispatched(job: Job, scheduled_for: dt.datetime, status: str,
                         reason: str) -> JobExecution | None:
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


def executions_close_interrupted(*, started_before: dt.datetime | None = None) -> int:
    """Close rows a dead scheduler left 'running' as failed, so none stays running forever.

    Returns how many it closed."""
    running = JobExecution.objects.filter(status=ExecutionStatus.RUNNING)
    if started_before is not None:
        running = running.filter(started_at__lt=started_before)
    closed = 0
    for execution in running.only("pk", "started_at"):
        now = timezone.now()
        closed += JobExecution.objects.filter(pk=execution.pk, status=ExecutionStatus.RUNNING).update(
            status=ExecutionStatus.FAILED, error_message=INTERRUPTED_MESSAGE, completed_at=now,
            duration_seconds=max(0.0, (now - execution.started_at).total_seconds()),
        )
    return closed
