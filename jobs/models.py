"""Jobs, their executions, and the scheduler's heartbeat row.

Domain questions (next fire times, expiry, schedule description) are answered
here or in ``jobs/cron.py`` so the API, the admin and the scheduler agree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.signals import pre_create_historical_record

from cronhub import audit, values
from cronhub.db import TimestampedModel, UUIDModel
from taxonomy.models import PicTeam


def default_timezone() -> str:
    return settings.SCHEDULER_TIMEZONE


def validate_timezone(value: str) -> None:
    if values.zone(value) is None:
        raise ValidationError(f"Unknown time zone {value!r}: use an IANA name such as Asia/Tokyo.")


def scheduler_today(now: dt.datetime | None = None) -> dt.date:
    """Today's date in the scheduler zone: the calendar end dates are compared with."""
    now = now or timezone.now()
    return now.astimezone(zoneinfo.ZoneInfo(settings.SCHEDULER_TIMEZONE)).date()


JOB_HISTORY = audit.history(excluded_fields=["end_date_reminded_for"])
class OverlapPolicy(models.TextChoices):
    """What a fire does while the previous run of the job is still ``running`` (Temporal's words)."""

    SKIP = "skip", _("Skip")  # record the fire as skipped
    ALLOW = "allow", _("Allow")  # run it anyway, side by side
    BUFFER_ONE = "buffer_one", _("Buffer one")  # keep one waiting; it starts when the previous run ends


class WebhookMethod(models.TextChoices):
    GET = "GET", "GET"
    POST = "POST", "POST"
    PUT = "PUT", "PUT"
    PATCH = "PATCH", "PATCH"
    DELETE = "DELETE", "DELETE"


class Job(TimestampedModel):
    name = models.CharField(_("name"), max_length=255, unique=True)
    cron_expression = models.CharField(_("cron expression"), max_length=100)
    timezone = models.CharField(_("time zone"), max_length=64, default=default_timezone,
                                validators=[validate_timezone])
    target_url = models.CharField(_("target URL"), max_length=500, null=True, blank=True)
    github_owner = models.CharField(_("GitHub owner"), max_length=255, null=True, blank=True)
    github_repo = models.CharField(_("GitHub repository"), max_length=255, null=True, blank=True)
    github_workflow_name = models.CharField(_("GitHub workflow"), max_length=255, null=True, blank=True)
    metadata = models.JSONField(_("metadata"), db_column="job_metadata", null=True, blank=True)
    category = models.CharField(_("category"), max_length=100, default="general")
    end_date = models.DateField(_("end date"), null=True, blank=True)
    pic_team = models.CharField(_("PIC team"), max_length=100, null=True, blank=True)
    enable_email_notifications = models.BooleanField(_("e-mail notifications"), default=False)
    notification_emails = models.TextField(_("notification e-mails"), null=True, blank=True,
                                           help_text=_("Comma-separated addresses."))
    notify_on_success = models.BooleanField(_("notify on success"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_column="created_by",
        related_name="jobs",
        verbose_name=_("owner"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # --- how a run is sent (docs/execution.md) ---
    max_attempts = models.PositiveSmallIntegerField(
        _("maximum attempts"),
        default=1, help_text=_("Calls per run at most: 1 = no retry; retried failures are network errors, "
        "timeouts, 5xx, 408 and 429."))
    retry_backoff_seconds = models.PositiveIntegerField(
        _("retry backoff (seconds)"),
        default=10, help_text=_("Wait before the first retry; doubled per retry (with jitter), at most "
        "RETRY_BACKOFF_MAX_SECONDS."))
    timeout_seconds = models.PositiveSmallIntegerField(
        _("timeout (seconds)"),
        default=30, help_text=_("Total time one call may take (connect, send, answer, redirects)."))
    overlap_policy = models.CharField(
        _("overlap policy"),
        max_length=20, choices=OverlapPolicy.choices, default=OverlapPolicy.SKIP,
        help_text=_("A fire while the previous run is still running: skip it, allow it, or buffer one."))
    webhook_method = models.CharField(
        _("webhook method"),
        max_length=10, choices=WebhookMethod.choices, blank=True, default="",
        help_text=_("Blank: POST the metadata as JSON, or GET when there is none."))
    webhook_headers = models.JSONField(
        _("webhook headers"),
        default=dict, blank=True,
        help_text=_("Extra request headers of a webhook call (values are secrets)."))
    webhook_signing_secret = models.CharField(
        _("webhook signing secret"),
        max_length=255, blank=True, default="",
        help_text=_("Signs every webhook call (X-Cronhub-Signature-256); blank: unsigned."))
    # The Monday (scheduler zone) of the week the last "ending soon" reminder went
    # out, so a reminder is sent at most once per job and week.
    end_date_reminded_for = models.DateField(_("end-date reminder sent for"), null=True, blank=True,
                                             editable=False)

    # Who changed what and when (``cronhub.audit``): API, admin, CSV import and scheduler alike.
    history = JOB_HISTORY

    class Meta:
        db_table = "jobs"
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["-created_at"], name="ix_jobs_created_at"),
            models.Index(fields=["is_active", "end_date"], name="ix_jobs_active_end_date"),
            # The scheduler's every-second "did any job change?" (the latest ``updated_at``):
            # one index lookup instead of reading every job row.
            models.Index(fields=["updated_at"], name="ix_jobs_updated_at"),
        ]

    def __str__(self) -> str:
        return self.name

    # --- stored-format helpers (e-mails stored comma-separated, metadata as JSON) ---
    @property
    def metadata_dict(self) -> dict:
        return self.metadata if isinstance(self.metadata, dict) else {}

    @property
    def notification_email_list(self) -> list[str]:
        return [item.strip() for item in (self.notification_emails or "").split(",") if item.strip()]

    @notification_email_list.setter
    def notification_email_list(self, emails) -> None:
        cleaned = [str(item).strip() for item in (emails or []) if str(item).strip()]
        self.notification_emails = ",".join(cleaned) or None

    @property
    def pic_slack_handle(self) -> str:
        """The PIC team's Slack handle, '' when the job has no team or the team no handle.

        Looked up by slug whether the team is active or not, so a retired team is still paged.
        """
        if not self.pic_team:
            return ""
        handle = PicTeam.objects.filter(slug=self.pic_team).values_list("slack_handle", flat=True).first()
        return (handle or "").strip()

    # --- targets ------------------------------------------------------------------
    @property
    def is_github(self) -> bool:
        return bool(self.github_owner and self.github_repo and self.github_workflow_name)

    @property
    def execution_type(self) -> str | None:
        if self.is_github:
            return "github_actions"
        return "webhook" if self.target_url else None

    @property
    def target_display(self) -> str | None:
        if self.is_github:
            return f"{self.github_owner}/{self.github_repo}/{self.github_workflow_name}"
        return self.target_url

    def pause(self, *, via: str | None = None) -> bool:
        """Set an active job inactive; True only for the caller that actually paused it.

        A conditional UPDATE, so of two processes pausing the same job (the
        scheduler at a fire time, the weekly maintenance) only one announces it.
        The pause is written to the job's history (``via`` says by whom when no
        request is acting, e.g. ``audit.SCHEDULER``).
        """
        now = timezone.now()
        paused = Job.objects.filter(pk=self.pk, is_active=True).update(is_active=False, updated_at=now)
        self.is_active = False
        if paused:
            self.updated_at = now
            audit.record(self, via=via, reason="Paused: past its end date")
        return bool(paused)

    # --- schedule -------------------------------------------------------------------
    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.timezone or settings.SCHEDULER_TIMEZONE)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(settings.SCHEDULER_TIMEZONE)

    def schedule(self):
        """The parsed cron schedule, or None when the stored expression is invalid."""
        from jobs import cron

        try:
            return cron.parse(self.cron_expression)
        except cron.CronError:
            return None

    def next_fire_times(self, count: int = 5, *, after: dt.datetime | None = None) -> list[dt.datetime]:
        """Fire times strictly after ``after`` (default: now), in the job's zone."""
        schedule = self.schedule()
        if schedule is None:
            return []
        return schedule.next_fire_times(self.zone, after or timezone.now(), count)

    def next_execution_at(self, *, after: dt.datetime | None = None) -> dt.datetime | None:
        """Next fire time for an active job (even past its end date, until the scheduler pauses it);
        None for a paused one."""
        if not self.is_active:
            return None
        times = self.next_fire_times(1, after=after)
        return times[0] if times else None

    def describe_schedule(self) -> str:
        schedule = self.schedule()
        return schedule.describe() if schedule is not None else "Invalid cron expression"

    def is_expired(self, today: dt.date | None = None) -> bool:
        """True from the day after ``end_date`` (scheduler zone); the end date itself is valid."""
        if self.end_date is None:
            return False
        return self.end_date < (today or scheduler_today())


audit.register(Job, JOB_HISTORY)


def _history_keeps_no_secret(sender, history_instance, **kwargs) -> None:
    """The audit trail records that a job's delivery secrets changed, never what they are: the
    header names with masked values, and a short digest of the signing secret."""
    headers = history_instance.webhook_headers
    if isinstance(headers, dict):
        history_instance.webhook_headers = dict.fromkeys(headers, "****")
    secret = history_instance.webhook_signing_secret
    if secret:
        history_instance.webhook_signing_secret = f"**** ({hashlib.sha256(secret.encode()).hexdigest()[:8]})"


pre_create_historical_record.connect(_history_keeps_no_secret, sender=Job.history.model,
                                     dispatch_uid="job_history_mask_secrets")


class ExecutionStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCESS = "success", _("Success")
    FAILED = "failed", _("Failed")
    MISSED = "missed", _("Missed")  # fire time passed beyond the misfire grace; never dispatched
    SKIPPED = "skipped", _("Skipped")  # previous run still in progress; never dispatched
    # The call may have gone out, but the scheduler that made it stopped before it
    # could record the answer, and the answer cannot be looked up: never "failed".
    UNKNOWN = "unknown", _("Unknown")


class WaitReason(models.TextChoices):
    RETRY = "retry", _("Retry backoff")
    RATE_LIMIT = "rate_limit", _("GitHub rate limit")
    PREVIOUS_RUN = "previous_run", _("Previous run still running")


class TriggerType(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    MANUAL = "manual", _("Manual")


class ExecutionType(models.TextChoices):
    GITHUB_ACTIONS = "github_actions", "GitHub Actions"
    WEBHOOK = "webhook", "Webhook"


OUTPUT_MAX_CHARS = 1000


class JobExecution(UUIDModel):
    # No index of its own: the (job, fire time) constraint and the (job, started) index start
    # with it, and every index is written with each run's row.
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="executions", db_column="job_id",
                            verbose_name=_("job"), db_index=False)
    status = models.CharField(_("status"), max_length=20, choices=ExecutionStatus.choices)
    trigger_type = models.CharField(_("trigger"), max_length=20, choices=TriggerType.choices)
    # The fire time a scheduled run belongs to (null for manual runs). Unique per
    # job: the INSERT of this row is how one scheduler claims a fire time, so a
    # second leader (split brain, restart, clock skew) loses and does not dispatch.
    scheduled_for = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    duration_seconds = models.FloatField(_("duration (s)"), null=True, blank=True)
    execution_type = models.CharField(_("target type"), max_length=50, choices=ExecutionType.choices,
                                      null=True, blank=True)
    target = models.CharField(_("target"), max_length=500, null=True, blank=True)
    response_status = models.IntegerField(_("response status"), null=True, blank=True)
    error_message = models.TextField(_("error message"), null=True, blank=True)
    output = models.TextField(_("output"), null=True, blank=True)
    github_run_id = models.BigIntegerField(null=True, blank=True)
    github_run_url = models.CharField(max_length=500, null=True, blank=True)
    # A run's phases: claimed (the row exists, nothing sent: ``sent_at`` is null) →
    # sent (``sent_at`` is committed right before the outbound call) → finished.
    # ``claimed_by`` names the process and the leadership (host:pid:token) that
    # owns the row; whoever takes a row over (recovery) rewrites it first, so two
    # processes never both send or both finish it. ``deadline_at`` is when the call
    # must have ended: a row still running after it cannot be in flight any more.
    claimed_by = models.CharField(max_length=300, null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)  # calls made: 2 after a re-send
    note = models.TextField(null=True, blank=True)  # e.g. "re-sent after a scheduler restart"
    # The GitHub workflow run a dispatch started, as last seen (jobs.services.github_runs).
    github_run_status = models.CharField(max_length=32, null=True, blank=True)  # queued, in_progress, ...
    github_run_conclusion = models.CharField(max_length=32, null=True, blank=True)  # success, failure, ...
    github_run_started_at = models.DateTimeField(null=True, blank=True)
    github_run_completed_at = models.DateTimeField(null=True, blank=True)
    github_run_attempt = models.PositiveIntegerField(null=True, blank=True)
    # Following it: set when the dispatch was accepted; ``github_follow_next_at`` is when
    # the run is looked up next (null once the execution is closed or never followed).
    # A followed row belongs to the follower, never to run recovery.
    github_ref = models.CharField(max_length=255, null=True, blank=True)  # the branch dispatched on
    github_follow_started_at = models.DateTimeField(null=True, blank=True)
    github_follow_next_at = models.DateTimeField(null=True, blank=True)
    github_follow_polls = models.PositiveIntegerField(default=0)  # lookups made (the backoff's step)
    github_run_etag = models.CharField(max_length=200, null=True, blank=True)  # of the last 200 answer
    github_follow_error = models.CharField(max_length=500, null=True, blank=True)  # the last lookup problem
    # One entry per call and per deferral: {"attempt", "at", "outcome", "status", "error", "retry_at"}.
    attempt_log = models.JSONField(_("attempt log"), default=list, blank=True)
    # A run that waits (a retry's backoff, GitHub's rate limit, the previous run under
    # ``buffer_one``) is a ``running`` row with nothing in flight: ``wait_reason`` says
    # why and ``next_attempt_at`` when the scheduler leader sends it (null: when the
    # previous run has ended). Recovery leaves waiting rows alone.
    wait_reason = models.CharField(_("waiting for"), max_length=20, choices=WaitReason.choices, null=True,
                                   blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # Seconds the run waited for GitHub's rate limits before its dispatch went out.
    rate_limit_wait_seconds = models.FloatField(_("rate-limit wait (seconds)"), null=True, blank=True)
    # A manual run's overrides, kept for its retries (never a token).
    run_overrides = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "job_executions"
        verbose_name = _("job execution")
        verbose_name_plural = _("job executions")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "scheduled_for"], name="uq_job_executions_job_scheduled_for"
            ),
        ]
        indexes = [
            models.Index(fields=["job", "-started_at"], name="ix_job_executions_job_started"),
            models.Index(fields=["-started_at"], name="ix_job_executions_started_at"),
            models.Index(fields=["status", "-started_at"], name="ix_job_executions_status"),
            # Execution statistics (counts by status, mean duration) read this index alone
            # (an index-only scan on PostgreSQL) instead of every wide row of the table.
            models.Index(fields=["status", "duration_seconds"], name="ix_job_executions_status_dur"),
            # The follower's "due for a lookup" scan, and webhook deliveries found by run id:
            # GitHub runs only (partial), so a webhook run's row, written three times, writes
            # neither (MariaDB builds them full).
            models.Index(fields=["github_follow_next_at"], name="ix_job_executions_follow_next",
                         condition=models.Q(github_follow_next_at__isnull=False)),
            models.Index(fields=["github_run_id"], name="ix_job_executions_github_run",
                         condition=models.Q(github_run_id__isnull=False)),
            # The scheduler's every-second "waiting runs due now" scan: only the rows that wait
            # (a handful), so the scan stays as small when thousands of runs are running (a
            # burst; GitHub runs followed for an hour). A full index looked useless to SQLite's
            # planner (nearly every row has no reason), which then walked every running row.
            # MariaDB has no partial indexes: it builds the full one (system check W037).
            models.Index(fields=["wait_reason", "next_attempt_at"], name="ix_job_executions_waiting",
                         condition=models.Q(wait_reason__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.job_id} {self.trigger_type} {self.status} @ {self.started_at:%Y-%m-%d %H:%M:%S}"

    @property
    def lateness_seconds(self) -> float | None:
        if self.scheduled_for is None:
            return None
        return (self.started_at - self.scheduled_for).total_seconds()

    @property
    def followed(self) -> bool:
        """A GitHub dispatch whose workflow run is (or was) followed to its conclusion."""
        return self.github_follow_started_at is not None

    def start_following(self, *, response_status: int | None, output: str | None, ref: str,
                        next_poll_at: dt.datetime, at: dt.datetime | None = None) -> bool:
        """Record an accepted dispatch whose run will be followed: the row stays ``running``.

        Conditional on the row still being ``running`` and ours (like ``finish``) and
        idempotent: a retry after a lost answer finds its own write and returns True.
        """
        self.github_follow_started_at = at or self.github_follow_started_at or timezone.now()
        self.github_follow_next_at = next_poll_at
        self.github_follow_polls = 0
        self.github_ref = ref[:255]
        self.wait_reason = self.next_attempt_at = None  # it went out: no longer waiting
        self.response_status = response_status
        self.output = output[:OUTPUT_MAX_CHARS] if output is not None else None
        fields = [
            "response_status", "output", "execution_type", "target", "github_run_id", "github_run_url",
            "note", "github_ref", "github_follow_started_at", "github_follow_next_at", "github_follow_polls",
            "attempt_log", "rate_limit_wait_seconds", "wait_reason", "next_attempt_at",
        ]
        rows = type(self).objects.filter(pk=self.pk, status=ExecutionStatus.RUNNING,
                                         claimed_by=self.claimed_by)
        if rows.update(**{name: getattr(self, name) for name in fields}):
            return True
        current = (type(self).objects.filter(pk=self.pk)
                   .values("status", "claimed_by", "github_follow_started_at").first())
        return bool(current and current["claimed_by"] == self.claimed_by
                    and current["github_follow_started_at"] == self.github_follow_started_at)

    def finish(self, *, status: str, response_status: int | None = None, output: str | None = None,
               error_message: str | None = None, at: dt.datetime | None = None) -> bool:
        """Close a running execution (output bounded to 1000 characters).

        Writes only while the row is still ``running`` and still owned by
        ``claimed_by`` as this object knows it (a row another process took over is
        not overwritten). Idempotent: a retry after a write whose answer was lost
        finds the row already closed this way and returns True. Returns False when
        the row was closed or taken over by someone else.
        """
        self.completed_at = at or self.completed_at or timezone.now()
        self.duration_seconds = max(0.0, (self.completed_at - self.started_at).total_seconds())
        self.status = status
        self.response_status = response_status
        # A NUL from a peer's answer would make PostgreSQL refuse the whole write.
        self.output = output[:OUTPUT_MAX_CHARS].replace("\x00", "\ufffd") if output is not None else None
        self.error_message = error_message.replace("\x00", "\ufffd") if error_message is not None else None
        self.wait_reason = self.next_attempt_at = None
        fields = [
            "completed_at", "duration_seconds", "status", "response_status", "output", "error_message",
            "execution_type", "target", "github_run_id", "github_run_url", "note",
            "attempt_log", "rate_limit_wait_seconds", "wait_reason", "next_attempt_at",
        ]
        rows = type(self).objects.filter(pk=self.pk, status=ExecutionStatus.RUNNING,
                                         claimed_by=self.claimed_by)
        if rows.update(**{name: getattr(self, name) for name in fields}):
            return True
        current = type(self).objects.filter(pk=self.pk).values("status", "claimed_by", "completed_at").first()
        return bool(current and current["status"] == status and current["claimed_by"] == self.claimed_by
                    and current["completed_at"] == self.completed_at)


class SchedulerState(models.Model):
    """One row the leading scheduler keeps up to date; web processes read it.

    The web app never runs the scheduler, so status and resync requests cross
    processes through this row (the web processes read it, the leader writes it).
    """

    SINGLETON_ID = "leader"

    id = models.CharField(primary_key=True, max_length=36, default=SINGLETON_ID, editable=False)
    host = models.CharField(max_length=255, blank=True, default="")
    pid = models.IntegerField(null=True, blank=True)
    leader_since = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    last_reconcile_at = models.DateTimeField(null=True, blank=True)
    scheduled_jobs_count = models.IntegerField(default=0)
    next_runs = models.JSONField(default=list, blank=True)
    resync_requested_at = models.DateTimeField(null=True, blank=True)
    resync_completed_at = models.DateTimeField(null=True, blank=True)
    last_resync_result = models.JSONField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "scheduler_state"
        verbose_name = _("scheduler state")
        verbose_name_plural = _("scheduler state")

    def __str__(self) -> str:
        return f"scheduler leader {self.host}:{self.pid}" if self.pid else "scheduler (never started)"

    @classmethod
    def load(cls) -> SchedulerState:
        return cls.objects.get_or_create(pk=cls.SINGLETON_ID)[0]

    def is_alive(self, now: dt.datetime | None = None) -> bool:
        """A leader is alive if it has not stopped and its heartbeat is recent."""
        if self.heartbeat_at is None or self.stopped_at is not None and self.stopped_at >= self.heartbeat_at:
            return False
        stale_after = max(15, settings.SCHEDULER_HEARTBEAT_SECONDS * 3)
        return ((now or timezone.now()) - self.heartbeat_at).total_seconds() <= stale_after
