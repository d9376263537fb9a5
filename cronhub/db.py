"""Model building blocks shared by every app.

Primary keys are hyphenated UUID-4 strings in a ``VARCHAR(36)`` column, so
existing databases (whose ids are such strings) open unchanged on every backend.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


def new_id() -> str:
    return str(uuid.uuid4())


class UUIDModel(models.Model):
    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)

    class Meta:
        abstract = True


class TimestampedModel(UUIDModel):
    """``created_at`` at insert, ``updated_at`` on every save.

    Bulk ``QuerySet.update()`` bypasses ``auto_now``: callers that rewrite rows in
    bulk (slug renames, auto-pause) set ``updated_at=timezone.now()`` themselves.
    """

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
