"""Dispatch processes: the leader shares a burst's webhook fires with ``SCHEDULER_DISPATCH_PROCESSES`` more.

One process sends a burst at about one core's pace (claim, call, record: well under a
millisecond of Python per run, but 10,000 runs are still seconds of one core). The leader
keeps deciding *when* (the timer, the catch-ups, the overlap and recovery rules); the burst
pipeline (``jobs.scheduler.pipeline``) hands an even share of each large batch of plain
webhook fires to each dispatch process and works on its own share meanwhile.

A dispatch process (``jobs.scheduler.dispatch_worker``) runs the same ``BurstPipeline``
under a claimer name of its own: it claims its share in the database (the unique
(job, fire time) row still decides who has a fire time), sends, records and announces
exactly as the leader would, and reports each fire back when it is settled, or hands it
back when it is not a plain webhook fire after all (a GitHub job, a paused job, a run still
going): the leader's dispatch pool takes those, as it takes its own.

The protocol is one JSON object a line: the leader writes ``{"fires": [[seq, job id, fire
time], …]}`` to the process's standard input; the process answers ``{"hello": claimer}`` once
ready, then ``{"settled": [seq…], "pool": [seq…], "executions": {status: n}, "lateness":
[s…]}`` as fires end (its metrics are counted in the leader, where they are served).

When a dispatch process dies, whatever it had claimed and not finished is recovered by the
leader right away under the rules of a run left ``running`` (``runs.execution_recover``:
unsent and within the misfire grace → sent; sent → sent again once with the same
idempotency key), and the fires it had not claimed go to the leader's pool (a fire time
claimed meanwhile is not run twice: the claim row holds it). The leader starts a new
process in its place at the next burst. When the leader goes (stops, steps down or is
killed), each process's standard input closes: it takes nothing new, finishes and records
the calls it has claimed, and exits.
"""

from __future__ import annotations

import itertools
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import orjson
from django.conf import settings

from jobs.scheduler import metrics

log = logging.getLogger("cronhub.scheduler")

# What starts a dispatch process (a list, so a test harness can start it its own way).
WORKER_COMMAND = [sys.executable, "-m", "jobs.scheduler.dispatch_worker"]
RESTART_AFTER_SECONDS = 10.0  # a process that died is started again at a burst after this long
STOP_SECONDS = 5.0  # after its standard input closes and its work is done, a process must be gone by then


class Worker:
    """The leader's side of one dispatch process."""

    def __init__(self, index: int, *, on_message: Callable, on_exit: Callable):
        self.index = index
        self.claimer: str | None = None  # its claimer name, known once it says hello
        self._on_message = on_message
        self._on_exit = on_exit
        self._write_lock = threading.Lock()
        self.gone = False
        self.reclaimed = False  # its unsettled fires were taken back (the pipeline, under its lock)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(settings.BASE_DIR), env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            list(WORKER_COMMAND), stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=settings.BASE_DIR,
            env=env)
        self._reader = threading.Thread(target=self._read, name=f"dispatch-worker-{index}", daemon=True)
        self._reader.start()

    @property
    def ready(self) -> bool:
        return self.claimer is not None and not self.gone

    def send(self, fires: list[tuple[int, str, str]]) -> bool:
        """Hand over ``(seq, job id, fire time)`` fires; False if the process is gone."""
        line = orjson.dumps({"fires": fires}) + b"\n"
        with self._write_lock:
            try:
                self.process.stdin.write(line)
                self.process.stdin.flush()
                return True
            except (BrokenPipeError, OSError, ValueError):
                return False

    def close(self) -> None:
        """Close its standard input: it finishes what it claimed and exits."""
        with self._write_lock:
            try:
                self.process.stdin.close()
            except (BrokenPipeError, OSError):
                pass

    def wait(self, timeout: float) -> None:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.error("dispatch process %d (pid %d) did not stop within %.0f s; killing it",
                      self.index, self.process.pid, timeout)
            self.process.kill()
            self.process.wait()

    def _read(self) -> None:
        try:
            for line in self.process.stdout:
                try:
                    message = orjson.loads(line)
                except orjson.JSONDecodeError:
                    log.error("dispatch process %d wrote a line that is not a message: %r",
                              self.index, line[:200])
                    continue
                if "hello" in message:
                    self.claimer = message["hello"]
                    metrics.DISPATCH_PROCESSES.inc()
                    log.info("dispatch process ready: #%d (pid %d, claimer %s)", self.index, self.process.pid,
                             self.claimer)
                    continue
                try:
                    self._on_message(self, message)
                except Exception:  # a bug here must not stop reading: the fires would never settle
                    log.exception("dispatch process %d: handling its answer failed", self.index)
        finally:
            self.gone = True
            if self.claimer is not None:
                metrics.DISPATCH_PROCESSES.dec()
            self.wait(STOP_SECONDS)
            self._on_exit(self)


class DispatchWorkers:
    """The leader's dispatch processes: started with the pipeline, each used once it is ready."""

    def __init__(self, count: int, *, on_message: Callable, on_exit: Callable):
        self._on_message = on_message
        self._on_exit = on_exit
        self._lock = threading.Lock()
        self._workers: list[Worker | None] = [None] * count
        self._started_at = [0.0] * count
        self._closed = False
        self._seq = itertools.count(1)
        for index in range(count):
            self._start(index)

    @property
    def closed(self) -> bool:
        return self._closed

    def next_seq(self) -> int:
        return next(self._seq)

    def _start(self, index: int) -> None:
        self._started_at[index] = time.monotonic()
        try:
            self._workers[index] = Worker(index, on_message=self._on_message, on_exit=self._exited)
        except OSError:
            log.exception("could not start dispatch process %d; the leader sends its share itself", index)

    def _exited(self, worker: Worker) -> None:
        if not self._closed:
            metrics.DISPATCH_PROCESS_EXITS.inc()
            log.error("dispatch process %d (pid %d) exited with %s; recovering what it had taken",
                      worker.index, worker.process.pid, worker.process.returncode)
        self._on_exit(worker)

    def ready(self) -> list[Worker]:
        """The processes that can take fires now (one that died is started again, after a pause)."""
        with self._lock:
            if self._closed:
                return []
            for index, worker in enumerate(self._workers):
                if ((worker is None or worker.gone)
                        and time.monotonic() - self._started_at[index] >= RESTART_AFTER_SECONDS):
                    self._start(index)
            return [worker for worker in self._workers if worker is not None and worker.ready]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = [worker for worker in self._workers if worker is not None]
        for worker in workers:
            worker.close()
        for worker in workers:
            worker.wait(float(settings.OUTBOUND_TOTAL_TIMEOUT) + 60.0)
