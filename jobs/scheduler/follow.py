"""The leader's follower: looks up the GitHub workflow runs that are due, until each concludes.

A thread of the leader (started with the maintenance jobs, stopped when it steps
down) wakes about once a second, reads which followed executions are due for a
lookup (``jobs.services.github_runs.due_runs``: one indexed query) and hands
them to a small pool; each lookup moves the row's next lookup forward before it
asks GitHub, so a run is looked up once per interval even if two leaders
overlapped for a moment. Nothing is kept in memory: a new leader finds the
rows where the last one left them.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading

from django.db import DatabaseError, close_old_connections

from jobs.scheduler import metrics
from jobs.services import github_runs

log = logging.getLogger("cronhub.scheduler.follow")

TICK_SECONDS = 1.0
WORKERS = 4
BATCH = 200
OUTAGE_BACKOFF_MAX_SECONDS = 10.0


class Follower:
    def __init__(self, *, workers: int = WORKERS):
        self.workers = workers
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    def start(self) -> None:
        self._stop.clear()
        self._pool = concurrent.futures.ThreadPoolExecutor(self.workers, thread_name_prefix="follow")
        self._thread = threading.Thread(target=self._loop, name="follow", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop looking runs up; a lookup in flight is left to end on its own (its row is safe)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _loop(self) -> None:
        backoff = TICK_SECONDS
        while not self._stop.wait(backoff):
            try:
                close_old_connections()
                due = github_runs.due_runs(limit=BATCH)
                backoff = TICK_SECONDS
            except DatabaseError as exc:
                log.warning("follow: database error (%s); retrying in %.0f s", exc, backoff)
                backoff = min(backoff * 2, OUTAGE_BACKOFF_MAX_SECONDS)
                continue
            except Exception:
                log.exception("follow: could not read the runs due")
                continue
            if not due:
                continue
            try:
                futures = [self._pool.submit(self._poll, pk) for pk in due]
            except RuntimeError:  # the pool was shut down: this leadership is over
                return
            concurrent.futures.wait(futures)

    def _poll(self, execution_id: str) -> None:
        if self._stop.is_set():
            return
        try:
            outcome = github_runs.poll(execution_id)
            metrics.GITHUB_RUN_LOOKUPS.labels(outcome=outcome).inc()
            if outcome not in ("not-due", "unchanged", "updated", "searching"):
                log.info("follow execution=%s outcome=%s", execution_id, outcome)
        except Exception:
            log.exception("follow execution=%s outcome=error", execution_id)
        finally:
            close_old_connections()
