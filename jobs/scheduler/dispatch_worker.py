"""A dispatch process: the leader's share of a burst, claimed, sent and recorded here.

    python -m jobs.scheduler.dispatch_worker      (started by the leader: jobs/scheduler/workers.py)

It reads ``{"fires": [[seq, job id, fire time], …]}`` lines on standard input and runs
them through the same ``BurstPipeline`` the leader uses, under a claimer name of its own;
it answers on standard output (see ``jobs.scheduler.workers``). Its log goes to standard
error, which it shares with the leader. When its standard input closes (the leader
stopped, stepped down or died) or it is asked to stop (SIGTERM, SIGINT), it takes nothing
new, hands the fires it had not claimed back to the leader (if the leader is still there),
finishes and records what it has claimed, and exits.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import os
import queue
import signal
import sys
import threading


def main() -> None:
    # The protocol owns the real standard output; anything else printed goes to standard error.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cronhub.settings")
    import django

    django.setup()
    from jobs.scheduler.db import keep_connections_open

    # As in the leader: each thread keeps its connection from batch to batch (the web app's
    # setting would reconnect for every claim and every record batch).
    keep_connections_open()
    Worker(answers).run(sys.stdin.buffer)


class _Relay:
    """Stands in for the metrics the pipeline counts: the leader counts them (it serves them)."""

    def __init__(self, worker: Worker, status: str | None = None):
        self._worker = worker
        self._status = status

    def observe(self, value: float) -> None:  # DISPATCH_LATENESS
        self._worker.events.put(("lateness", value))

    def labels(self, *, status: str) -> _Relay:  # EXECUTIONS
        return _Relay(self._worker, status)

    def inc(self, amount: int = 1) -> None:
        self._worker.events.put(("executions", (self._status, amount)))


class Worker:
    def __init__(self, answers):
        from django.conf import settings

        from jobs.scheduler import metrics
        from jobs.scheduler.dispatcher import Dispatcher, DueJobs
        from jobs.scheduler.pipeline import BurstPipeline
        from jobs.services import runs

        self.log = logging.getLogger("cronhub.scheduler")
        self.answers = answers
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self.stop = threading.Event()  # set when the leader is gone or it is asked to stop
        metrics.DISPATCH_LATENESS = _Relay(self)
        metrics.EXECUTIONS = _Relay(self)
        self.claimer = runs.claimer_id(runs.new_leadership_token())
        # No ``stop`` for its writer: what it claimed is recorded however long the database is away.
        self.dispatcher = Dispatcher(grace_seconds=settings.SCHEDULER_MISFIRE_GRACE_SECONDS, due=DueJobs(),
                                     claimer=self.claimer)
        # What it will not run (not a plain webhook fire; not claimed when it stopped) goes back
        # to the leader, whose pool runs it (or whose successor catches it up).
        self.pipeline = BurstPipeline(self.dispatcher,
                                      fallback=lambda fire, _job: self.events.put(("pool", fire.seq)),
                                      on_drop=lambda fire: self.events.put(("pool", fire.seq)))
        self.drain_seconds = float(settings.OUTBOUND_TOTAL_TIMEOUT) + 60.0
        self._writer = threading.Thread(target=self._write_loop, name="dispatch-answers", daemon=True)

    def run(self, commands) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop_taking)
        self._writer.start()
        self._answer({"hello": self.claimer})  # the leader logs it ready
        try:
            self._read(commands)
        except (OSError, ValueError):  # standard input closed by the signal handler
            if not self.stop.is_set():
                raise
        if self.stop.is_set():
            self.log.info("dispatch process stopping: finishing what it has claimed")
        self._finish()

    def _read(self, commands) -> None:
        import orjson

        for line in commands:
            if self.stop.is_set():
                return
            try:
                fires = orjson.loads(line)["fires"]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                self.log.error("dispatch process: not a command: %r", line[:200])
                continue
            for seq, job_id, at in fires:
                self._take(seq, job_id, dt.datetime.fromisoformat(at))

    def _take(self, seq: int, job_id: str, fire_time: dt.datetime) -> None:
        def done():
            self.events.put(("settled", seq))

        if not self.pipeline.submit(job_id, [fire_time], done=done, seq=seq):
            self.events.put(("pool", seq))  # stopping: not claimed here, back to the leader

    def _stop_taking(self, _signum, _frame) -> None:
        """SIGTERM/SIGINT: take nothing new. Closing standard input ends the read loop at its
        next read (a read under way fails once the handler returns), never in the middle of
        handing a fire to the pipeline."""
        for signum in (signal.SIGTERM, signal.SIGINT):  # once is enough: let the drain finish
            signal.signal(signum, signal.SIG_IGN)
        self.stop.set()
        try:
            os.close(0)
        except OSError:
            pass

    def _finish(self) -> None:
        drained = self.pipeline.drain(self.drain_seconds)
        self.pipeline.close()
        self.events.put(None)
        self._writer.join(timeout=10)
        if not drained:
            self.log.error("dispatch process stopping with calls still unanswered: "
                           "the leader recovers their runs")
        try:
            self.answers.close()
        except OSError:  # the leader is gone
            pass
        logging.shutdown()
        os._exit(0 if drained else 1)

    # --- answers ---------------------------------------------------------------------------------
    def _answer(self, message: dict) -> None:
        import orjson

        self.answers.write(orjson.dumps(message) + b"\n")
        self.answers.flush()

    def _write_loop(self) -> None:
        ending = False
        while not ending:
            items = [self.events.get()]
            while True:
                try:
                    items.append(self.events.get_nowait())
                except queue.Empty:
                    break
            message: dict = {"settled": [], "pool": [], "executions": collections.Counter(), "lateness": []}
            for item in items:
                if item is None:
                    ending = True
                    continue
                kind, value = item
                if kind == "executions":
                    message["executions"][str(value[0])] += value[1]
                else:
                    message[kind].append(value)
            try:
                self._answer({key: value for key, value in message.items() if value})
            except (BrokenPipeError, OSError):  # the leader is gone; its successor recovers the rows
                self.stop.set()
                return


if __name__ == "__main__":
    main()
