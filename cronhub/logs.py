"""Log lines of both processes (web and scheduler): plain text or JSON, one line per event.

``LOG_FORMAT=json`` writes one JSON object per line: ``time`` (UTC, ISO 8601), ``level``,
``logger``, ``message``, and where relevant ``job_id``, ``run_id`` (the execution) and
``fire_time`` (the scheduled time), plus ``exception`` with the traceback. Those three come
from the code that knows them, either per call (``log.info(..., extra={"job_id": ...})``) or
for a whole block of work::

    with log_context(job_id=job.pk, run_id=execution.pk, fire_time=scheduled_for):
        ...  # every line logged here, in this thread, carries them

The plain format appends them as ``[job=... run=... fire=...]``.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging

CONTEXT_FIELDS = ("job_id", "run_id", "fire_time")
_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar("cronhub_log_context", default=None)


def _text(value) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return str(value)


@contextlib.contextmanager
def log_context(**fields):
    """Attach ``job_id`` / ``run_id`` / ``fire_time`` to every record logged inside the block."""
    unknown = set(fields) - set(CONTEXT_FIELDS)
    if unknown:
        raise TypeError(f"log_context: unknown field(s) {sorted(unknown)}")
    added = {key: _text(value) for key, value in fields.items() if value is not None}
    token = _context.set({**(_context.get() or {}), **added})
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Copies the current ``log_context`` onto the record (an explicit ``extra`` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if getattr(record, key, None) is None:
                setattr(record, key, value)
        return True


def _context_of(record: logging.LogRecord) -> dict[str, str]:
    return {key: _text(value) for key in CONTEXT_FIELDS
            if (value := getattr(record, key, None)) is not None}


class PlainFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = _context_of(record)
        if not context:
            return text
        names = {"job_id": "job", "run_id": "run", "fire_time": "fire"}
        suffix = " ".join(f"{names[k]}={v}" for k, v in context.items())
        first, newline, rest = text.partition("\n")  # after the message, before any traceback
        return f"{first} [{suffix}]{newline}{rest}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line; newlines inside messages and tracebacks are escaped."""

    def format(self, record: logging.LogRecord) -> str:
        body = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_context_of(record),
        }
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            body["exception"] = record.exc_text
        if record.stack_info:
            body["stack"] = self.formatStack(record.stack_info)
        return json.dumps(body, ensure_ascii=False, default=str)
