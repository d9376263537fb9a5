"""Bulk operations behind the admin's list actions: pause/resume and run-now.

Run-now hands each job to the execution service in a background thread, so an
admin request never waits for GitHub or a webhook (the scheduler and the API
use the same service; only the thread is admin-specific).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import close_old_connections, connections, transaction

from jobs.models import Job, TriggerType, scheduler_today
from jobs.services import JobExpired, job_execute
from jobs.services.writes import job_update

log = logging.getLogger(__name__)


@dataclass
class SetActiveResult:
    changed: list[Job] = field(default_factory=list)
    unchanged: list[Job] = field(default_factory=list)
    refused_expired: list[Job] = field(default_factory=list)


@transaction.atomic
def jobs_set_active(*, jobs: Iterable[Job], active: bool, user=None) -> SetActiveResult:
    """Pause or resume jobs, each through ``job_update`` as an API ``PUT {"is_active": ...}``
    would (same "Job Enabled"/"Job Disabled" notices, ``updated_at`` moves so the
    scheduler notices). An expired job is never resumed (the API answers "Job
    expired: Update end_date first"); pausing always works."""
    result = SetActiveResult()
    today = scheduler_today()
    for job in jobs:
        if active and job.is_expired(today):
            result.refused_expired.append(job)
        elif job.is_active == active:
            result.unchanged.append(job)
        else:
            result.changed.append(job_update(job=job, data={"is_active": active}, user=user))
    return result


@dataclass
class RunNowResult:
    started: list[Job] = field(default_factory=list)
    refused_expired: list[Job] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)


def _execute_in_thread(job_id) -> None:
    close_old_connections()
    try:
        job_execute(job=Job.objects.get(pk=job_id), trigger=TriggerType.MANUAL)
    except JobExpired:
        log.info("Run-now of job %s refused: past its end date (paused)", job_id)
    except Exception:  # a background thread has nobody to raise to: log it
        log.exception("Run-now of job %s failed", job_id)
    finally:
        # The thread ends here: its own connections go with it (they are per thread).
        connections.close_all()


def jobs_run_now(*, jobs: Iterable[Job]) -> RunNowResult:
    """Start a manual run of each job in the background (one thread per job).

    Expired jobs are refused here, before any thread starts, with the same rule
    the execution service applies (it auto-pauses them), so the admin can say so
    at once instead of failing silently in the background.
    """
    result = RunNowResult()
    today = scheduler_today()
    for job in jobs:
        if job.is_expired(today):
            result.refused_expired.append(job)
            continue
        thread = threading.Thread(
            target=_execute_in_thread,
            args=(job.pk,),
            name=f"run-now-{job.pk}",
            daemon=True,
        )
        result.started.append(job)
        result.threads.append(thread)
    for job in result.refused_expired:
        # Same consequence as the API's execute on an expired job: it is paused, silently
        # (and the job's history says who ran it into the pause).
        job.pause()
    for thread in result.threads:
        # Start only after the request's transaction commits, so the thread sees
        # the same data the admin saw (ATOMIC_REQUESTS-safe).
        transaction.on_commit(thread.start)
    return result
