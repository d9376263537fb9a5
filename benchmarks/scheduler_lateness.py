"""Scheduler benchmark: dispatch lateness, edit→effect delay and memory of ``runscheduler``.

    .venv/bin/python benchmarks/scheduler_lateness.py                      # SQLite, N = 1,000 and 10,000
    .venv/bin/python benchmarks/scheduler_lateness.py --database postgres  # needs a local PostgreSQL
    .venv/bin/python benchmarks/scheduler_lateness.py --database mariadb   # needs a local MariaDB/MySQL
    .venv/bin/python benchmarks/scheduler_lateness.py --sizes 1000 --scenarios burst
    .venv/bin/python benchmarks/scheduler_lateness.py --sizes 10000 --scenarios burst --repeat 3  # + medians

Each configuration runs in a fresh database (a temporary SQLite file, or the
PostgreSQL or MariaDB database ``cronhub_bench``, dropped and re-created) with N webhook
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
- ``--dispatch-processes N``: the leader shares its bursts with N dispatch processes
  (``SCHEDULER_DISPATCH_PROCESSES``); CPU per run is then the leader's and theirs together
  (``leader_cpu_ms_per_run`` in the JSON is the leader's alone), and their peak RSS is
  reported apart. ``receiver_cpu_s`` is the CPU this process (the receiver) used meanwhile.
- ``--users N``: N active users who keep the default run-notification choice (told of every
  run in the app, N notification rows a run, as a team of N is); the measured CPU then runs
  until every run is also announced. Without it nobody is told (the scheduler's own cost).
- ``load`` and ``Python loop ms`` (``bench_server.python_speed_ms``) are taken before each
  configuration: this machine's speed moves between runs, so compare like with like, and
  ``--repeat N`` gives each configuration N runs, interleaved, and their medians.

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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_server import python_speed_ms  # noqa: E402 - this directory first

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/cronhub_bench")
MARIADB_URL = os.environ.get("BENCH_MARIADB_URL", "mysql://root@127.0.0.1:3306/cronhub_bench")
DATABASES = ("sqlite", "postgres", "mariadb")
# The database server's processes, by the name the kernel gives them (their CPU is the server's side).
SERVER_PROCESSES = {"postgres": ("postgres",), "mariadb": ("mariadbd", "mysqld")}


# --- the parent: loops over configurations, prints a table -------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=DATABASES, action="append")
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--scenarios", default="burst,spread", help="burst, spread, idle (comma-separated)")
    parser.add_argument("--workers", type=int, default=10, help="SCHEDULER_MAX_WORKERS")
    parser.add_argument("--keep-alive", action="store_true",
                        help="the receiver keeps connections open (HTTP/1.1) instead of closing each")
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--dispatch-processes", type=int, default=0,
                        help="SCHEDULER_DISPATCH_PROCESSES: dispatch processes the leader shares bursts with")
    parser.add_argument("--users", type=int, default=0, help="active users told of every run")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run every configuration this many times (interleaved) and print the medians")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    options = {"keep_alive": args.keep_alive, "idle_seconds": args.idle_seconds,
               "dispatch_processes": args.dispatch_processes, "users": args.users}
    if args.one:
        database, size, scenario = args.one.split(":")
        print(json.dumps(run_one(database, int(size), scenario, args.workers, **options)))
        return
    results = []
    configurations = [(database, size, scenario) for database in args.database or ["sqlite"]
                      for size in [int(s) for s in args.sizes.split(",")]
                      for scenario in args.scenarios.split(",")]
    for repetition in range(1, args.repeat + 1):  # each round runs every configuration once (interleaved)
        for database, size, scenario in configurations:
            print(f"... {database} N={size} {scenario} run {repetition}/{args.repeat} "
                  f"(load {os.getloadavg()[0]:.2f})", file=sys.stderr, flush=True)
            command = [sys.executable, __file__, "--one", f"{database}:{size}:{scenario}", "--workers",
                       str(args.workers), "--idle-seconds", str(args.idle_seconds),
                       "--dispatch-processes", str(args.dispatch_processes), "--users", str(args.users)]
            if args.keep_alive:
                command.append("--keep-alive")
            load_before, speed = os.getloadavg()[0], python_speed_ms()
            out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            if out.returncode != 0:
                print(out.stderr[-3000:], file=sys.stderr)
                continue
            result = json.loads(out.stdout.strip().splitlines()[-1])
            result["load_before"], result["load_after"] = load_before, os.getloadavg()[0]
            result["python_loop_ms"] = speed
            results.append(result)
            print(json.dumps(result), file=sys.stderr, flush=True)
    print("\n| database | N | scenario | users | dispatch processes | calls / distinct keys / expected "
          "| p50 s | p99 s | max s | CPU ms/run | start→firing s | edit→effect s (p50/max) | idle CPU s/min "
          "| RSS loaded / peak MB | load | Python loop ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        edit = f"{r['edit_p50']:.2f} / {r['edit_max']:.2f}" if r.get("edit_p50") is not None else "—"
        if r["scenario"] == "idle":
            timing = "— | — | — | — | —"
            idle = f"{r['idle_cpu_s_per_min']:.2f}"
        else:
            timing = (f"{r['calls']} / {r['distinct_keys']} / {r['expected']} | {r['p50']:.3f} "
                      f"| {r['p99']:.3f} | {r['max']:.3f} | {r['cpu_ms_per_run']:.2f}")
            idle = "—"
        print(f"| {r['database']} | {r['size']:,} | {r['scenario']} | {r['users']} "
              f"| {r['dispatch_processes']} | {timing} "
              f"| {r['start_to_firing_s']:.1f} "
              f"| {edit} | {idle} | {r['rss_loaded_mb']:.0f} / {r['rss_peak_mb']:.0f} "
              f"| {r['load_before']:.1f}→{r['load_after']:.1f} | {r['python_loop_ms']:.0f} |")
    if args.repeat > 1:
        print_medians(results, configurations)


def print_medians(results: list[dict], configurations) -> None:
    """Each configuration's runs side by side and their median: this machine's speed moves
    between runs, so a figure is a range of runs, not one."""
    print("\n| database | N | scenario | runs | p99 s (each run) | median p99 s | median CPU ms/run "
          "| idle CPU s/min (each run) |")
    print("|---|---|---|---|---|---|---|---|")
    for database, size, scenario in configurations:
        runs = [r for r in results if (r["database"], r["size"], r["scenario"]) == (database, size, scenario)]
        if not runs:
            continue
        if scenario == "idle":
            timing = "— | — | —"
            idle = ", ".join(f"{r['idle_cpu_s_per_min']:.2f}" for r in runs)
        else:
            timing = (", ".join(f"{r['p99']:.2f}" for r in runs)
                      + f" | {statistics.median(r['p99'] for r in runs):.2f}"
                      + f" | {statistics.median(r['cpu_ms_per_run'] for r in runs):.2f}")
            idle = "—"
        print(f"| {database} | {size:,} | {scenario} | {len(runs)} | {timing} | {idle} |")


# --- one configuration, in its own process (Django is set up once per database) ---------------------
class Receiver:
    """Records every call: its Idempotency-Key, the fire time it names, when it arrived.

    ``keep_alive``: answer HTTP/1.1 and keep connections open (as most web servers do);
    off (the default) it answers HTTP/1.0 and closes every connection, so each call pays
    a new TCP connection.
    """

    def __init__(self, *, keep_alive: bool = False):
        self.calls: list[tuple[str | None, str | None, str, float]] = []  # key, fire time, path, at
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_GET(self):  # noqa: N802 - http.server's naming
                arrived = time.time()
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                call = (self.headers.get("Idempotency-Key"), self.headers.get("X-Cronhub-Scheduled-For"),
                        self.path, arrived)
                with receiver.lock:
                    receiver.calls.append(call)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.server = serve(Handler)

    @property
    def port(self) -> int:
        return self.server.server_port

    def count(self) -> int:
        with self.lock:
            return len({key for key, *_ in self.calls})

    def snapshot(self) -> list:
        with self.lock:
            return list(self.calls)


class _DeepQueueServer(ThreadingHTTPServer):
    # The listen() backlog, which the constructor passes to the socket: a class attribute, set
    # before listening (the default of 5 drops the SYNs of a burst, and each dropped SYN
    # comes back 1, 3, 7, 15 or 31 s later: lateness that is the receiver's, not cronhub's).
    request_queue_size = 4096
    daemon_threads = True


def serve(handler) -> ThreadingHTTPServer:
    """A threaded HTTP server for ``handler`` on 127.0.0.1:<free port>, serving in the background;
    its queue is deep enough for a burst of thousands of calls."""
    server = _DeepQueueServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def prepare_database(database: str, workdir: Path, *, postgres_url: str = POSTGRES_URL) -> str:
    """A migrated, empty database: a SQLite file in ``workdir``, or ``postgres_url`` /
    ``MARIADB_URL`` re-created."""
    if database == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    elif database == "mariadb":
        import pymysql

        url = MARIADB_URL
        rest, name = url.rsplit("/", 1)
        credentials, _at, address = rest.split("://", 1)[1].rpartition("@")
        host, _colon, port = address.partition(":")
        user, _colon, password = credentials.partition(":")
        conn = pymysql.connect(host=host, port=int(port or 3306), user=user or "root", password=password)
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        conn.close()
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


def run_one(database: str, size: int, scenario: str, workers: int, **options) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="cronhub-bench-"))
    try:
        return _run_one(database, size, scenario, workers, workdir, **options)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _stats(pid: int) -> dict[int, list[str]]:
    """``/proc/<pid>/stat`` fields (after the name) of the process and of its child processes."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            found[int(stat.parent.name)] = fields
    return found


def cpu_seconds(pid: int, *, leader_only: bool = False) -> float:
    """User + system CPU time the process and its child processes (dispatch processes) have used so far."""
    ticks = sum(int(fields[11]) + int(fields[12]) for child, fields in _stats(pid).items()
                if child == pid or not leader_only)
    return ticks / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(database: str) -> float | None:
    """CPU time the database server's processes on this machine have used so far (PostgreSQL:
    with that of the backends already ended, their parent's reaped-children times); None for
    SQLite, which runs in the client. Compared before and after a measurement on an otherwise
    idle server."""
    names = SERVER_PROCESSES.get(database)
    if names is None:
        return None
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
        except OSError:  # ended meanwhile
            continue
        if head.split("(", 1)[1] in names:
            fields = tail.split()
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def children_peak_rss_mb(pid: int) -> float:
    return sum(rss_mb(child, "VmHWM") for child in _stats(pid) if child != pid)


def _run_one(database: str, size: int, scenario: str, workers: int, workdir: Path, *,
             keep_alive: bool = False, idle_seconds: float = 60.0, dispatch_processes: int = 0,
             users: int = 0) -> dict:
    url = prepare_database(database, workdir)
    os.environ.update({"DATABASE_URL": url, "TESTING": "true", "CRONHUB_READ_DOT_ENV": "false",
                       "DJANGO_SETTINGS_MODULE": "cronhub.settings"})
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from jobs.models import Job, JobExecution
    from notifications.models import Notification

    receiver = Receiver(keep_alive=keep_alive)
    port = receiver.port
    lead = 15 + size / 1000  # time to start and load the jobs before the first fire time
    real = time.time()
    boundary = math.ceil((real + lead) / 60) * 60
    offset = boundary - lead - real
    fire_at = dt.datetime.fromtimestamp(boundary, dt.UTC)
    first_minute = fire_at.minute

    end = dt.date.today() + dt.timedelta(days=30)
    if scenario == "burst":  # all due at the boundary, and not again for a day
        crons = [f"{fire_at.minute} {fire_at.hour} * * *"] * size
        due = {boundary: size}
    elif scenario == "spread":
        crons = [f"{(first_minute + i % 60) % 60} * * * *" for i in range(size)]
        due = {boundary: sum(1 for i in range(size) if i % 60 == 0),
               boundary + 60: sum(1 for i in range(size) if i % 60 == 1)}
    else:  # idle: scheduled, nothing due while measured
        far = fire_at + dt.timedelta(hours=12)
        crons = [f"{far.minute} {far.hour} * * *"] * size
        due = {}
    get_user_model().objects.bulk_create([
        get_user_model()(username=f"member{i}", email=f"member{i}@example.com", is_active=True)
        for i in range(users)])
    Job.objects.bulk_create(
        [Job(name=f"bench {i}", cron_expression=crons[i], timezone="UTC",
             target_url=f"http://127.0.0.1:{port}/{i}", end_date=end) for i in range(size)],
        batch_size=1000,
    )
    log_path = workdir / "scheduler.log"
    env = {**os.environ, "SCHEDULER_MAX_WORKERS": str(workers), "SCHEDULER_LOCK_PATH": str(workdir / "lock"),
           "SCHEDULER_HEARTBEAT_SECONDS": "5", "PYTHONUNBUFFERED": "1",
           "SCHEDULER_DISPATCH_PROCESSES": str(dispatch_processes)}
    started = time.time()
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "jobs.tests.clocked_scheduler", f"{offset:.6f}"],
                                   cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    result = {"database": database, "size": size, "scenario": scenario, "workers": workers,
              "receiver": "HTTP/1.1 keep-alive" if keep_alive else "HTTP/1.0 close",
              "pipeline": os.environ.get("SCHEDULER_BURST_PIPELINE", "true"),
              "dispatch_processes": dispatch_processes, "users": users}
    try:
        deadline = time.time() + lead + 30
        while "firing" not in log_path.read_text() and time.time() < deadline:
            time.sleep(0.05)
        if "firing" not in log_path.read_text():
            raise SystemExit(f"scheduler did not start:\n{log_path.read_text()[-3000:]}")
        result["start_to_firing_s"] = time.time() - started
        while (log_path.read_text().count("dispatch process ready:") < dispatch_processes
               and time.time() < deadline):
            time.sleep(0.05)
        time.sleep(1.0)
        result["rss_loaded_mb"] = rss_mb(process.pid, "VmRSS")

        if scenario == "idle":
            cpu_before, at = cpu_seconds(process.pid), time.time()
            time.sleep(idle_seconds)
            result["idle_cpu_s_per_min"] = (cpu_seconds(process.pid) - cpu_before) / (time.time() - at) * 60
            result["rss_peak_mb"] = rss_mb(process.pid, "VmHWM")
            return result

        edit_delays = []
        if scenario == "spread":
            edit_delays = measure_edits(Job, log_path, fire_at)
        while time.time() + offset < boundary - 0.5:
            time.sleep(0.05)
        cpu_before = cpu_seconds(process.pid)
        server_cpu_before = server_cpu_seconds(database)
        leader_cpu_before = cpu_seconds(process.pid, leader_only=True)
        receiver_cpu_before = time.process_time()  # this process: the receiver, and the polling below
        expected = sum(due.values())
        give_up = max(due) - offset + 300
        while time.time() < give_up:
            if (receiver.count() >= expected and not JobExecution.objects.filter(status="running").exists()
                    and Notification.objects.count() >= expected * users):
                break
            time.sleep(0.2)
        cpu_used = cpu_seconds(process.pid) - cpu_before
        server_cpu_after = server_cpu_seconds(database)
        leader_cpu_used = cpu_seconds(process.pid, leader_only=True) - leader_cpu_before
        result["receiver_cpu_s"] = time.process_time() - receiver_cpu_before
        time.sleep(2)  # a late duplicate would arrive now
        result["rss_peak_mb"] = rss_mb(process.pid, "VmHWM")
        result["dispatch_processes_peak_rss_mb"] = children_peak_rss_mb(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()

    calls = receiver.snapshot()
    keys: dict[str | None, int] = {}
    lateness = []
    for key, scheduled, _path, arrived in calls:
        keys[key] = keys.get(key, 0) + 1
        if keys[key] == 1 and scheduled:
            fire = dt.datetime.fromisoformat(scheduled.replace("Z", "+00:00")).timestamp()
            lateness.append(arrived + offset - fire)
    records = dict(JobExecution.objects.values_list("status").annotate(n=Count("id")).order_by())
    doubled = (JobExecution.objects.values("job_id", "scheduled_for").annotate(n=Count("id"))
               .filter(n__gt=1).count())
    errors = list(JobExecution.objects.exclude(status="success").values_list("error_message")
                  .annotate(n=Count("id")).order_by("-n")[:3])
    result.update({
        "expected": expected, "calls": len(calls), "distinct_keys": len(keys),
        "keys_called_twice_or_more": sum(1 for n in keys.values() if n > 1),
        "calls_without_key": keys.get(None, 0), "records": records, "doubled_records": doubled,
        "errors": errors, "notifications": Notification.objects.count(),
        "cpu_ms_per_run": cpu_used * 1000 / max(expected, 1),
        "leader_cpu_ms_per_run": leader_cpu_used * 1000 / max(expected, 1),
        "server_cpu_ms_per_run": ((server_cpu_after - server_cpu_before) * 1000 / max(expected, 1)
                                  if server_cpu_before is not None else None),
        "missed_logged": log_path.read_text().count("outcome=missed"),
        "p50": percentile(lateness, 0.50), "p95": percentile(lateness, 0.95),
        "p99": percentile(lateness, 0.99), "max": max(lateness) if lateness else float("nan"),
        "edit_p50": statistics.median(edit_delays) if edit_delays else None,
        "edit_max": max(edit_delays) if edit_delays else None,
    })
    return result


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
