from django.db import migrations

import cronhub.migration_ops


class Migration(migrations.Migration):
    """On PostgreSQL, the ``LIKE`` twins of the id and of the two links, which no query uses and
    every notification row writes (a burst writes one a run and person)."""

    dependencies = [
        ("notifications", "0003_user_index_covered"),
    ]

    operations = [
        cronhub.migration_ops.DropLikeIndexes(
            model_name="notification", fields=["id", "related_job", "related_execution"]),
    ]
