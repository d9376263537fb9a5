"""Slack incoming-webhook client: posts a text it is given (the wording is notifications').

Slack counts as enabled when ``SlackSettings.is_enabled`` and a webhook URL is set.
The URL must be https (plain http is accepted only for loopback hosts: local relays
and tests); any other URL is logged and skipped, as today. Failures never raise.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

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
