"""Settings of outbound integrations that live in the database."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from cronhub.db import TimestampedModel

MASK = "****"


def mask_url(url: str | None) -> str | None:
    """Keep scheme and host visible, hide the path (the secret part of a Slack URL)."""
    if not url:
        return url
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return MASK
    return f"{parts.scheme}://{parts.netloc}/{MASK}"


class SlackSettings(TimestampedModel):
    """The one global Slack configuration row (created on first use)."""

    is_enabled = models.BooleanField(_("enabled"), default=False)
    webhook_url = models.TextField(_("webhook URL"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=255, null=True, blank=True)

    class Meta:
        db_table = "slack_settings"
        verbose_name = _("Slack settings")
        verbose_name_plural = _("Slack settings")

    def __str__(self) -> str:
        return "Slack settings"

    @classmethod
    def load(cls) -> SlackSettings:
        """The first row, created when there is none (one global row of settings)."""
        row = cls.objects.order_by("created_at", "id").first()
        if row is None:
            with transaction.atomic():
                locked = cls.objects.select_for_update().order_by("created_at", "id")
                row = locked.first() or cls.objects.create()
        return row

    @property
    def masked_webhook_url(self) -> str | None:
        return mask_url(self.webhook_url)
