"""How long run history is kept: executions older than the retention are deleted in batches."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.models import JobExecution


def executions_prune(*, older_than_days: int | None = None, batch_size: int = 1000) -> int:
    """Delete executions that started more than ``older_than_days`` (default EXECUTION_RETENTION_DAYS) ago.

    Deletes in batches so a large backlog never holds one long lock.
    """
    days = settings.EXECUTION_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - dt.timedelta(days=days)
    deleted = 0
    while True:
        ids = list(JobExecution.objects.filter(started_at__lt=cutoff)
                   .order_by("started_at").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        with transaction.atomic():  # notifications keep their row, related_execution set to NULL
            _total, per_model = JobExecution.objects.filter(pk__in=ids).delete()
        deleted += per_model.get(JobExecution._meta.label, 0)
