"""Internal jobs: end-date rules and pruning, in django-apscheduler's job store.

They run in their own small APScheduler instance (``DjangoJobStore``), so their
runs are listed in the admin's django-apscheduler pages and their next run time
survives restarts: a run missed while no leader was up (e.g. the Monday
reminders) runs once when a leader comes back within ``MISFIRE_GRACE``.
"""

from __future__ import annotations

import datetime as dt
import logging

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from django.conf import settings
from django.db import close_old_connections
from django_apscheduler.jobstores import DjangoJobStore
from django_apscheduler.models import DjangoJobExecution

from jobs import services
from jobs.scheduler.trigger import CronHubTrigger
from notifications.services import notifications_prune

log = logging.getLogger("cronhub.scheduler.maintenance")

MISFIRE_GRACE = dt.timedelta(hours=6)
SCHEDULER_RECORD_RETENTION = dt.timedelta(days=7)


def _in_fresh_connection(func) -> None:
    close_old_connections()
    try:
        func()
    finally:
        close_old_connections()


def auto_pause_expired() -> None:
    paused = services.jobs_auto_pause_expired()
    log.info("maintenance: auto-paused %d expired job(s)", len(paused))


def send_end_date_reminders() -> None:
    sent = services.jobs_send_end_date_reminders()
    log.info("maintenance: %d end-date reminder notification(s)", sent)


def prune_executions() -> None:
    deleted = services.executions_prune(older_than_days=settings.EXECUTION_RETENTION_DAYS)
    log.info("maintenance: pruned %d execution(s) older than %d days", deleted,
             settings.EXECUTION_RETENTION_DAYS)


def prune_notifications() -> None:
    deleted = notifications_prune(older_than_days=settings.NOTIFICATION_RETENTION_DAYS)
    log.info("maintenance: pruned %d notification(s) older than %d days", deleted,
             settings.NOTIFICATION_RETENTION_DAYS)


def prune_scheduler_records() -> None:
    DjangoJobExecution.objects.delete_old_job_executions(int(SCHEDULER_RECORD_RETENTION.total_seconds()))


# Module-level entry points: DjangoJobStore stores a textual reference to the function.
def run_auto_pause_expired() -> None:
    _in_fresh_connection(auto_pause_expired)


def run_send_end_date_reminders() -> None:
    _in_fresh_connection(send_end_date_reminders)


def run_prune_executions() -> None:
    _in_fresh_connection(prune_executions)


def run_prune_notifications() -> None:
    _in_fresh_connection(prune_notifications)


def run_prune_scheduler_records() -> None:
    _in_fresh_connection(prune_scheduler_records)


def internal_jobs() -> dict[str, tuple[object, str]]:
    """id → (entry point, cron in the scheduler zone)."""
    return {
        "cronhub.end_date_auto_pause": (run_auto_pause_expired, "0 0 * * *"),
        "cronhub.end_date_reminders": (run_send_end_date_reminders, settings.SCHEDULER_REMINDER_CRON),
        "cronhub.prune_executions": (run_prune_executions, "30 3 * * *"),
        "cronhub.prune_scheduler_records": (run_prune_scheduler_records, "45 3 * * *"),
        "cronhub.prune_notifications": (run_prune_notifications, "40 3 * * *"),
    }


def build_scheduler() -> BackgroundScheduler:
    return BackgroundScheduler(
        jobstores={"default": DjangoJobStore()},
        executors={"default": ThreadPoolExecutor(2)},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": int(MISFIRE_GRACE.total_seconds())},
        timezone=settings.SCHEDULER_TIMEZONE,
    )


def register(scheduler: BackgroundScheduler) -> None:
    """Add or update the internal jobs in a started (paused) scheduler.

    A stored job whose schedule is unchanged is left alone, so its stored next run
    time (maybe in the past, if no leader was up) is honoured.
    """
    wanted = internal_jobs()
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            scheduler.remove_job(job.id)
    for job_id, (func, expression) in wanted.items():
        trigger = CronHubTrigger(expression, settings.SCHEDULER_TIMEZONE)
        stored = scheduler.get_job(job_id)
        if stored is not None and stored.trigger == trigger and stored.func is func:
            continue
        scheduler.add_job(func, trigger=trigger, id=job_id, name=job_id, replace_existing=True)
