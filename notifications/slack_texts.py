"""What cronhub says on Slack: end-date warnings and run results.

Every text starts with an emoji, then the PIC team's mention (its Slack handle,
as the job names it) and a link to the job's page in the web app. The words are
translatable: ``notify()`` writes them in ``CRONHUB_NOTIFICATION_LANGUAGE``.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _


def job_link(job) -> str:
    return f"<{settings.FRONTEND_BASE_URL.rstrip('/')}/jobs/{job.pk}/edit|{job.name}>"


def pic_mention(job) -> str:
    """The PIC team's handle followed by one space, or '' when the job has no team or the team no handle."""
    handle = job.pic_slack_handle
    return f"{handle} " if handle else ""


def auto_paused_text(job) -> str:
    text = _("Job auto-paused (end date passed): %(job)s (end_date %(end_date)s JST)")
    values = {"job": job_link(job), "end_date": f"{job.end_date:%Y-%m-%d}"}
    return ":warning: " + pic_mention(job) + text % values


def ending_soon_text(job, *, days_left: int) -> str:
    return ":warning: " + pic_mention(job) + _("Job ending soon (%(days)sd): %(job)s (end_date %(end_date)s "
                                                "JST)") % {"days": days_left, "job": job_link(job),
                                                           "end_date": f"{job.end_date:%Y-%m-%d}"}


def run_failed_text(job, *, error: str | None) -> str:
    detail = f": {error[:300]}" if error else ""
    return ":x: " + pic_mention(job) + _("Job failed: %(job)s") % {"job": job_link(job)} + detail


def run_succeeded_text(job) -> str:
    return ":white_check_mark: " + pic_mention(job) + _("Job completed: %(job)s") % {"job": job_link(job)}


def run_unknown_text(job, *, error: str | None) -> str:
    detail = f": {error[:300]}" if error else ""
    return (":grey_question: " + pic_mention(job)
            + _("Job outcome unknown (not a failure; check the target): %(job)s") % {"job": job_link(job)}
            + detail)
