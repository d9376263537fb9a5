"""Running jobs: one dispatcher for scheduled runs, manual runs and test runs.

``job_execute`` records a ``JobExecution`` (running → success/failed), dispatches
through ``integrations`` (GitHub ``workflow_dispatch`` or a webhook) and tells
people through ``notifications.services.notify``. Where the historical paths
disagreed, the choices are written down in docs/execution.md. End-date
maintenance and execution retention live here too.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations import github, webhook
from integrations import http as outbound
from jobs.models import (
    OUTPUT_MAX_CHARS,
    ExecutionStatus,
    ExecutionType,
    Job,
    JobExecution,
    TriggerType,
    scheduler_today,
)
from notifications.services import Event, notify

log = logging.getLogger(__name__)

INTERRUPTED_MESSAGE = "interrupted: scheduler restarted"
REMINDER_WINDOW_DAYS = 30
TEST_RUN_TIMEOUT_RANGE = (1.0, 30.0)


class JobExpired(Exception):
    """A manual run of a job past its end date (the job has been paused)."""

    error = "Job expired"
    message = "This job has passed its end_date and was auto-paused."

    def __init__(self, message: str | None = None):
        super().__init__(message or self.message)


# --- what a run dispatches ------------------------------------------------------------
def _clean(value) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


@dataclass
class RunConfig:
    """The effective dispatch configuration of one run (job + manual overrides)."""

    job_name: str
    metadata: dict = field(default_factory=dict)
    target_url: str | None = None
    github_owner: str | None = None
    github_repo: str | None = None
    github_workflow_name: str | None = None
    github_token: str | None = None
    # All three GitHub fields were filled in, but some only with blanks.
    github_blank: bool = False

    @property
    def execution_type(self) -> str | None:
        """GitHub wins when all three fields are set, even next to a target URL."""
        if self.github_owner and self.github_repo and self.github_workflow_name:
            return ExecutionType.GITHUB_ACTIONS
        return ExecutionType.WEBHOOK if self.target_url else None

    @property
    def target(self) -> str | None:
        if self.execution_type == ExecutionType.GITHUB_ACTIONS:
            return f"{self.github_owner}/{self.github_repo}/{self.github_workflow_name}"
        return self.target_url

    @property
    def ref(self) -> str:
        return github.dispatch_ref(self.metadata)


def run_config(*, job: Job, overrides: dict | None = None) -> RunConfig:
    """The job's configuration with the execute request's overrides applied (API §4.5).

    Raises ValueError with the contract's message for an unparsable ``dispatch_url``.
    The API layer can call this to answer 400 "Missing target configuration" when
    ``execution_type`` is None, before any row exists.
    """
    overrides = overrides or {}
    config = RunConfig(
        job_name=job.name,
        metadata=dict(job.metadata_dict),
        target_url=_clean(job.target_url),
        github_owner=_clean(job.github_owner),
        github_repo=_clean(job.github_repo),
        github_workflow_name=_clean(job.github_workflow_name),
    )
    if isinstance(overrides.get("metadata"), dict):
        config.metadata = dict(overrides["metadata"])
    if job.target_url:
        if _clean(overrides.get("target_url")):
            config.target_url = _clean(overrides["target_url"])
    elif _clean(overrides.get("dispatch_url")):
        config.github_owner, config.github_repo, config.github_workflow_name = (
            _clean(part) for part in github.parse_dispatch_url(str(overrides["dispatch_url"]))
        )
    # Each GitHub key present wins over dispatch_url; an empty value means "the job's".
    for key in ("github_owner", "github_repo", "github_workflow_name"):
        if key in overrides:
            setattr(config, key, _clean(overrides[key]) or _clean(getattr(job, key)))
    config.github_token = _clean(overrides.get("github_token"))
    config.github_blank = bool(
        job.github_owner and job.github_repo and job.github_workflow_name
        and not (config.github_owner and config.github_repo and config.github_workflow_name)
    )
    return config


@dataclass
class Outcome:
    status: str
    response_status: int | None = None
    output: str | None = None
    error_message: str | None = None
    notify_error: str | None = None  # the text after 'failed: ' in "Job Failed" (defaults to error_message)
    target: str | None = None
    github_run_id: int | None = None
    github_run_url: str | None = None


def _clip(text: str | None) -> str | None:
    return text[:OUTPUT_MAX_CHARS] if text is not None else None


def _network_failure(trigger: str, prefix: str, text: str) -> Outcome:
    # Texts per trigger as the contract lists them (Q-B9): manual runs say
    # "Request failed: ..." and their notification drops that prefix.
    if trigger == TriggerType.MANUAL:
        return Outcome(ExecutionStatus.FAILED, error_message=f"Request failed: {text}", notify_error=text)
    return Outcome(ExecutionStatus.FAILED, error_message=f"{prefix}{text}")


def _dispatch_github(config: RunConfig, *, trigger: str, timeout=None) -> Outcome:
    token = config.github_token or settings.GITHUB_TOKEN
    if not token:
        return Outcome(ExecutionStatus.FAILED, target=config.target, error_message=(
            f"GitHub token not configured. Cannot trigger workflow for job '{config.job_name}'"))
    ref = config.ref
    result = github.workflow_dispatch(
        owner=config.github_owner, repo=config.github_repo, workflow=config.github_workflow_name,
        ref=ref, inputs=config.metadata, token=token, timeout=timeout,
    )
    target = f"{config.github_owner}/{config.github_repo}/{result.workflow}"
    if result.status is None:
        failure = _network_failure(trigger, "GitHub Actions request failed: ", result.error or "")
        failure.target = target
        return failure
    if result.ok:
        return Outcome(ExecutionStatus.SUCCESS, response_status=result.status, target=target,
                       output=f"Workflow triggered successfully on branch {ref}",
                       github_run_id=result.run_id, github_run_url=result.run_url)
    message = f"GitHub Actions dispatch failed. Status: {result.status}, Response: {_clip(result.body)}"
    if result.rate_limit_note:
        message += f" ({result.rate_limit_note})"
    return Outcome(ExecutionStatus.FAILED, response_status=result.status, target=target,
                   output=_clip(result.body), error_message=message)


def _dispatch_webhook(config: RunConfig, *, trigger: str, timeout=None) -> Outcome:
    try:
        response = webhook.webhook_call(url=config.target_url, metadata=config.metadata, timeout=timeout)
    except outbound.OutboundError as exc:
        return _network_failure(trigger, "Webhook call failed: ", str(exc))
    if response.ok:
        return Outcome(ExecutionStatus.SUCCESS, response_status=response.status, output=_clip(response.text))
    return Outcome(ExecutionStatus.FAILED, response_status=response.status, output=_clip(response.text),
                   error_message=f"Webhook returned status {response.status}")


def _dispatch(config: RunConfig, *, trigger: str) -> Outcome:
    mode = config.execution_type
    if mode == ExecutionType.GITHUB_ACTIONS:
        return _dispatch_github(config, trigger=trigger)
    if mode == ExecutionType.WEBHOOK:
        return _dispatch_webhook(config, trigger=trigger)
    if config.github_blank:
        return Outcome(ExecutionStatus.FAILED,
                       error_message=f"Missing GitHub configuration for job '{config.job_name}'")
    return Outcome(ExecutionStatus.FAILED, error_message=(
        f"Job '{config.job_name}' has invalid configuration (neither GitHub Actions nor webhook URL)"))


def _dispatch_and_finish(job: Job, execution: JobExecution, config: RunConfig) -> JobExecution:
    try:
        outcome = _dispatch(config, trigger=execution.trigger_type)
    except Exception as exc:  # the row must never stay 'running' because of a bug or a surprise
        log.exception("Unexpected error executing job %s", job.pk)
        outcome = Outcome(ExecutionStatus.FAILED,
                          error_message=f"Unexpected error executing job '{job.name}': {exc}")
    if outcome.target:
        execution.target = outcome.target  # a .yml/.yaml fallback updates the target (Q-B10)
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


# --- job_execute --------------------------------------------------------------------------
def _pause(job: Job) -> bool:
    """Set an active job inactive; True only for the caller that actually paused it."""
    paused = Job.objects.filter(pk=job.pk, is_active=True).update(is_active=False, updated_at=timezone.now())
    job.is_active = False
    return bool(paused)


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
    (API §4.5), already validated. Inactive jobs run; an expired job is paused
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
            if _pause(job):
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
            _pause(job)
            raise JobExpired()
        config = run_config(job=job, overrides=overrides)
        execution = JobExecution.objects.create(
            job=job, status=ExecutionStatus.RUNNING, trigger_type=TriggerType.MANUAL,
            started_at=timezone.now(), execution_type=config.execution_type, target=config.target,
        )
        return _dispatch_and_finish(job, execution, config)

    raise ValueError(f"unknown trigger {trigger!r}")


# --- test runs ----------------------------------------------------------------------------------
@dataclass
class TestRunResult:
    """Outcome of an unsaved test run; ``as_response()`` is the API's 200 body (API §4.5)."""

    __test__ = False  # not a pytest test class

    ok: bool
    type: str  # "webhook" | "github"
    message: str
    status_code: int | None = None
    error: str | None = None
    github_run_id: int | None = None
    github_run_url: str | None = None
    workflow: str | None = None  # the workflow file that answered (after a .yml/.yaml fallback)

    def as_response(self) -> dict:
        body: dict = {"ok": self.ok, "type": self.type}
        if self.error is not None:
            body["error"] = self.error
        else:
            body["status_code"] = self.status_code
        body["message"] = self.message
        if self.github_run_id is not None:  # additive fields
            body["github_run_id"] = self.github_run_id
        if self.github_run_url is not None:
            body["github_run_url"] = self.github_run_url
        return body


def _test_run_timeout(timeout_seconds) -> tuple[float, float]:
    low, high = TEST_RUN_TIMEOUT_RANGE
    seconds = min(high, max(low, float(timeout_seconds if timeout_seconds is not None else 10)))
    return (min(float(settings.OUTBOUND_CONNECT_TIMEOUT), seconds), seconds)


def _request_failed(kind: str, text: str, *, refused: bool) -> TestRunResult:
    # A refusal by the guard is policy, not an internal detail: always say why.
    shown = text if (refused or settings.EXPOSE_ERROR_DETAILS) else "Request failed"
    return TestRunResult(ok=False, type=kind, error="Request failed", message=shown)


def job_test_run(*, target_url: str | None = None, github_owner: str | None = None,
                 github_repo: str | None = None, github_workflow_name: str | None = None,
                 metadata: dict | None = None, timeout_seconds: float | None = 10,
                 github_token: str | None = None) -> TestRunResult:
    """Dispatch an unsaved configuration once, exactly as a real run would; nothing is recorded.

    ``target_url`` wins over the GitHub fields. Raises ValueError when neither a
    URL nor all three GitHub fields are given (the API answers 400 before that).
    """
    metadata = metadata if isinstance(metadata, dict) else {}
    timeout = _test_run_timeout(timeout_seconds)
    if _clean(target_url):
        try:
            response = webhook.webhook_call(url=_clean(target_url), metadata=metadata, timeout=timeout)
        except outbound.OutboundError as exc:
            return _request_failed("webhook", str(exc), refused=exc.refused)
        return TestRunResult(
            ok=response.ok, type="webhook", status_code=response.status,
            message="Webhook test run succeeded." if response.ok else "Webhook test run failed.",
        )
    owner, repo, workflow = _clean(github_owner), _clean(github_repo), _clean(github_workflow_name)
    if not (owner and repo and workflow):
        raise ValueError(
            "Provide target_url or GitHub config (github_owner, github_repo, github_workflow_name).")
    token = _clean(github_token) or settings.GITHUB_TOKEN
    if not token:
        return TestRunResult(ok=False, type="github", error="GitHub token not configured",
                             message="Set GITHUB_TOKEN in backend .env to test-run GitHub workflows.")
    result = github.workflow_dispatch(owner=owner, repo=repo, workflow=workflow,
                                      ref=github.dispatch_ref(metadata), inputs=metadata, token=token,
                                      timeout=timeout)
    if result.status is None:
        return _request_failed("github", result.error or "", refused=result.refused)
    return TestRunResult(
        ok=result.ok, type="github", status_code=result.status,
        message="GitHub workflow dispatch triggered." if result.ok else "GitHub workflow dispatch failed.",
        github_run_id=result.run_id, github_run_url=result.run_url, workflow=result.workflow,
    )


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
    """Close rows a dead scheduler left 'running' as failed (Q-B8); returns how many."""
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


def executions_prune(*, older_than_days: int | None = None, batch_size: int = 1000) -> int:
    """Delete executions that started more than ``older_than_days`` (default EXECUTION_RETENTION_DAYS) ago.

    Deletes in batches so a large backlog never holds one long lock.
    """
    days = settings.EXECUTION_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - dt.timedelta(days=days)
    deleted = 0
    while True:
        ids = list(JobExecution.objects.filter(started_at__lt=cutoff)
                   .order_by("started_at").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        with transaction.atomic():  # notifications keep their row, related_execution set to NULL
            _total, per_model = JobExecution.objects.filter(pk__in=ids).delete()
        deleted += per_model.get(JobExecution._meta.label, 0)


# --- end dates --------------------------------------------------------------------------------------
def week_monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _auto_pause_expired(today: dt.date, *, silent: bool) -> tuple[list[Job], int]:
    paused: list[Job] = []
    notifications = 0
    for job in Job.objects.filter(is_active=True, end_date__lt=today).select_related("created_by"):
        if _pause(job):
            paused.append(job)
            if not silent:
                notifications += len(notify(event=Event.JOB_EXPIRED_MAINTENANCE, job=job))
    return paused, notifications


def jobs_auto_pause_expired(*, today: dt.date | None = None, silent: bool = False) -> list[Job]:
    """Pause every active job whose end date is before ``today`` (scheduler zone).

    Each pause notifies the creator and active admins and posts to Slack, unless
    ``silent`` (the reconciler's auto-pause is silent, Q-B14).
    """
    return _auto_pause_expired(today or scheduler_today(), silent=silent)[0]


def _send_reminders(today: dt.date) -> tuple[int, int]:
    monday = week_monday(today)
    horizon = today + dt.timedelta(days=REMINDER_WINDOW_DAYS)
    due = Job.objects.filter(is_active=True, end_date__gte=today, end_date__lte=horizon)
    not_this_week = Job.objects.filter(end_date_reminded_for__isnull=True) | Job.objects.filter(
        end_date_reminded_for__lt=monday)
    reminded = notifications = 0
    for job in due.filter(pk__in=not_this_week.values("pk")).order_by("end_date", "name"):
        # Conditional UPDATE as the claim: two maintenance runs never remind twice.
        claimed = not_this_week.filter(pk=job.pk).update(end_date_reminded_for=monday)
        if claimed:
            reminded += 1
            days_left = (job.end_date - today).days
            notifications += len(notify(event=Event.JOB_ENDING_SOON, job=job, days_left=days_left))
    return reminded, notifications


def jobs_send_end_date_reminders(*, today: dt.date | None = None) -> int:
    """Remind creator + admins (in-app and Slack) of active jobs ending within 30 days.

    At most once per job and week: the week is identified by its Monday in the
    scheduler zone and stored in ``Job.end_date_reminded_for``. Returns the number
    of jobs reminded.
    """
    return _send_reminders(today or scheduler_today())[0]


def end_date_maintenance_run(*, today: dt.date | None = None) -> dict:
    """The weekly maintenance (BEHAVIOR §8.3): auto-pause, then reminders; returns its summary."""
    now = timezone.now()
    today = today or scheduler_today(now)
    paused, paused_notes = _auto_pause_expired(today, silent=False)
    reminded, reminder_notes = _send_reminders(today)
    summary = {
        "ran_at": now.astimezone(zoneinfo.ZoneInfo(settings.SCHEDULER_TIMEZONE)).isoformat(),
        "today": today.isoformat(),
        "paused_expired_jobs": len(paused),
        "ending_soon_jobs": reminded,
        "notifications_created": paused_notes + reminder_notes,
    }
    log.info("end_date_maintenance: %s", summary)
    return summary
