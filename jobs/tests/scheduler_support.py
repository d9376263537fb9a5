"""Helpers for the scheduler tests (in-process and multi-process)."""

from __future__ import annotations

import copy
import datetime as dt
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

from django.db import connections


def wait_until(predicate, *, timeout: float, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 (port 0) that records every call: (path, arrival time)."""

    def __init__(self, *, delay_seconds: float = 0.0):
        self.calls: list[tuple[str, float]] = []
        self.delay_seconds = delay_seconds
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                receiver.calls.append((self.path, time.time()))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if receiver.delay_seconds:
                    time.sleep(receiver.delay_seconds)
                body = b"ok"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/{path.lstrip('/')}"

    def paths(self) -> list[str]:
        return [path for path, _ in self.calls]


# --- multi-process harness ------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
SHARED_ALIAS = "scheduler_shared"
_sqlite_template: Path | None = None


@dataclass
class SharedDatabase:
    """A database the test and the scheduler subprocesses both use."""

    alias: str
    url: str
    vendor: str


def _url_for(settings_dict) -> str:
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    scheme = "postgres" if "postgresql" in engine else "mysql"
    user = quote(settings_dict.get("USER") or "")
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{quote(password)}@" if password else (f"{user}@" if user else "")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"{scheme}://{auth}{settings_dict.get('HOST') or '127.0.0.1'}{port}/{settings_dict['NAME']}"


def _add_sqlite_alias(alias: str, path: Path) -> None:
    config = copy.deepcopy(connections["default"].settings_dict)
    config["NAME"] = str(path)
    config["TEST"] = {"NAME": str(path)}
    connections.settings[alias] = config


def _drop_alias(alias: str) -> None:
    connections[alias].close()
    del connections[alias]
    del connections.settings[alias]


def shared_database(request, tmp_path, django_db_blocker):
    """Generator for a fixture: SQLite → a migrated temporary file (the test database
    pytest-django makes for SQLite lives in memory, out of reach of other processes);
    PostgreSQL/MySQL → the test database itself, with committed data: the test must be
    marked ``django_db(transaction=True)``."""
    global _sqlite_template
    vendor = connections["default"].vendor
    if vendor != "sqlite":
        yield SharedDatabase("default", _url_for(connections["default"].settings_dict), vendor)
        return
    with django_db_blocker.unblock():
        if _sqlite_template is None:
            folder = request.getfixturevalue("tmp_path_factory").mktemp("scheduler-template")
            template = Path(folder) / "template.sqlite3"
            # In a subprocess: some third-party data migrations ignore `migrate --database`.
            env = {**os.environ, "DATABASE_URL": f"sqlite:///{template}", "TESTING": "true"}
            subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                           cwd=ROOT, env=env, check=True)
            _sqlite_template = template
        path = tmp_path / "shared.sqlite3"
        shutil.copy(_sqlite_template, path)
        _add_sqlite_alias(SHARED_ALIAS, path)
        try:
            yield SharedDatabase(SHARED_ALIAS, f"sqlite:///{path}", vendor)
        finally:
            _drop_alias(SHARED_ALIAS)


class Clock:
    """The shifted clock every scheduler process of one test shares (jobs/tests/clocked_scheduler.py):
    the next minute boundary (``fire_at``) is ``lead`` seconds away in real time."""

    def __init__(self, lead: float):
        real = time.time()
        boundary = math.ceil((real + lead) / 60) * 60
        self.offset = boundary - lead - real
        self.fire_at = dt.datetime.fromtimestamp(boundary, dt.UTC)

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(time.time() + self.offset, dt.UTC)

    def seconds_until(self, moment: dt.datetime) -> float:
        return moment.timestamp() - (time.time() + self.offset)

    def sleep_until(self, moment: dt.datetime) -> None:
        remaining = self.seconds_until(moment)
        if remaining > 0:
            time.sleep(remaining)


class SchedulerProcess:
    """``manage.py runscheduler`` on ``clock`` (through jobs/tests/clocked_scheduler.py)."""

    def __init__(self, clock: Clock, env: dict, log_path: Path):
        self.log_path = log_path
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "jobs.tests.clocked_scheduler", f"{clock.offset:.6f}"], cwd=ROOT, env=env,
            stdout=self._log, stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def terminate(self, timeout: float = 30) -> int:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=timeout)
        finally:
            self._log.close()

    def kill(self) -> None:
        if self.alive():
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)
        self._log.close()


def scheduler_processes(tmp_path: Path, db: SharedDatabase):
    """Generator for a fixture: ``start(clock=..., **env)`` launches ``manage.py runscheduler``; all are
    stopped at the end, and their logs are printed (pytest shows them when a test fails)."""
    started: list[SchedulerProcess] = []

    def start(*, clock: Clock, **overrides) -> SchedulerProcess:
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": db.url,
            "TESTING": "true",
            "CRONHUB_READ_DOT_ENV": "false",
            "SCHEDULER_LOCK_PATH": str(tmp_path / "scheduler.lock"),
            "SCHEDULER_HEARTBEAT_SECONDS": "1",
            "SCHEDULER_SHUTDOWN_GRACE_SECONDS": "10",
            "PYTHONUNBUFFERED": "1",
        })
        env.pop("TEST_DATABASE_NAME", None)
        env.update({key: str(value) for key, value in overrides.items()})
        process = SchedulerProcess(clock, env, tmp_path / f"scheduler-{len(started) + 1}.log")
        started.append(process)
        return process

    yield start
    for process in started:
        if process.alive():
            process.kill()
    for index, process in enumerate(started, 1):
        print(f"----- scheduler {index} (pid {process.pid}) -----\n{process.log()}")
