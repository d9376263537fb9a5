"""Seed the default job categories: only missing slugs are added,
so a category an operator disabled stays disabled."""

import uuid

from django.db import migrations
from django.utils import timezone

DEFAULT_CATEGORIES = (
    ("general", "General"),
    ("regression", "Regression"),
    ("dr-testing", "DR Testing"),
    ("feature-testing", "Feature Testing"),
    ("prod-canary", "Prod/Canary"),
    ("refund", "Refund"),
    ("backward-compatibility", "Backward Compatibility"),
)


def seed(apps, schema_editor):
    JobCategory = apps.get_model("taxonomy", "JobCategory")
    existing = set(JobCategory.objects.values_list("slug", flat=True))
    now = timezone.now()
    JobCategory.objects.bulk_create(
        JobCategory(id=str(uuid.uuid4()), slug=slug, name=name, is_active=True, created_at=now, updated_at=now)
        for slug, name in DEFAULT_CATEGORIES
        if slug not in existing
    )


class Migration(migrations.Migration):
    dependencies = [("taxonomy", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
