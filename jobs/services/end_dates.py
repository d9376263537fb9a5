"""End dates: expired jobs are paused, jobs ending soon are reminded of, once a week.

The weekly maintenance (``manage.py end_date_maintenance`` and the scheduler)
pauses every expired job and tells its creator and the admins, then reminds
them of jobs ending within 30 days.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo

from django.conf import settings
from django.utils import timezone

from cronhub import audit
from jobs.models import Job, scheduler_today
from notifications.services import Event, notify

log = logging.getLogger(__name__)

REMINDER_WINDOW_DAYS = 30


def week_monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _auto_pause_expired(today: dt.date, *, silent: bool) -> tuple[list[Job], int]:
    paused: list[Job] = []
    notifications = 0
    for job in Job.objects.filter(is_active=True, end_date__lt=today).select_related("created_by"):
        if job.pause(via=audit.SCHEDULER):
            paused.append(job)
            if not silent:
                notifications += len(notify(event=Event.JOB_EXPIRED_MAINTENANCE, job=job))
    return paused, notifications


def jobs_auto_pause_expired(*, today: dt.date | None = None, silent: bool = False) -> list[Job]:
    """Pause every active job whose end date is before ``today`` (scheduler zone).

    Each pause notifies the creator and active admins and posts to Slack, unless
    ``silent`` (the reconciler's auto-pause is: it runs every few seconds and the
    weekly maintenance announces the same pause).
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
    """The weekly maintenance: auto-pause, then reminders; returns its summary."""
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
