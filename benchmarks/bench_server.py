"""What the API benchmarks share: a fresh database, a child process with Django set up, and
gunicorn on a free 127.0.0.1 port (its socket bound here and handed over, so no port race).

Imported by ``api_jobs.py`` and ``api_load.py`` (run as scripts from the repository root, so
this directory is on ``sys.path``); the scheduler benchmarks take ``python_speed_ms`` from here.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
SECRET_KEY = "bench-only-secret-0123456789abcdef0123456789"


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def reset_postgres(url: str) -> None:
    """Drop and re-create the database named in the URL."""
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def bench_env(url: str, tmp: str, **extra: str) -> dict[str, str]:
    """The web app's environment for a benchmark: production settings, no .env, the given database."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        "DEBUG": "false",
        "TESTING": "false",
        "CRONHUB_READ_DOT_ENV": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "warning",
        "SCHEDULER_LOCK_PATH": f"{tmp}/scheduler.lock",
        **extra,
    }


def child_env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "DJANGO_SETTINGS_MODULE": "cronhub.settings", "PYTHONPATH": str(ROOT)}


def fresh_database(url: str, env: dict[str, str]) -> None:
    """Re-create a PostgreSQL database (a SQLite file starts empty) and migrate it."""
    if is_postgres(url):
        reset_postgres(url)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)


def run_child(script: str, args: list[str], env: dict[str, str]) -> str:
    """Run ``script args`` with Django's settings named; its last line of output."""
    return (
        subprocess.run(
            [PYTHON, script, *args],
            cwd=ROOT,
            env=child_env(env),
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str], *, args: list[str], stdout=None, stderr=None, probe: str = "/api/v2/scheduler/status"
) -> Iterator[int]:
    """``gunicorn cronhub.wsgi ARGS`` bound to a free 127.0.0.1 port; yields the port once it answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "cronhub.wsgi", *args, "--bind", f"fd://{listener.fileno()}"],
        cwd=ROOT,
        env=env,
        pass_fds=[listener.fileno()],
        stdout=stdout,
        stderr=stderr,
    )
    try:
        wait_until_up(port, probe)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=60)
        listener.close()


def wait_until_up(port: int, probe: str = "/api/v2/scheduler/status") -> None:
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}{probe}", timeout=10)  # 401 without a token: no query
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start within 60 s")


def python_speed_ms(rounds: int = 5) -> float:
    """This machine's speed at plain Python right now: the median time of a fixed loop (ms).

    The development machine is shared hardware: its speed moves from hour to hour and even
    from second to second (on 2026-12-03, idle, ten readings a second apart gave 38–71 ms).
    Each benchmark prints this beside its figures, so figures taken at very different speeds
    are not compared as if the code had changed; a single reading is a hint, not a gauge."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        total = 0
        for number in range(1_000_000):
            total += number
        times.append((time.perf_counter() - started) * 1000)
    return round(sorted(times)[rounds // 2], 1)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]
