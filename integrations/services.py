"""Side effects on integration settings kept in the database."""

from __future__ import annotations

from django.db import transaction

from cronhub.api.bodies import optional_text, truthy
from cronhub.api.errors import bad_request
from integrations.models import MASK, SlackSettings


@transaction.atomic
def slack_settings_update(*, changes: dict) -> SlackSettings:
    """Apply ``is_enabled`` / ``webhook_url`` / ``channel`` (each optional) all at once, or nothing (Q-A9).

    The webhook URL is a secret that reads return masked; sending that masked
    value back (as the React client does on every save) keeps the stored URL.
    """
    current = SlackSettings.load()
    row = SlackSettings.objects.select_for_update().get(pk=current.pk)
    is_enabled = truthy(changes["is_enabled"]) if "is_enabled" in changes else row.is_enabled
    webhook_url = row.webhook_url
    if "webhook_url" in changes:
        sent = optional_text(changes["webhook_url"], field="webhook_url", error="Invalid settings")
        if sent is not None and sent == row.masked_webhook_url:
            pass  # the masked placeholder came back unchanged
        elif sent is not None and MASK in sent:
            raise bad_request("Invalid settings",
                              "webhook_url looks masked; paste the full Slack webhook URL to change it.")
        else:
            webhook_url = sent
    channel = row.channel
    if "channel" in changes:
        channel = optional_text(changes["channel"], field="channel", error="Invalid settings", max_length=255)
    if is_enabled and not webhook_url:
        raise bad_request("Invalid settings", "webhook_url is required when Slack is enabled.")
    row.is_enabled, row.webhook_url, row.channel = is_enabled, webhook_url, channel
    row.save()
    return row
