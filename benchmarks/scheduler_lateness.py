"""Scheduler benchmark: dispatch lateness, edit→effect delay and memory of ``runscheduler``.

    .venv/bin/python benchmarks/scheduler_lateness.py                      # SQLite, N = 1,000 and 10,000
    .venv/bin/python benchmarks/scheduler_lateness.py --database postgres  # needs a local PostgreSQL
    .venv/bin/python benchmarks/scheduler_lateness.py --sizes 1000 --scenarios burst

Each configuration runs in a fresh database (a temporary SQLite file, or the
PostgreSQL database ``cronhub_bench``, dropped and re-created) with N webhook
jobs pointing at a local HTTP receiver, and one real ``manage.py runscheduler``
process. Lateness = when the webhook call reaches the receiver minus the fire
time it belongs to (so it includes claiming the row and opening the HTTP call).

- burst: N every-minute jobs, all due in the same second.
- spread: N jobs spread over the hour (job i fires at minute i mod 60, so N/60
  are due at each minute); two consecutive minutes are measured. Cron has minute
  resolution, so this is as spread as cron jobs get.
- edit: while N jobs are scheduled, a job's cron is edited in the database (as
  the API or the admin does) and the time until the scheduler has replaced the
  entry is measured (5 edits).
- RSS: the scheduler's resident memory once N jobs are loaded, and its peak.

The scheduler runs on a shifted clock (started through the test-only
``jobs.tests.clocked_scheduler``) so the next minute boundary is a few seconds
away; everything else is the production path.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/cronhub_bench")


# --- the parent: loops over configurations, prints a table -------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgres"), action="append")
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--scenarios", default="burst,spread")
    parser.add_argument("--workers", type=int, default=10, help="SCHEDULER_MAX_WORKERS")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        database, size, scenario = args.one.split(":")
        print(json.dumps(run_one(database, int(size), scenario, args.workers)))
        return
    results = []
    for database in args.database or ["sqlite"]:
        for size in [int(s) for s in args.sizes.split(",")]:
            for scenario in args.scenarios.split(","):
                print(f"... {database} N={size} {scenario}", file=sys.stderr, flush=True)
                out = subprocess.run(
                    [sys.executable, __file__, "--one", f"{database}:{size}:{scenario}", "--workers",
                     str(args.workers)], cwd=ROOT, capture_output=True, text=True,
                )
                if out.returncode != 0:
                    print(out.stderr[-3000:], file=sys.stderr)
                    continue
                result = json.loads(out.stdout.strip().splitlines()[-1])
                results.append(result)
                print(json.dumps(result), file=sys.stderr, flush=True)
    print("\n| database | N | scenario | runs seen | p50 s | p95 s | p99 s | max s | edit→effect s (p50/max) "
          "| RSS loaded / peak MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        edit = f"{r['edit_p50']:.2f} / {r['edit_max']:.2f}" if r.get("edit_p50") is not None else "—"
        print(f"| {r['database']} | {r['size']:,} | {r['scenario']} | {r['received']}/{r['expected']} | "
              f"{r['p50']:.3f} | {r['p95']:.3f} | {r['p99']:.3f} | {r['max']:.3f} | {edit} | "
              f"{r['rss_loaded_mb']:.0f} / {r['rss_peak_mb']:.0f} |")


# --- one configuration, in its own process (Django is set up once per database) ---------------------
class Receiver:
    def __init__(self):
        self.arrivals: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                arrived = time.time()
                with receiver.lock:
                    receiver.arrivals.setdefault(self.path, []).append(arrived)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.server = serve(Handler)

    def count(self) -> int:
        with self.lock:
            return sum(len(v) for v in self.arrivals.values())


def serve(handler) -> ThreadingHTTPServer:
    """A threaded HTTP server for ``handler`` on 127.0.0.1:<free port>, serving in the background;
    its queue is deep enough for a burst of thousands of calls."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.request_queue_size = 1024
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def prepare_database(database: str, workdir: Path, *, postgres_url: str = POSTGRES_URL) -> str:
    """A migrated, empty database: a SQLite file in ``workdir``, or ``postgres_url`` re-created."""
    if database == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    else:
        import psycopg

        url = postgres_url
        name = url.rsplit("/", 1)[1]
        admin = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "TESTING": "true", "CRONHUB_READ_DOT_ENV": "false"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                   cwd=ROOT, env=env, check=True)
    return url


def rss_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def run_one(database: str, size: int, scenario: str, workers: int) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="cronhub-bench-"))
    try:
        return _run_one(database, size, scenario, workers, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run_one(database: str, size: int, scenario: str, workers: int, workdir: Path) -> dict:
    url = prepare_database(database, workdir)
    os.environ.update({"DATABASE_URL": url, "TESTING": "true", "CRONHUB_READ_DOT_ENV": "false",
                       "DJANGO_SETTINGS_MODULE": "cronhub.settings"})
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from jobs.models import Job

    receiver = Receiver()
    port = receiver.server.server_port
    lead = 15 + size / 1000  # time to start and load the jobs before the first fire time
    real = time.time()
    boundary = math.ceil((real + lead) / 60) * 60
    offset = boundary - lead - real
    fire_at = dt.datetime.fromtimestamp(boundary, dt.UTC)
    first_minute = fire_at.minute

    end = dt.date.today() + dt.timedelta(days=30)
    if scenario == "burst":
        crons = ["* * * * *"] * size
        due = {boundary: size}
    else:
        crons = [f"{(first_minute + i % 60) % 60} * * * *" for i in range(size)]
        due = {boundary: sum(1 for i in range(size) if i % 60 == 0),
               boundary + 60: sum(1 for i in range(size) if i % 60 == 1)}
    Job.objects.bulk_create(
        [Job(name=f"bench {i}", cron_expression=crons[i], timezone="UTC",
             target_url=f"http://127.0.0.1:{port}/{i}", end_date=end) for i in range(size)],
        batch_size=1000,
    )
    log_path = workdir / "scheduler.log"
    env = {**os.environ, "SCHEDULER_MAX_WORKERS": str(workers), "SCHEDULER_LOCK_PATH": str(workdir / "lock"),
           "SCHEDULER_HEARTBEAT_SECONDS": "5", "PYTHONUNBUFFERED": "1"}
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "jobs.tests.clocked_scheduler", f"{offset:.6f}"],
                                   cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + lead + 30
        while "firing" not in log_path.read_text() and time.time() < deadline:
            time.sleep(0.1)
        if "firing" not in log_path.read_text():
            raise SystemExit(f"scheduler did not start:\n{log_path.read_text()[-3000:]}")
        rss_loaded = rss_mb(process.pid, "VmRSS")

        edit_delays = []
        if scenario == "spread":
            edit_delays = measure_edits(Job, log_path, fire_at)

        expected = sum(due.values())
        last_due = max(due)
        give_up = last_due - offset + 300
        while receiver.count() < expected and time.time() < give_up:
            time.sleep(0.2)
        time.sleep(1)
        rss_peak = rss_mb(process.pid, "VmHWM")
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()

    lateness = []
    for path, arrivals in receiver.arrivals.items():
        index = int(path.strip("/"))
        slot = boundary if scenario == "burst" or index % 60 == 0 else boundary + 60
        lateness.extend(arrived + offset - slot for arrived in arrivals)
    log_text = log_path.read_text()
    return {
        "database": database, "size": size, "scenario": scenario, "workers": workers,
        "expected": expected, "received": len(lateness),
        "missed_logged": log_text.count("outcome=missed"),
        "p50": percentile(lateness, 0.50), "p95": percentile(lateness, 0.95),
        "p99": percentile(lateness, 0.99), "max": max(lateness) if lateness else float("nan"),
        "edit_p50": statistics.median(edit_delays) if edit_delays else None,
        "edit_max": max(edit_delays) if edit_delays else None,
        "rss_loaded_mb": rss_loaded, "rss_peak_mb": rss_peak,
    }


def measure_edits(Job, log_path: Path, fire_at: dt.datetime, count: int = 5) -> list[float]:  # noqa: N803
    """Edit a job's cron and time how long until the scheduler logs that it replaced the entry."""
    delays = []
    jobs = list(Job.objects.filter(name__in=[f"bench {i}" for i in range(30, 30 + count)]))
    for n, job in enumerate(jobs):
        seen = log_path.read_text().count("~1 replaced")
        job.cron_expression = f"{(fire_at.minute + 30 + n) % 60} {(fire_at.hour + 2) % 24} * * *"
        edited = time.time()
        job.save()
        while log_path.read_text().count("~1 replaced") <= seen:
            if time.time() - edited > 30:
                break
            time.sleep(0.02)
        delays.append(time.time() - edited)
        time.sleep(0.5)
    return delays


if __name__ == "__main__":
    main()
