"""The input rules of the Slack settings, once: the API and the admin both ask these.

:func:`slack_settings` checks a whole change (each key optional) against the
stored row and returns the three values to store, or raises
:class:`~cronhub.errors.InvalidInput` naming the field. Lengths come from the
model.
"""

from __future__ import annotations

from typing import Any

from cronhub.errors import N_, InvalidInput
from cronhub.values import storable_text, truthy
from integrations.models import MASK, SlackSettings

INVALID = "Invalid settings"


def optional_text(value: Any, *, field: str) -> str | None:
    """A trimmed string, ``None`` for null or blank; refused for other types or overlong text."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(INVALID, N_("%(field)s must be a string."), params={"field": field}, field=field)
    text = storable_text(value.strip(), field=field)
    longest = SlackSettings._meta.get_field(field).max_length
    if longest is not None and len(text) > longest:
        raise InvalidInput(INVALID, N_("%(field)s must be at most %(longest)s characters."),
                           params={"field": field, "longest": longest}, field=field)
    return text or None


def webhook_url(value: Any, *, row: SlackSettings) -> str | None:
    """The URL to store: what was sent, except that the masked URL read back keeps the stored one.

    The URL is a secret that reads return masked; clients (the React app, the admin
    form) send that value back on every save.
    """
    sent = optional_text(value, field="webhook_url")
    if sent is not None and sent == row.masked_webhook_url:
        return row.webhook_url
    if sent is not None and MASK in sent:
        raise InvalidInput(
            INVALID, N_("webhook_url looks masked; paste the full Slack webhook URL to change it."),
            field="webhook_url")
    return sent


def slack_settings(row: SlackSettings, changes: dict) -> dict[str, Any]:
    """``is_enabled`` / ``webhook_url`` / ``channel`` after ``changes``; enabled needs a URL."""
    values = {"is_enabled": row.is_enabled, "webhook_url": row.webhook_url, "channel": row.channel}
    if "is_enabled" in changes:
        values["is_enabled"] = truthy(changes["is_enabled"])
    if "webhook_url" in changes:
        values["webhook_url"] = webhook_url(changes["webhook_url"], row=row)
    if "channel" in changes:
        values["channel"] = optional_text(changes["channel"], field="channel")
    if values["is_enabled"] and not values["webhook_url"]:
        raise InvalidInput(INVALID, N_("webhook_url is required when Slack is enabled."), field="webhook_url")
    return values
