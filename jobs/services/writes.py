"""Creating, changing and deleting jobs: the one place every entry point calls.

Input is checked before it gets here (``jobs.rules``); these functions save
atomically, so a failed write leaves nothing behind, and announce the change
through ``notify()``. The scheduler notices the change itself through its
change check.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from jobs import rules
from jobs.models import Job
from notifications.services import Event, notify


def _save_unique(job: Job, **save_kwargs) -> None:
    try:
        with transaction.atomic():
            job.save(**save_kwargs)
    except IntegrityError:
        # Two requests raced for the same name; the unique constraint decided.
        raise rules.duplicate_name(job.name, op=rules.Op.UPDATE) from None


def _assign(job: Job, data: dict[str, Any]) -> None:
    for key, value in data.items():
        if key == "notification_emails":
            job.notification_email_list = value
        else:
            setattr(job, key, value)


@transaction.atomic
def job_create(*, data: dict[str, Any], user, announce: bool = True, reason: str | None = None) -> Job:
    """A new, active job owned by ``user`` from checked field values; ``announce=False``
    for bulk imports, which would otherwise flood everyone with one notice per row.
    ``reason`` goes into the job's history (e.g. the file it was imported from)."""
    job = Job(created_by=user, is_active=True)
    _assign(job, data)
    if reason:
        job._change_reason = reason[:100]
    _save_unique(job)
    if announce:
        notify(event=Event.JOB_CREATED, job=job, actor=user)
    return job


@transaction.atomic
def job_update(*, job: Job, data: dict[str, Any], user) -> Job:
    """Apply validated changes; the notice says Enabled/Disabled only when ``is_active`` changed."""
    was_active = job.is_active
    _assign(job, data)
    _save_unique(job)
    if "is_active" in data and job.is_active != was_active:
        event = Event.JOB_ENABLED if job.is_active else Event.JOB_DISABLED
    else:
        event = Event.JOB_UPDATED
    notify(event=event, job=job, actor=user)
    return job


@transaction.atomic
def job_delete(*, job: Job, user) -> dict[str, str]:
    """Hard delete (executions cascade; notifications keep existing, unlinked)."""
    deleted = {"id": job.id, "name": job.name}
    job.delete()
    notify(event=Event.JOB_DELETED, job=job, actor=user)
    return deleted
