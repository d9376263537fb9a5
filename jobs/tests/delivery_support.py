"""Helpers for the tests of retries, waits and rate limits: a receiver answering a script of
replies, and the scheduler leader's sending of waiting runs driven in the test's thread."""

from __future__ import annotations

import threading
import time

from django.db import connections
from django.utils import timezone

from cronhub.testing.servers import RecordingServer, Reply
from jobs.models import ExecutionStatus, JobExecution
from jobs.scheduler.dispatcher import Dispatcher, DueJobs

LEADER = "test-host:1:leader"


class ScriptedServer(RecordingServer):
    """Answers its requests with ``script`` in order, then with the default answer."""

    def __init__(self, *script: Reply, default: Reply | None = None):
        super().__init__(default or Reply(200, "ok"))
        self.script = list(script)

    def choose(self, request):
        with self._lock:
            if self.script:
                return self.script.pop(0)
        return self.default


def pooled(func, *args, **kwargs):
    """Run ``func`` in a thread of its own, as the dispatch pool does (with its own database
    connection, closed after), and wait for it; re-raises its error. Needs committed data
    (``django_db(transaction=True)``)."""
    return in_pool([lambda: func(*args, **kwargs)])[0]


def in_pool(calls, *, workers: int = 10) -> list:
    """Run ``calls`` in up to ``workers`` threads at once, each with its own database connection
    (closed after), as the scheduler's dispatch pool does; their results, in order. Re-raises
    the first error."""
    results, errors = [None] * len(calls), []
    pending = list(enumerate(calls))
    lock = threading.Lock()

    def worker():
        try:
            while True:
                with lock:
                    if not pending:
                        return
                    index, call = pending.pop(0)
                try:
                    results[index] = call()
                except BaseException as exc:  # re-raised below
                    errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(min(workers, len(calls)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    if errors:
        raise errors[0]
    return results


def leader(grace_seconds: int = 300) -> Dispatcher:
    """The scheduler's dispatcher; what it hands to its pool runs in a thread, waited for."""
    dispatcher = Dispatcher(grace_seconds=grace_seconds, due=DueJobs(), claimer=LEADER)
    dispatcher.submit = lambda func, *args: pooled(func, *args)
    return dispatcher


def send_waiting_until(done, *, dispatcher: Dispatcher | None = None, timeout: float = 30.0,
                       tick: float = 0.05):
    """What the leader's loop does every tick (send the waiting runs that are due), until
    ``done()`` is true; returns its value."""
    dispatcher = dispatcher or leader()
    deadline = time.monotonic() + timeout
    while True:
        value = done()
        if value:
            return value
        if time.monotonic() > deadline:
            waiting = list(JobExecution.objects.filter(status=ExecutionStatus.RUNNING).values(
                "pk", "wait_reason", "next_attempt_at"))
            raise AssertionError(f"timed out after {timeout} s; still running at {timezone.now()}: {waiting}")
        due = dispatcher.runs_waiting()
        if due:
            in_pool([lambda pk=pk: dispatcher.resume(pk) for pk in due])
        time.sleep(tick)


def finished(*executions):
    """A ``done`` for ``send_waiting_until``: every one of ``executions`` has ended."""
    def done():
        rows = [JobExecution.objects.get(pk=e.pk) for e in executions]
        return rows if all(r.status != ExecutionStatus.RUNNING for r in rows) else None
    return done
