"""``manage.py runscheduler``: the only process that fires jobs.

Waits as a hot standby until it holds the leader lock, then schedules and fires
jobs until SIGTERM/SIGINT, then lets running dispatches finish (bounded by
SCHEDULER_SHUTDOWN_GRACE_SECONDS), releases the lock and exits 0 — or exits
3 (``EXIT_ABANDONED``) when a call was still running at the end of the grace:
that run is left for the next leader to recover. Run two (on
one host with the file lock, on several with SCHEDULER_LOCK_BACKEND=database)
and the standby takes over when the leader goes away. See jobs/scheduler/.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from jobs.scheduler import metrics, runner
from jobs.scheduler.lock import make_lock

log = logging.getLogger("cronhub.scheduler")

EXIT_ABANDONED = 3  # stopped with a call still running (its run is left for the next leader)


class Command(BaseCommand):
    help = "Run the job scheduler (leader lock, hot standby, reconciliation, dispatch)."

    def handle(self, *args, **options):
        stop = threading.Event()

        def on_signal(signum, _frame):
            log.info("received %s; stopping", signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

        if not settings.SCHEDULER_ENABLED:
            # Stay up (idle) so a supervisor or scripts/dev.sh does not restart or stop everything.
            log.warning("scheduler disabled (SCHEDULER_ENABLED=false); idling until stopped")
            stop.wait()
            return

        if settings.SCHEDULER_METRICS_PORT:
            try:
                metrics.serve(settings.SCHEDULER_METRICS_PORT, settings.SCHEDULER_METRICS_ADDRESS)
            except OSError as exc:  # e.g. a second scheduler on this host: schedule anyway, without metrics
                log.error("metrics: cannot listen on %s:%d (%s); running without metrics",
                          settings.SCHEDULER_METRICS_ADDRESS, settings.SCHEDULER_METRICS_PORT, exc)

        log.info("scheduler starting (pid %d, %s lock, zone %s)", os.getpid(),
                 settings.SCHEDULER_LOCK_BACKEND, settings.SCHEDULER_TIMEZONE)
        drained = runner.run(make_lock(), stop)
        if not drained:
            log.error("scheduler stopped, abandoning running call(s): the next leader recovers their runs")
            # Dispatch threads that outlived the grace would hold the interpreter open.
            logging.shutdown()
            sys.stdout.flush()
            os._exit(EXIT_ABANDONED)
        log.info("scheduler stopped")
