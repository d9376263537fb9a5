"""``notify(...)``: the one entry point that tells people about a job event.

It writes the in-app rows (titles and messages are what clients already show),
posts to Slack for the end-date events and for run results, and sends the run
e-mails according to the job's settings, filtered by each user's notification
preferences. Run results reach Slack because that is where teams watch: a failure
always (with the PIC team's mention), a success only when the job asks for
success notices (``notify_on_success``), the same rule as e-mail. Delivery
problems are logged and never raised: a failed notification must not fail the
run or the request that caused it.

Who is told (docs/execution.md, "Who receives run notifications"): inactive users
nothing at all. Run results (success, failure, unknown outcome) reach each active user
by their ``run_notifications`` choice: ``all`` (the default), ``mine`` (jobs they
created and jobs of the PIC teams they belong to) or ``failures`` (failed and unknown
runs only); the job's e-mail list follows the same choice for addresses that belong to
users. Slack is a team channel, not a person's inbox, so it cannot follow a personal
choice: a run result goes to the channel by the job's settings (failures always,
successes with ``notify_on_success``) and mentions the job's PIC team — the people
for whom it is "my teams' job".

Users are reached through Django's user model (``get_user_model()``) and its
relations, not through the accounts app: notifications sit below the apps that
call them.

    notify(event=Event.JOB_CREATED, job=job, actor=request.user)
    notify(event=Event.JOB_DELETED, job=job, actor=request.user)   # before or after job.delete()
    notify(event=Event.EXECUTION_FAILED, job=job, execution=execution)
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cronhub.db import insert_rows, new_ids
from integrations import email as email_client
from integrations import slack as slack_client
from notifications import slack_texts
from notifications.models import Notification, NotificationType

log = logging.getLogger(__name__)


class Event(StrEnum):
    JOB_CREATED = "job_created"
    JOB_UPDATED = "job_updated"
    JOB_ENABLED = "job_enabled"
    JOB_DISABLED = "job_disabled"
    JOB_DELETED = "job_deleted"
    EXECUTION_SUCCEEDED = "execution_succeeded"
    EXECUTION_FAILED = "execution_failed"
    # The call may have gone out but its answer could not be recorded: not a failure.
    EXECUTION_UNKNOWN = "execution_unknown"
    JOB_EXPIRED_AT_FIRE = "job_expired_at_fire"  # a scheduled fire found the job past its end date
    JOB_EXPIRED_MAINTENANCE = "job_expired_maintenance"  # the weekly maintenance paused it
    JOB_ENDING_SOON = "job_ending_soon"


ALL_USERS = "all users"
CREATOR_AND_ADMINS = "creator + active admins"
ADMIN_ROLE = "admin"  # the user model's ``role`` of administrators (also the API's word for it)


@dataclass(frozen=True)
class _Kind:
    title: str
    type: str
    message: str  # str.format with name, actor, error, end_date, pic, days
    recipients: str
    link_job: bool = True
    link_execution: bool = False


CATALOGUE: dict[Event, _Kind] = {
    Event.JOB_CREATED: _Kind("New Job Created", NotificationType.INFO,
                             'Job "{name}" was created by {actor}.', ALL_USERS),
    Event.JOB_UPDATED: _Kind("Job Updated", NotificationType.INFO,
                             'Job "{name}" was updated by {actor}.', ALL_USERS),
    Event.JOB_ENABLED: _Kind("Job Enabled", NotificationType.INFO,
                             'Job "{name}" was enabled by {actor}.', ALL_USERS),
    Event.JOB_DISABLED: _Kind("Job Disabled", NotificationType.WARNING,
                              'Job "{name}" was disabled by {actor}.', ALL_USERS),
    Event.JOB_DELETED: _Kind("Job Deleted", NotificationType.WARNING,
                             'Job "{name}" was deleted by {actor}.', ALL_USERS, link_job=False),
    Event.EXECUTION_SUCCEEDED: _Kind("Job Completed", NotificationType.SUCCESS,
                                     'Job "{name}" completed successfully.', ALL_USERS,
                                     link_execution=True),
    Event.EXECUTION_FAILED: _Kind("Job Failed", NotificationType.ERROR,
                                  'Job "{name}" failed: {error}', ALL_USERS, link_execution=True),
    Event.EXECUTION_UNKNOWN: _Kind("Job outcome unknown", NotificationType.WARNING,
                                   'Job "{name}": the run may have gone out, but its outcome is unknown: '
                                   '{error}', ALL_USERS, link_execution=True),
    Event.JOB_EXPIRED_AT_FIRE: _Kind(
        "Job auto-paused (end date passed)", NotificationType.WARNING,
        'Job "{name}" passed its end_date ({end_date} JST) and was auto-paused.', CREATOR_AND_ADMINS),
    Event.JOB_EXPIRED_MAINTENANCE: _Kind(
        "Job auto-paused (end date passed)", NotificationType.WARNING,
        'Job "{name}" passed its end_date ({end_date} JST) and was auto-paused. PIC Team: {pic}',
        CREATOR_AND_ADMINS),
    Event.JOB_ENDING_SOON: _Kind(
        "Job ending soon", NotificationType.WARNING,
        'Job "{name}" ends on {end_date} JST ({days} day(s) left). PIC Team: {pic}', CREATOR_AND_ADMINS),
}


def actor_label(actor) -> str:
    """How an acting user is named in messages: e-mail, else username."""
    if actor is None:
        return "system"
    return getattr(actor, "email", "") or getattr(actor, "username", "") or str(actor)


RUN_EVENTS = frozenset({"execution_succeeded", "execution_failed", "execution_unknown"})
FAILURE_EVENTS = frozenset({"execution_failed", "execution_unknown"})
# The user model's NotificationPreferences.run_notifications choices (accounts.models.RunNotifications).
RUN_ALL, RUN_MINE, RUN_FAILURES = "all", "mine", "failures"


def run_audience(job, event: str):
    """Active users whose run-notification choice covers ``event`` on ``job``, as a queryset.

    all (also users who never saved preferences): every run; failures: failed and
    unknown outcomes of every job; mine: every run of the jobs they created and of
    the jobs whose PIC team they belong to.
    """
    users = get_user_model().objects.filter(is_active=True)
    choice = Q(notification_preferences__isnull=True) | Q(notification_preferences__run_notifications=RUN_ALL)
    if event in FAILURE_EVENTS:
        choice |= Q(notification_preferences__run_notifications=RUN_FAILURES)
    mine = Q(pk=job.created_by_id) if job.created_by_id else Q(pk__in=[])
    if job.pic_team:
        members = users.model.pic_teams.through.objects.filter(picteam__slug=job.pic_team)
        mine |= Q(pk__in=members.values("user_id"))
    choice |= Q(notification_preferences__run_notifications=RUN_MINE) & mine
    return users.filter(choice)


def recipient_ids(job, audience: str, event: str | None = None) -> list[str]:
    """The users told about an event, as primary keys (every run notifies them: no model building).

    Inactive users are told nothing. Run results go to each user by their run-notification
    choice (``run_audience``); the other events to every active user or to the job's creator
    and the active admins.
    """
    users = get_user_model().objects
    if audience == ALL_USERS:
        if event in RUN_EVENTS:
            return list(run_audience(job, event).values_list("pk", flat=True))
        return list(users.filter(is_active=True).values_list("pk", flat=True))
    ids = list(users.filter(role=ADMIN_ROLE, is_active=True).values_list("pk", flat=True))
    creator = job.created_by_id
    if creator and creator not in ids and users.filter(pk=creator, is_active=True).exists():
        ids.insert(0, creator)
    return ids


def notifications_prune(*, older_than_days: int, batch: int = 5000) -> int:
    """Delete in-app notifications created more than ``older_than_days`` ago, in batches
    (short transactions however many rows); returns how many."""
    cutoff = timezone.now() - dt.timedelta(days=older_than_days)
    deleted = 0
    while True:
        ids = list(Notification.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += Notification.objects.filter(pk__in=ids).delete()[0]


def _create_rows(kind: _Kind, *, event: Event, job, execution, message: str) -> list[Notification]:
    try:
        with transaction.atomic():
            rows = [
                Notification(
                    user_id=user_id, title=kind.title, message=message, type=kind.type,
                    related_job=job if kind.link_job and job.pk else None,
                    related_execution=execution if kind.link_execution else None,
                )
                for user_id in recipient_ids(job, kind.recipients, event)
            ]
            return Notification.objects.bulk_create(rows)
    except Exception:
        log.exception("Could not store %s notifications for job %s", kind.title, getattr(job, "pk", None))
        return []


def _email_addresses(job, *, switch: str, event: Event) -> list[str]:
    """The job's list, minus the addresses of users who do not get this run result: inactive
    users, users whose run-notification choice leaves it out (``run_audience``), and users who
    switched this kind of e-mail off in their preferences.

    Addresses that belong to no user, and users who never saved preferences, keep
    receiving mail: the stored defaults reproduce the deliveries of before preferences existed.
    """
    addresses = email_client.clean_recipients(job.notification_email_list)
    if not addresses:
        return []
    owners = get_user_model().objects.filter(email__in=[a.lower() for a in addresses])
    receiving = run_audience(job, event).exclude(**{f"notification_preferences__{switch}": False})
    left_out = {email.lower() for email in owners.exclude(pk__in=receiving.values("pk"))
                .values_list("email", flat=True)}
    return [a for a in addresses if a.lower() not in left_out]


def _send_run_email(event: Event, job, execution, error: str | None) -> None:
    if not job.enable_email_notifications:
        return
    if event == Event.EXECUTION_FAILED:
        to = _email_addresses(job, switch="email_on_job_failure", event=event)
        email_client.email_send(to=to, subject=_("Job Failure: %(name)s") % {"name": job.name},
                                template="job_failed", context={"job": job, "error": error})
    elif event == Event.EXECUTION_UNKNOWN:  # told like a failure, worded as what it is
        to = _email_addresses(job, switch="email_on_job_failure", event=event)
        email_client.email_send(to=to, subject=_("Job Outcome Unknown: %(name)s") % {"name": job.name},
                                template="job_outcome_unknown", context={"job": job, "error": error})
    elif job.notify_on_success:
        to = _email_addresses(job, switch="email_on_job_success", event=event)
        duration = f"{(execution.duration_seconds or 0.0) if execution else 0.0:.2f}"
        email_client.email_send(to=to, subject=_("Job Success: %(name)s") % {"name": job.name},
                                template="job_succeeded", context={"job": job, "duration": duration})


def _slack_text(event: Event, job, *, error: str | None, days_left: int | None) -> str | None:
    if event == Event.JOB_EXPIRED_MAINTENANCE:
        return slack_texts.auto_paused_text(job)
    if event == Event.JOB_ENDING_SOON:
        return slack_texts.ending_soon_text(job, days_left=days_left or 0)
    if event == Event.EXECUTION_FAILED:
        return slack_texts.run_failed_text(job, error=error)
    if event == Event.EXECUTION_UNKNOWN:
        return slack_texts.run_unknown_text(job, error=error)
    if event == Event.EXECUTION_SUCCEEDED and job.notify_on_success:
        return slack_texts.run_succeeded_text(job)
    return None


def _message(kind: _Kind, *, job, actor, error: str | None, days_left: int | None) -> str:
    return kind.message.format(
        name=job.name,
        actor=actor_label(actor),
        error=error or "",
        end_date=f"{job.end_date:%Y-%m-%d}" if job.end_date else "-",
        pic=job.pic_team or "-",
        days=days_left,
    )


def _outside_language():
    """Slack and e-mail are written in ``CRONHUB_NOTIFICATION_LANGUAGE`` (the in-app rows stay
    English: clients read them through the API, whose texts are English)."""
    return translation.override(settings.CRONHUB_NOTIFICATION_LANGUAGE)


def _other_channels(event: Event, job, execution, error: str | None, *, days_left: int | None,
                    slack: bool, email: bool) -> None:
    """Slack and e-mail, in their language (``_outside_language``)."""
    with _outside_language():
        _send_outside(event, job, execution, error, days_left=days_left, slack=slack, email=email)


def _send_outside(event: Event, job, execution, error: str | None, *, days_left: int | None,
                  slack: bool, email: bool) -> None:
    if slack:
        try:
            text = _slack_text(event, job, error=error, days_left=days_left)
            if text is not None:
                slack_client.slack_post(text=text)
        except Exception:  # settings row or team lookup trouble must not break a run or maintenance
            log.exception("Slack message for job %s failed", job.pk)

    if email and event in (Event.EXECUTION_SUCCEEDED, Event.EXECUTION_FAILED, Event.EXECUTION_UNKNOWN):
        try:
            _send_run_email(event, job, execution, error)
        except Exception:  # template or preference lookup trouble must not break a run
            log.exception("Run e-mail for job %s failed", job.pk)


def notify(*, event: Event | str, job, actor=None, execution=None, error: str | None = None,
           days_left: int | None = None, slack: bool = True, email: bool = True) -> list[Notification]:
    """Tell people about ``event`` on ``job``; returns the in-app rows created.

    ``error`` is the failure text for EXECUTION_FAILED, the reason for EXECUTION_UNKNOWN
    (default: the execution's ``error_message``); ``days_left`` is needed for JOB_ENDING_SOON.
    ``slack``/``email`` switch those channels off for one call (they only apply where anything is sent:
    Slack for the maintenance auto-pause, the reminder and run results; e-mail for run results).
    """
    event = Event(event)
    kind = CATALOGUE[event]
    if event in (Event.EXECUTION_FAILED, Event.EXECUTION_UNKNOWN) and error is None and execution is not None:
        error = execution.error_message
    message = _message(kind, job=job, actor=actor, error=error, days_left=days_left)
    rows = _create_rows(kind, event=event, job=job, execution=execution, message=message)
    _other_channels(event, job, execution, error, days_left=days_left, slack=slack, email=email)
    return rows


@dataclass(frozen=True)
class Announcement:
    """One run result to tell (``notify_many``), as ``notify(event=…, job=…, execution=…, error=…)``."""

    event: Event
    job: object
    execution: object
    error: str | None = None


def notify_many(announcements: list[Announcement]) -> int:
    """``notify`` for many run results at once (a scheduler burst); returns the in-app rows created.

    The same rows, texts, Slack messages and e-mails as one ``notify`` per announcement,
    but the recipients are read once per audience and the in-app rows of the batch are
    written as prepared values in bulk (``cronhub.db.insert_rows``: multi-row inserts, COPY on
    PostgreSQL): a burst of 10,000 runs told to a team of 20 is 200,000 rows, too many to
    build a model instance for each. The rows of one run share its time of announcement.
    """
    if not announcements:
        return 0
    # Who is told depends on the event, the job's creator and its PIC team (run_audience): read
    # once per combination in a burst.
    audiences: dict[tuple, list] = {}
    told: list[tuple[list, tuple]] = []  # (recipients, the row's other values) per run
    prepared = []
    meta = Notification._meta
    created_at = meta.get_field("created_at")
    unread = meta.get_field("is_read").get_db_prep_save(False, connection)
    for item in announcements:
        event = Event(item.event)
        kind = CATALOGUE[event]
        error = item.error
        if event in (Event.EXECUTION_FAILED, Event.EXECUTION_UNKNOWN) and error is None and item.execution:
            error = item.execution.error_message
        prepared.append((event, item, error))
        try:
            key = (kind.recipients, event, item.job.created_by_id, item.job.pic_team)
            if key not in audiences:
                audiences[key] = recipient_ids(item.job, kind.recipients, event)
            users = audiences[key]
        except Exception:
            log.exception("Could not read the recipients of %s for job %s", kind.title, item.job.pk)
            continue
        if users:
            message = _message(kind, job=item.job, actor=None, error=error, days_left=None)
            told.append((users, (
                kind.title, message, kind.type,
                item.job.pk if kind.link_job and item.job.pk else None,
                item.execution.pk if kind.link_execution and item.execution else None,
                unread, created_at.get_db_prep_save(timezone.now(), connection))))
    created = _insert_rows(told)
    with _outside_language():  # as _other_channels does per message, once for the batch
        for event, item, error in prepared:
            _send_outside(event, item.job, item.execution, error, days_left=None, slack=True, email=True)
    return created


# The columns notify_many writes, in the order of its rows (read_at stays NULL: unread).
_ROW_FIELDS = ("id", "user", "title", "message", "type", "related_job", "related_execution", "is_read",
               "created_at")


def _insert_rows(told: list[tuple[list, tuple]], per_transaction: int = 5000) -> int:
    """Write one row per (recipient, run) of ``told``; returns how many were written.

    A run's rows are written together, in transactions of about ``per_transaction`` rows:
    a burst told to a large team is hundreds of thousands of rows, and one transaction that
    long would hold SQLite's write lock away from the claims and records of the next runs.
    A transaction that fails loses its own runs' rows (logged), not the others'.
    """
    fields = [Notification._meta.get_field(name) for name in _ROW_FIELDS]
    written = 0
    start = 0
    while start < len(told):
        end, size = start, 0
        while end < len(told) and (size == 0 or size + len(told[end][0]) <= per_transaction):
            size += len(told[end][0])
            end += 1
        ids = iter(new_ids(size))
        rows = [(next(ids), user_id, *values) for users, values in told[start:end] for user_id in users]
        try:
            with transaction.atomic():
                insert_rows(Notification, fields, rows)
            written += size
        except Exception:
            log.exception("Could not store %d run notifications", size)
        start = end
    return written
