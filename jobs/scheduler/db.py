"""The scheduler's database calls outlive a database restart: retried with backoff."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.db import DatabaseError, close_old_connections, connection

log = logging.getLogger("cronhub.scheduler")


def call_with_db_retry(func: Callable, *, what: str, deadline: float | None = None,
                       stop: threading.Event | None = None):
    """Run ``func`` and, while the database is unreachable, retry with backoff.

    Gives up (re-raises) at ``deadline`` (a ``time.monotonic()`` value) or when
    ``stop`` is set; without either it retries until the database is back.
    """
    delay = 0.5
    while True:
        close_old_connections()
        try:
            return func()
        except DatabaseError as exc:
            # A dead connection stays broken until closed; Django's health check
            # reopens it on the next query.
            connection.close()
            remaining = None if deadline is None else deadline - time.monotonic()
            if (remaining is not None and remaining <= delay) or (stop is not None and stop.is_set()):
                raise
            log.warning("%s: database error (%s); retrying in %.1f s", what, exc, delay)
            if stop is not None:
                if stop.wait(delay):
                    raise
            else:
                time.sleep(delay)
            delay = min(delay * 2, 30.0)
