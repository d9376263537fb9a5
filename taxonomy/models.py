"""Job categories and PIC (person-in-charge) teams.

Jobs refer to them by slug, without a foreign key (existing databases store them so): renaming
one rewrites the slug in every matching job, disabling one leaves jobs alone.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cronhub import audit
from cronhub.db import TimestampedModel

DEFAULT_CATEGORIES = (
    ("general", "General"),
    ("regression", "Regression"),
    ("dr-testing", "DR Testing"),
    ("feature-testing", "Feature Testing"),
    ("prod-canary", "Prod/Canary"),
    ("refund", "Refund"),
    ("backward-compatibility", "Backward Compatibility"),
)


class SlugNamed(TimestampedModel):
    slug = models.CharField(_("slug"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=255)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"


class JobCategory(SlugNamed):
    history = audit.history()

    class Meta(SlugNamed.Meta):
        db_table = "job_categories"
        verbose_name = _("job category")
        verbose_name_plural = _("job categories")


class PicTeam(SlugNamed):
    slack_handle = models.CharField(_("Slack handle"), max_length=255, null=True, blank=True)
    history = audit.history()

    class Meta(SlugNamed.Meta):
        db_table = "pic_teams"
        verbose_name = _("PIC team")
        verbose_name_plural = _("PIC teams")
