"""Side effects on integration settings kept in the database."""

from __future__ import annotations

from django.db import transaction

from integrations import rules
from integrations.models import SlackSettings


@transaction.atomic
def slack_settings_update(*, changes: dict) -> SlackSettings:
    """Apply ``is_enabled`` / ``webhook_url`` / ``channel`` (each optional) all at once, or nothing.

    Sending the masked webhook URL back keeps the stored one (``integrations.rules``).
    """
    current = SlackSettings.load()
    row = SlackSettings.objects.select_for_update().get(pk=current.pk)
    values = rules.slack_settings(row, changes)
    for field, value in values.items():
        setattr(row, field, value)
    row.save()
    return row
