"""The scheduler's database calls outlive a database restart: retried with backoff.

Only errors that say the database is unreachable or busy (``OperationalError``,
``InterfaceError``: connection refused or lost, server shutting down, SQLite
locked) are retried; an error in the statement itself (integrity, data) is
raised at once, since repeating it would fail the same way for ever.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.db import InterfaceError, OperationalError, close_old_connections, connection, connections

log = logging.getLogger("cronhub.scheduler")

RETRYABLE = (OperationalError, InterfaceError)
MAX_DELAY_SECONDS = 5.0  # a write waits at most this long after the database is back
CONNECTION_MAX_AGE_SECONDS = 300


def keep_connections_open() -> None:
    """Reuse each thread's database connection instead of reconnecting for every run.

    The web app's setting (close at the end of each request) would make every
    dispatch open a new connection (on PostgreSQL a new server process). With a
    maximum age and Django's health check, ``close_old_connections()`` around each
    run keeps a healthy connection and replaces a dead one (database restart,
    MySQL's ``wait_timeout``) before it is used.
    """
    settings_dict = connections["default"].settings_dict
    settings_dict["CONN_MAX_AGE"] = CONNECTION_MAX_AGE_SECONDS
    settings_dict["CONN_HEALTH_CHECKS"] = True
    connections["default"].close()


def call_with_db_retry(func: Callable, *, what: str, deadline: float | None = None,
                       stop: threading.Event | None = None):
    """Run ``func`` and, while the database is unreachable, retry with backoff.

    Gives up (re-raises) at ``deadline`` (a ``time.monotonic()`` value) or when
    ``stop`` is set; without either it retries until the database is back.
    ``func`` must be safe to run again after a failure whose effect is unknown
    (the commit may have happened before the connection broke).
    """
    delay = 0.5
    while True:
        close_old_connections()
        try:
            return func()
        except RETRYABLE as exc:
            # A dead connection stays broken until closed; Django's health check
            # reopens it on the next query.
            try:
                connection.close()
            except Exception:  # a broken connection may fail to close; it is gone either way
                pass
            remaining = None if deadline is None else deadline - time.monotonic()
            if (remaining is not None and remaining <= delay) or (stop is not None and stop.is_set()):
                raise
            log.warning("%s: database error (%s); retrying in %.1f s", what, exc, delay)
            if stop is not None:
                if stop.wait(delay):
                    raise
            else:
                time.sleep(delay)
            delay = min(delay * 2, MAX_DELAY_SECONDS)


def retrying_writer(stop: threading.Event | None = None):
    """A ``write(func, what)`` for ``jobs.services.runs``: every record write retried until the
    database is back (or ``stop`` is set: the process is abandoning its work)."""

    def write(func: Callable, what: str):
        return call_with_db_retry(func, what=what, stop=stop)

    return write


def bounded_writer(seconds: float):
    """A writer for writes made while a web request waits (a manual run's records): the first
    attempt runs on the request's connection as it is; only once the database has failed is the
    connection renewed and the write retried like ``retrying_writer``'s, up to ``seconds`` after
    the write began. Inside a transaction nothing can be renewed: the error is raised."""

    def write(func: Callable, what: str):
        began = time.monotonic()
        try:
            return func()
        except RETRYABLE:
            if connection.in_atomic_block:
                raise
        return call_with_db_retry(func, what=what, deadline=began + seconds)

    return write
