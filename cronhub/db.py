"""Model building blocks shared by every app.

Primary keys are hyphenated UUID-4 strings in a ``VARCHAR(36)`` column, so
existing databases (whose ids are such strings) open unchanged on every backend.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_id() -> str:
    return str(uuid.uuid4())


class IdField(models.CharField):
    """The primary key column: a ``CharField`` whose lookups never send the database an
    id it cannot hold.

    Ids arrive from URL paths and query strings as any text. One with a NUL
    character (``/jobs/ab%00cd``) or an unpaired surrogate names no row, but
    PostgreSQL refuses such text outright (an error, not "no rows"). Such a value
    is compared as the same text with U+FFFD in their place, which no id contains:
    the lookup finds nothing, and each route answers its own "not found", as for
    any unknown id. The column itself is a plain ``CharField`` (``deconstruct``),
    so migrations do not change.
    """

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if isinstance(value, str) and not _storable(value):
            value = "".join("\ufffd" if char == "\x00" or "\ud800" <= char <= "\udfff" else char
                            for char in value)
        return value

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs


def _storable(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class UUIDModel(models.Model):
    id = IdField(_("ID"), primary_key=True, max_length=36, default=new_id, editable=False)

    class Meta:
        abstract = True


class TimestampedModel(UUIDModel):
    """``created_at`` at insert, ``updated_at`` on every save.

    Bulk ``QuerySet.update()`` bypasses ``auto_now``: callers that rewrite rows in
    bulk (slug renames, auto-pause) set ``updated_at=timezone.now()`` themselves.
    """

    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True
