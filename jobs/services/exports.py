"""Jobs out again: as the CSV the import reads (``jobs/services/imports.py``) and as JSON.

CSV: one row per job with the import's own column names, so exporting jobs and importing
the file into another install (whose PIC teams exist) creates the same jobs. Every cell a
spreadsheet would run as a formula is neutralised (``imports.neutralise_cell``) and the
import restores it, so a job named "=SUM(A1)" keeps its name. Paused jobs export as
``Disable``. A job whose end date has passed exports too, but the import refuses it (an
end date must be today or later), as it would any such row.

JSON: ``{"jobs": [...]}``, each job as the body ``POST /api/v2/jobs`` accepts, plus
``is_active``.

Webhook URLs are written in full only for callers allowed to see them
(``cronhub.permissions.can_view_job_secrets``); for the others they are masked, and such
a row does not re-import to a working webhook.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from cronhub import permissions
from integrations.models import mask_url
from jobs.models import Job
from jobs.services.imports import neutralise_cell

# (header, value of a job); the headers are names the import's ALIASES know.
CSV_COLUMNS: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
    ("Job Name", lambda job: job["name"]),
    ("Cron Expression", lambda job: job["cron_expression"]),
    ("Timezone", lambda job: job["timezone"]),
    ("Status", lambda job: "Enable" if job["is_active"] else "Disable"),
    ("Target URL", lambda job: job["target_url"] or ""),
    ("GitHub Owner", lambda job: job["github_owner"] or ""),
    ("Repo", lambda job: job["github_repo"] or ""),
    ("Workflow Name", lambda job: job["github_workflow_name"] or ""),
    ("Category", lambda job: job["category"] or ""),
    ("End Date", lambda job: job["end_date"] or ""),
    ("PIC Team", lambda job: job["pic_team"] or ""),
    ("Request Body", lambda job: json.dumps(job["metadata"], ensure_ascii=False) if job["metadata"] else ""),
    ("Email Notifications", lambda job: "true" if job["enable_email_notifications"] else "false"),
    ("Notification Emails", lambda job: ",".join(job["notification_emails"])),
    ("Notify On Success", lambda job: "true" if job["notify_on_success"] else "false"),
)


def target_url_for(user: Any, job: Job) -> str | None:
    """The job's webhook URL as ``user`` may see it."""
    if job.target_url and not permissions.can_view_job_secrets(user, job):
        return mask_url(job.target_url)
    return job.target_url


def job_body(job: Job, *, user: Any) -> dict[str, Any]:
    """One job as a create body (``POST /api/v2/jobs``) plus ``is_active``."""
    return {
        "name": job.name,
        "cron_expression": job.cron_expression,
        "timezone": job.timezone,
        "is_active": job.is_active,
        "target_url": target_url_for(user, job),
        "github_owner": job.github_owner,
        "github_repo": job.github_repo,
        "github_workflow_name": job.github_workflow_name,
        "category": job.category,
        "end_date": job.end_date.isoformat() if job.end_date else None,
        "pic_team": job.pic_team,
        "metadata": job.metadata_dict,
        "enable_email_notifications": job.enable_email_notifications,
        "notification_emails": job.notification_email_list,
        "notify_on_success": job.notify_on_success,
    }


def _ordered(jobs: Iterable[Job]) -> list[Job]:
    return sorted(jobs, key=lambda job: job.name)


def jobs_export_csv(jobs: Iterable[Job], *, user: Any) -> str:
    """The jobs as CSV text (UTF-8 when encoded; a BOM is the caller's choice)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([header for header, _value in CSV_COLUMNS])
    for job in _ordered(jobs):
        body = job_body(job, user=user)
        writer.writerow([neutralise_cell(str(value(body))) for _header, value in CSV_COLUMNS])
    return out.getvalue()


def jobs_export_json(jobs: Iterable[Job], *, user: Any) -> dict[str, Any]:
    return {"jobs": [job_body(job, user=user) for job in _ordered(jobs)]}
