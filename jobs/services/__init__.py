"""Writes with consequences for jobs and their runs: the functions every entry point calls.

- ``writes``: create, update, delete a job (input already checked by ``jobs.rules``);
- ``runs``: run a job (scheduled, manual), record missed/skipped fire times,
  recover runs a stopped process left ``running``;
- ``dispatch``: what one run sends (GitHub or webhook), test runs;
- ``end_dates``: auto-pause of expired jobs and end-date reminders;
- ``retention``: pruning old executions;
- ``imports``: the bulk CSV import;
- ``renames``: jobs follow a renamed category or PIC team.

The names below are the package's public surface, so callers can write
``from jobs.services import job_execute``.
"""

from jobs.services.dispatch import TestRunResult, job_test_run, run_config
from jobs.services.end_dates import (
    end_date_maintenance_run,
    jobs_auto_pause_expired,
    jobs_send_end_date_reminders,
)
from jobs.services.retention import executions_prune
from jobs.services.runs import (
    JobExpired,
    execution_record_missed,
    execution_record_skipped,
    execution_recover,
    executions_needing_recovery,
    job_execute,
)
from jobs.services.writes import job_create, job_delete, job_update

__all__ = [
    "JobExpired",
    "TestRunResult",
    "end_date_maintenance_run",
    "execution_record_missed",
    "execution_record_skipped",
    "execution_recover",
    "executions_needing_recovery",
    "executions_prune",
    "job_create",
    "job_delete",
    "job_execute",
    "job_test_run",
    "job_update",
    "jobs_auto_pause_expired",
    "jobs_send_end_date_reminders",
    "run_config",
]
