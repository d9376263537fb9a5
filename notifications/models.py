"""In-app notifications (table ``notifications``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cronhub.db import UUIDModel


class NotificationType(models.TextChoices):
    SUCCESS = "success", _("Success")
    ERROR = "error", _("Error")
    WARNING = "warning", _("Warning")
    INFO = "info", _("Info")


class Notification(UUIDModel):
    # No index of its own: the two indexes below start with it (a burst writes a row per run
    # and person, and every index is written with each).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_column="user_id",
        db_index=False,
    )
    title = models.CharField(_("title"), max_length=255)
    message = models.TextField(_("message"))
    type = models.CharField(_("type"), max_length=50, choices=NotificationType.choices)
    related_job = models.ForeignKey(
        "jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications",
        db_column="related_job_id",
    )
    related_execution = models.ForeignKey(
        "jobs.JobExecution", on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications",
        db_column="related_execution_id",
    )
    is_read = models.BooleanField(_("read"), default=False)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        db_table = "notifications"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="ix_notifications_user_created"),
            models.Index(fields=["user", "is_read"], name="ix_notifications_user_read"),
        ]

    def __str__(self) -> str:
        return f"{self.title} → {self.user_id}"

    def mark_read(self, at=None) -> None:
        if not self.is_read:
            self.is_read = True
            self.read_at = at or timezone.now()
            self.save(update_fields=["is_read", "read_at"])
