"""Settings of outbound integrations that live in the database."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from simple_history.signals import pre_create_historical_record

from cronhub import audit
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


def redact_url(text: str | None, url: str | None) -> str | None:
    """``text`` with ``url`` (and its path and query, which error messages quote alone) masked."""
    if not text or not url:
        return text
    parts = urlsplit(url)
    text = text.replace(url, mask_url(url) or MASK)
    secret = parts.path + (f"?{parts.query}" if parts.query else "")
    if len(secret) > 1:
        text = text.replace(secret, f"/{MASK}")
    return text


class SlackSettings(TimestampedModel):
    """The one global Slack configuration row (created on first use)."""

    is_enabled = models.BooleanField(_("enabled"), default=False)
    webhook_url = models.TextField(_("webhook URL"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=255, null=True, blank=True)
    history = audit.history()

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


def fingerprinted_mask(url: str | None) -> str | None:
    """What the history keeps of a webhook URL: the mask, and a short digest that tells one
    URL from another without revealing either."""
    if not url:
        return url
    return f"{mask_url(url)} ({hashlib.sha256(url.encode()).hexdigest()[:8]})"


def _history_keeps_no_secret(sender, history_instance, **kwargs) -> None:
    history_instance.webhook_url = fingerprinted_mask(history_instance.webhook_url)


pre_create_historical_record.connect(_history_keeps_no_secret, sender=SlackSettings.history.model,
                                     dispatch_uid="slack_settings_history_mask")
class GitHubRateBudget(models.Model):
    """What one GitHub token may still send, shared by every process (``integrations.github_budget``).

    One row per (API host, token hash); taken with ``SELECT … FOR UPDATE`` so the
    scheduler and the web processes draw from the same budget.
    """

    host = models.CharField(max_length=255)
    token_hash = models.CharField(max_length=64)  # SHA-256 of the token: the token itself is never stored
    # Epoch seconds of the content-creating requests granted within the last hour (oldest first).
    write_times = models.JSONField(default=list, blank=True)
    # The primary limit as GitHub last reported it (x-ratelimit-remaining / -reset).
    remaining = models.IntegerField(null=True, blank=True)
    reset_at = models.DateTimeField(null=True, blank=True)
    # Nothing goes out before this (a rate-limit answer's retry-after or reset).
    blocked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "github_rate_budgets"
        constraints = [
            models.UniqueConstraint(fields=["host", "token_hash"], name="uq_github_rate_budgets_host_token"),
        ]

    def __str__(self) -> str:
        return f"GitHub budget {self.host} {self.token_hash[:8]}"
