"""Settings of outbound integrations that live in the database."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import models, transaction

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

    is_enabled = models.BooleanField(default=False)
    webhook_url = models.TextField(null=True, blank=True)
    channel = models.CharField(max_length=255, null=True, blank=True)

    class Meta:
        db_table = "slack_settings"
        verbose_name = "Slack settings"
        verbose_name_plural = "Slack settings"

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
