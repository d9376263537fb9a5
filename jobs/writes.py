"""Creating, changing and deleting jobs: the one place every entry point calls.

Input is validated before it gets here (``jobs/api/serializers.py``); these
functions save atomically, so a failed write leaves nothing behind (Q-A9), and
broadcast the contract's in-app notice to every user (BEHAVIOR.md §5). The
scheduler notices the change itself through its change check (DESIGN.md).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import User
from cronhub.api.errors import bad_request
from jobs.models import Job
from notifications.models import Notification

log = logging.getLogger(__name__)


def _actor(user) -> str:
    return (getattr(user, "email", "") or getattr(user, "username", "") or "system") if user else "system"


def _broadcast(*, title: str, type: str, message: str, job: Job | None) -> None:
    """One notification per user, active or not (Q-B16). A savepoint keeps a failure
    here from undoing the change it reports."""
    try:
        with transaction.atomic():
            Notification.objects.bulk_create([
                Notification(user_id=user_id, title=title, type=type, message=message, related_job=job)
                for user_id in User.objects.values_list("id", flat=True)
            ])
    except Exception:  # a notice must not undo the change it reports
        log.exception("Could not broadcast %r", title)


def _save_unique(job: Job, name: str, **save_kwargs) -> None:
    try:
        with transaction.atomic():
            job.save(**save_kwargs)
    except IntegrityError:
        # Two requests raced for the same name; the unique constraint decided.
        raise bad_request("Duplicate job name", f'A job with the name "{name}" already exists.') from None


def _assign(job: Job, data: dict[str, Any]) -> None:
    for key, value in data.items():
        if key == "notification_emails":
            job.notification_email_list = value
        else:
            setattr(job, key, value)


@transaction.atomic
def job_create(*, data: dict[str, Any], user, notify: bool = True) -> Job:
    """A new, active job owned by ``user`` from validated field values."""
    job = Job(created_by=user, is_active=True)
    _assign(job, data)
    _save_unique(job, job.name)
    if notify:
        _broadcast(
            title="New Job Created", type="info", job=job,
            message=f'Job "{job.name}" was created by {_actor(user)}.')
    return job


@transaction.atomic
def job_update(*, job: Job, data: dict[str, Any], user) -> Job:
    """Apply validated changes; the notice says Enabled/Disabled only when ``is_active`` changed."""
    was_active = job.is_active
    _assign(job, data)
    _save_unique(job, job.name)
    if "is_active" in data and job.is_active != was_active:
        title, kind, verb = ("Job Enabled", "info", "enabled") if job.is_active else \
            ("Job Disabled", "warning", "disabled")
    else:
        title, kind, verb = "Job Updated", "info", "updated"
    _broadcast(
        title=title, type=kind, job=job, message=f'Job "{job.name}" was {verb} by {_actor(user)}.')
    return job


@transaction.atomic
def job_delete(*, job: Job, user) -> dict[str, str]:
    """Hard delete (executions cascade; notifications keep existing, unlinked)."""
    deleted = {"id": job.id, "name": job.name}
    job.delete()
    _broadcast(
        title="Job Deleted", type="warning", job=None,
        message=f'Job "{deleted["name"]}" was deleted by {_actor(user)}.')
    return deleted
