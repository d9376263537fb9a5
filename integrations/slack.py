"""Slack incoming-webhook client and the message texts: end dates (BEHAVIOR §7) and run results.

Slack counts as enabled when ``SlackSettings.is_enabled`` and a webhook URL is set.
The URL must be https (plain http is accepted only for loopback hosts: local relays
and tests); any other URL is logged and skipped, as today. Failures never raise.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.conf import settings

from integrations import http
from integrations.models import SlackSettings

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _usable_url(url: str) -> bool:
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)


def slack_post(*, text: str, slack: SlackSettings | None = None) -> bool:
    """Post ``text`` to the configured Slack webhook; True when Slack answered 2xx."""
    slack = slack or SlackSettings.load()
    url = (slack.webhook_url or "").strip()
    if not slack.is_enabled or not url:
        return False
    if not _usable_url(url):
        log.warning("Slack webhook URL %s is not https: message not sent", slack.masked_webhook_url)
        return False
    payload = {"text": text}
    if slack.channel:
        payload["channel"] = slack.channel
    try:
        response = http.request("POST", url, json=payload, follow_redirects=False)
    except http.OutboundError as exc:
        log.warning("Slack message not delivered: %s", exc)
        return False
    if not response.ok:
        log.warning("Slack message not delivered: status %s %s", response.status, response.text[:200])
    return response.ok


def job_link(job) -> str:
    return f"<{settings.FRONTEND_BASE_URL.rstrip('/')}/jobs/{job.pk}/edit|{job.name}>"


def pic_mention(job) -> str:
    """The PIC team's handle (looked up by slug, active or not) followed by one space, or ''."""
    from taxonomy.models import PicTeam

    if not job.pic_team:
        return ""
    handle = PicTeam.objects.filter(slug=job.pic_team).values_list("slack_handle", flat=True).first()
    handle = (handle or "").strip()
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
