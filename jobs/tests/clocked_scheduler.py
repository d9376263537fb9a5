"""Test-only: ``manage.py runscheduler`` on a shifted clock.

    python -m jobs.tests.clocked_scheduler OFFSET_SECONDS
    python -m jobs.tests.clocked_scheduler OFFSET_SECONDS dispatch-worker

Cron has minute resolution, so a multi-process test would wait up to a minute
for each fire time. Instead the test starts every scheduler process through
this module with the same offset: the process's wall clock (every
``datetime.now``/``time.time``, so APScheduler, the trigger, the claim rows and
the heartbeat alike) runs that many seconds ahead, chosen so the next minute
boundary is a few seconds away. Then the production command runs unchanged:
the real trigger, engine, lock and claim path fire at that boundary (with
``CRONHUB_TEST_DIE_AFTER_CLAIM=1`` the process SIGKILLs itself after its first
burst claim, before marking the runs sent). The leader's dispatch processes
(``SCHEDULER_DISPATCH_PROCESSES``) are started through this module too, on the same
clock (the second form); ``CRONHUB_TEST_WORKER_DIE_AFTER_CLAIM=1`` kills a dispatch
process that way instead of the leader. A dispatch process reports on standard error
(the leader's log) how many database connections each of its threads has opened.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time


def main(argv: list[str]) -> None:
    if len(argv) not in (2, 3) or argv[2:] not in ([], ["dispatch-worker"]):
        sys.exit("usage: python -m jobs.tests.clocked_scheduler OFFSET_SECONDS [dispatch-worker] "
                 f"(got {argv[1:]!r})")
    offset = float(argv[1])
    import time_machine  # a test dependency (requirements-dev.txt)

    time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset), tick=True).start()
    # A ticking travel starts ticking at the first reading of the clock, not at start(): read it
    # now, or the process's clock lags by however long Django takes to first ask the time
    # (0.5-2 s measured), and every lateness a benchmark derives from OFFSET is inflated by that.
    time.time()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cronhub.settings")
    if argv[2:] == ["dispatch-worker"]:
        if os.environ.get("CRONHUB_TEST_WORKER_DIE_AFTER_CLAIM"):
            _die_after_claim()
        _report_connections()
        from jobs.scheduler import dispatch_worker

        dispatch_worker.main()
        return
    if os.environ.get("CRONHUB_TEST_DIE_AFTER_CLAIM"):
        _die_after_claim()
    import django

    django.setup()
    from jobs.scheduler import workers

    workers.WORKER_COMMAND = [sys.executable, "-m", "jobs.tests.clocked_scheduler", argv[1],
                              "dispatch-worker"]
    from django.core.management import execute_from_command_line

    execute_from_command_line(["manage.py", "runscheduler"])


def _report_connections() -> None:
    """Print ``dispatch process connections: {thread name: connections opened}`` each time a
    thread opens a database connection (a thread should open one and keep it)."""
    import collections
    import threading

    from django.db.backends.signals import connection_created

    opened: collections.Counter = collections.Counter()

    def count(sender, connection, **kwargs):
        opened[threading.current_thread().name] += 1
        sys.stderr.write(f"dispatch process connections: {dict(opened)!r}\n")
        sys.stderr.flush()

    connection_created.connect(count, weak=False)


def _die_after_claim() -> None:
    """A fault for recovery tests: the process SIGKILLs itself once the burst pipeline has
    claimed runs, right before it would mark them sent (claimed, never sent)."""
    import signal

    import django

    django.setup()
    from jobs.services import runs

    def die(executions):
        sys.stdout.write(f"dying after claiming {len(executions)} run(s)\n")
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    runs.mark_sent_many = die


if __name__ == "__main__":
    main(sys.argv)
