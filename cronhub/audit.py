"""The audit trail: who changed what and when, whatever the entry point.

Models that keep a history declare ``history = audit.history()`` (django-simple-history:
one historical row per save or delete, in the same transaction). Each row also says how
the change came in (``history_via``: api, admin, import, scheduler, command) and who made
it (``history_author``: the user's name at the time, or "scheduler"), so a row stays
readable after its user is deleted.

The entry point says who is acting with :func:`acting`: the web middleware
(:class:`AuditMiddleware`) for the API and the admin (the user is read when the row is
written, after DRF has authenticated the request), the CSV import for its rows, the
scheduler for its pauses. Writes that bypass ``save()`` (conditional UPDATEs) call
:func:`record` themselves.

:func:`entries` turns a history into what the admin page and ``GET /api/v2/jobs/{id}/history``
show: one entry per change with the fields that changed, secrets masked by the caller's
``mask`` function.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.dispatch import receiver
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

API = "api"
ADMIN = "admin"
IMPORT = "import"
SCHEDULER = "scheduler"
COMMAND = "command"

ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
# Bookkeeping columns that change with every save: not news in a history.
QUIET_FIELDS = frozenset({"updated_at", "created_at", "end_date_reminded_for"})


@dataclass(frozen=True)
class Actor:
    via: str
    user: Any = None
    request: Any = None

    def resolve_user(self) -> Any:
        if self.user is not None:
            return self.user
        user = getattr(self.request, "user", None)
        return user if user is not None and getattr(user, "is_authenticated", False) else None


_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("cronhub_audit_actor", default=None)


@contextmanager
def acting(via: str, *, user: Any = None, request: Any = None) -> Iterator[Actor]:
    """Changes saved inside are stamped as made through ``via`` by ``user`` (or the request's user)."""
    actor = Actor(via=via, user=user, request=request)
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def current() -> Actor | None:
    return _actor.get()


class AuditedChange(models.Model):
    """The two columns every historical table adds to simple-history's own."""

    history_via = models.CharField(max_length=20, blank=True, default="")
    history_author = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        abstract = True


def _current_user(instance=None, request=None, **kwargs):
    actor = current()
    return actor.resolve_user() if actor is not None else None


def history(**options: Any) -> HistoricalRecords:
    """The history declaration every audited model uses."""
    return HistoricalRecords(bases=[AuditedChange], get_user=_current_user, **options)


@receiver(pre_create_historical_record)
def _stamp(sender, history_instance, history_user=None, **kwargs) -> None:
    if not isinstance(history_instance, AuditedChange):
        return
    actor = current()
    via = actor.via if actor is not None else ""
    history_instance.history_via = via
    if history_user is not None:
        history_instance.history_author = history_user.get_username()
    else:
        history_instance.history_author = SCHEDULER if via == SCHEDULER else (via or "system")


def record(instance: models.Model, *, via: str | None = None, reason: str | None = None) -> None:
    """A "changed" row for ``instance`` as it is now (after an UPDATE that skipped ``save()``)."""
    records: HistoricalRecords | None = getattr(type(instance), "_cronhub_history", None)
    if records is None:
        return
    if reason:
        instance._change_reason = reason
    if via is None:
        records.create_historical_record(instance, "~")
        return
    with acting(via):
        records.create_historical_record(instance, "~")


def register(model: type[models.Model], records: HistoricalRecords) -> None:
    """Let :func:`record` find a model's history declaration."""
    model._cronhub_history = records


# --- reading ------------------------------------------------------------------------------------

Mask = Callable[[str, Any], Any]


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _fields(row: models.Model) -> list[tuple[str, str]]:
    """(label, column) of the fields an entry compares: not the id, not the bookkeeping ones."""
    meta = row.instance_type._meta
    return [(field.name, field.attname) for field in meta.concrete_fields
            if not field.primary_key and field.attname not in QUIET_FIELDS and hasattr(row, field.attname)]


def entries(rows: list[models.Model], *, mask: Mask | None = None,
            previous: models.Model | None = None) -> list[dict[str, Any]]:
    """One entry per historical row, newest first: when, who, through what, and the fields
    that changed (``{"field", "old", "new"}``; every field for a creation).

    ``rows`` are newest first; ``previous`` is the row just older than the last of them
    (a page's boundary), if any. ``mask(field, value)`` hides secrets.
    """
    mask = mask or (lambda _field, value: value)
    result: list[dict[str, Any]] = []
    older_rows = [*rows[1:], previous] if rows else []  # no rows: a page past the end, or no history
    for row, older in zip(rows, older_rows, strict=True):
        changes = []
        for name, column in _fields(row) if row.history_type != "-" else []:
            new = getattr(row, column)
            old = getattr(older, column) if older is not None else None
            if row.history_type == "+" or new != old:
                changes.append({"field": name, "old": _plain(mask(name, old)) if older is not None else None,
                                "new": _plain(mask(name, new))})
        result.append({
            "id": row.history_id,
            "at": row.history_date,
            "action": ACTIONS.get(row.history_type, row.history_type),
            "author": row.history_author or (row.history_user.get_username() if row.history_user else ""),
            "via": row.history_via,
            "reason": row.history_change_reason or "",
            "changes": changes,
        })
    return result


def history_rows(model: type[models.Model], pk: Any):
    """An object's historical rows, newest first."""
    return (model.history.filter(id=pk).select_related("history_user")
            .order_by("-history_date", "-history_id"))


def page_entries(rows, *, page: int, limit: int, mask: Mask | None = None) -> list[dict[str, Any]]:
    """Page ``page`` (from 1) of ``rows`` (newest first) as :func:`entries`; one query, with the
    row just older than the page so its last entry still shows what changed."""
    start = (page - 1) * limit
    window = list(rows[start:start + limit + 1])
    previous = window[limit] if len(window) > limit else None
    return entries(window[:limit], mask=mask, previous=previous)


class AuditMiddleware:
    """The API's and the admin's changes are stamped with the request's user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info or ""
        if path.startswith("/api/"):
            via = API
        elif path.startswith("/admin/"):
            via = ADMIN
        else:
            return self.get_response(request)
        with acting(via, request=request):
            return self.get_response(request)
