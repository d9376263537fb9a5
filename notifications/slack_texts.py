"""What cronhub says on Slack: end-date warnings and run results.

Every text starts with an emoji, then the PIC team's mention (its Slack handle,
as the job names it) and a link to the job's page in the web app.
"""

from __future__ import annotations

from django.conf import settings


def job_link(job) -> str:
    return f"<{settings.FRONTEND_BASE_URL.rstrip('/')}/jobs/{job.pk}/edit|{job.name}>"


def pic_mention(job) -> str:
    """The PIC team's handle followed by one space, or '' when the job has no team or the team no handle."""
    handle = job.pic_slack_handle
    return f"{handle} " if handle else ""


def auto_paused_text(job) -> str:
    return (f":warning: {pic_mention(job)}Job auto-paused (end date passed): {job_link(job)} "
            f"(end_date {job.end_date:%Y-%m-%d} JST)")


def ending_soon_text(job, *, days_left: int) -> str:
    return (f":warning: {pic_mention(job)}Job ending soon ({days_left}d): {job_link(job)} "
            f"(end_date {job.end_date:%Y-%m-%d} JST)")


def run_failed_text(job, *, error: str | None) -> str:
    detail = f": {error[:300]}" if error else ""
    return f":x: {pic_mention(job)}Job failed: {job_link(job)}{detail}"


def run_succeeded_text(job) -> str:
    return f":white_check_mark: {pic_mention(job)}Job completed: {job_link(job)}"


def run_unknown_text(job, *, error: str | None) -> str:
    detail = f": {error[:300]}" if error else ""
    return f":grey_question: {pic_mention(job)}Job outcome unknown (not a failure; check the target): " \
           f"{job_link(job)}{detail}"
