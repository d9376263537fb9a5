"""The read path under load, against gunicorn started as deployed (``-c deploy/gunicorn.conf.py``).

Scenarios (``--scenario``, default ``all``, all on one seeded database):

list
    ``GET /api/v2/jobs`` (the whole list; its body is built for every request, nothing is
    cached between requests and no conditional headers are sent): p50/p95 at 1 client; the
    same while runs are recorded at ``--record-rate`` a second by another process (a claim
    INSERT of a ``running`` row, then the finishing UPDATE, as a run does); throughput
    (req/s) at ``--clients`` clients.
soak
    ``--rounds`` × ``--seconds`` at ``--clients`` keep-alive clients, each client cycling
    over every read endpoint (``READ_PATHS``) on one connection that it keeps for the whole
    soak (a 2 s idle pause between rounds, connections kept). Every exception class
    (ConnectionResetError, RemoteDisconnected, timeouts, ...) and every non-2xx status is
    counted; a connection that failed is replaced and the replacement counted.
executions
    ``GET /api/v2/executions?page=1&limit=50`` and ``GET /api/v2/executions/statistics``
    p50/p95 at 1 client; with ``--explain``, the plans of the queries they make
    (PostgreSQL: ``EXPLAIN (ANALYZE, BUFFERS)``; SQLite: ``EXPLAIN QUERY PLAN``).

Seeding: ``--jobs`` jobs as ``api_jobs.py`` makes them, then ``--executions`` executions in
one ``INSERT ... SELECT`` (PostgreSQL: ``generate_series``; SQLite: a recursive CTE): started
over the last 90 days, a few jobs far busier than most, 80 % success / 12 % failed / 4 %
skipped / 2 % missed / 2 % unknown, the newest 20 still running, durations skewed from 1 s
to 10 min, 90 % scheduled. Then ``VACUUM ANALYZE`` (PostgreSQL) / ``ANALYZE`` (SQLite).

Usage (from the repository root):

    .venv/bin/python benchmarks/api_load.py                                  # SQLite in a temp dir
    .venv/bin/python benchmarks/api_load.py --database-url postgres://postgres@127.0.0.1:5432/cronhub_bench_load
    .venv/bin/python benchmarks/api_load.py --scenario executions --explain --database-url ...

The PostgreSQL database named in the URL is dropped and re-created. gunicorn runs with the
deploy config's own workers/threads (``GUNICORN_*`` in the environment change them, as in
production); its error log is summarised in the output (``server_log``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from bench_server import (
    PYTHON,
    ROOT,
    bench_env,
    child_env,
    fresh_database,
    gunicorn,
    percentile,
    python_speed_ms,
    run_child,
)

GUNICORN_CONFIG = "deploy/gunicorn.conf.py"
JOBS_PATH = "/api/v2/jobs"
JOBS_PAGE_PATH = "/api/v2/jobs?page=1&limit=50"
EXECUTIONS_PATH = "/api/v2/executions?page=1&limit=50"
STATISTICS_PATH = "/api/v2/executions/statistics"
# Every read endpoint of the API with no side effect ({job}/{execution}: a seeded id, varied).
READ_PATHS = [
    JOBS_PATH,
    "/api/v2/jobs/{job}",
    "/api/v2/jobs/{job}/executions",
    "/api/v2/jobs/{job}/executions/stats",
    "/api/v2/jobs/{job}/history",
    EXECUTIONS_PATH,
    STATISTICS_PATH,
    "/api/v2/executions/{execution}",
    "/api/v2/health",
    "/api/v2/health/live",
    "/api/v2/health/ready",
    "/api/v2/scheduler/status",
    "/api/v2/job-categories",
    "/api/v2/pic-teams",
    "/api/v2/notifications",
    "/api/v2/notifications/unread-count",
    "/api/v2/auth/me",
    "/api/v2/auth/users",
    "/api/v2/auth/tokens",
]
PAUSE_BETWEEN_ROUNDS = 2.0


# --- seeding (in a child process with Django set up) ------------------------------------------------
_PG_EXECUTIONS = """
INSERT INTO job_executions (
    id, job_id, status, trigger_type, scheduled_for, started_at, completed_at, duration_seconds,
    execution_type, target, response_status, error_message, attempts, github_follow_polls, attempt_log)
SELECT gen_random_uuid()::text, j.id, s.status, s.trigger_type,
       CASE WHEN s.trigger_type = 'scheduled' THEN s.started_at - interval '1 second' * s.r_late END,
       s.started_at,
       CASE WHEN s.status IN ('success', 'failed') THEN s.started_at + interval '1 second' * s.duration END,
       CASE WHEN s.status IN ('success', 'failed') THEN s.duration END,
       s.execution_type, 'acme/repo/ci.yml',
       CASE s.status WHEN 'success' THEN 204 WHEN 'failed' THEN 500 END,
       CASE s.status WHEN 'failed' THEN 'HTTP 500' WHEN 'skipped' THEN 'previous run still in progress'
                     WHEN 'missed' THEN 'fire time missed' END,
       CASE WHEN s.status IN ('success', 'failed', 'unknown', 'running') THEN 1 ELSE 0 END, 0, '[]'::jsonb
FROM (
    SELECT g.n,
           1 + floor(%(jobs)s * power(g.r_job, 2))::int AS job_k,
           CASE WHEN g.n <= 20 THEN 'running'
                WHEN g.r_status < 0.80 THEN 'success' WHEN g.r_status < 0.92 THEN 'failed'
                WHEN g.r_status < 0.96 THEN 'skipped' WHEN g.r_status < 0.98 THEN 'missed'
                ELSE 'unknown' END AS status,
           CASE WHEN g.r_trigger < 0.9 THEN 'scheduled' ELSE 'manual' END AS trigger_type,
           CASE WHEN g.n <= 20 THEN now() - interval '1 second' * g.n
                ELSE now() - interval '90 days' * g.r_time END AS started_at,
           1 + 599 * power(g.r_duration, 3) AS duration,
           CASE WHEN g.r_job < 0.7 THEN 'github_actions' ELSE 'webhook' END AS execution_type,
           g.r_late
    FROM (SELECT n, random() AS r_job, random() AS r_status, random() AS r_trigger, random() AS r_time,
                 random() AS r_duration, random() * 2 AS r_late
          FROM generate_series(1, %(executions)s) AS n) AS g
) AS s
JOIN bench_jobs AS j ON j.k = s.job_k
ON CONFLICT DO NOTHING
"""

# SQLite: random() is a 64-bit integer; datetimes are 'YYYY-MM-DD HH:MM:SS.ffffff' text in UTC,
# spelled as Django writes them (strftime's %f has milliseconds: '000' makes them microseconds),
# so the API reads them as it reads real rows.
_SQLITE_EXECUTIONS = """
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :executions),
r AS (SELECT n, random() / 18446744073709551616.0 + 0.5 AS r_job,
             random() / 18446744073709551616.0 + 0.5 AS r_status,
             random() / 18446744073709551616.0 + 0.5 AS r_trigger,
             random() / 18446744073709551616.0 + 0.5 AS r_time,
             random() / 18446744073709551616.0 + 0.5 AS r_duration,
             random() / 9223372036854775808.0 + 1.0 AS r_late
      FROM g),
s AS (SELECT n, 1 + CAST(:jobs * r_job * r_job AS INTEGER) AS job_k,
             CASE WHEN n <= 20 THEN 'running'
                  WHEN r_status < 0.80 THEN 'success' WHEN r_status < 0.92 THEN 'failed'
                  WHEN r_status < 0.96 THEN 'skipped' WHEN r_status < 0.98 THEN 'missed'
                  ELSE 'unknown' END AS status,
             CASE WHEN r_trigger < 0.9 THEN 'scheduled' ELSE 'manual' END AS trigger_type,
             CASE WHEN n <= 20 THEN strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || n || ' seconds') || '000'
                  ELSE strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || (r_time * 7776000) || ' seconds') || '000'
                  END AS started_at,
             1 + 599 * r_duration * r_duration * r_duration AS duration,
             CASE WHEN r_job < 0.7 THEN 'github_actions' ELSE 'webhook' END AS execution_type,
             r_late
      FROM r)
INSERT OR IGNORE INTO job_executions (
    id, job_id, status, trigger_type, scheduled_for, started_at, completed_at, duration_seconds,
    execution_type, target, response_status, error_message, attempts, github_follow_polls, attempt_log)
SELECT lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2)))
           || '-4' || substr(lower(hex(randomblob(2))), 2)
           || '-a' || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))),
       j.id, s.status, s.trigger_type,
       CASE WHEN s.trigger_type = 'scheduled'
            THEN strftime('%Y-%m-%d %H:%M:%f', s.started_at, '-' || s.r_late || ' seconds') || '000' END,
       s.started_at,
       CASE WHEN s.status IN ('success', 'failed')
            THEN strftime('%Y-%m-%d %H:%M:%f', s.started_at, '+' || s.duration || ' seconds') || '000' END,
       CASE WHEN s.status IN ('success', 'failed') THEN s.duration END,
       s.execution_type, 'acme/repo/ci.yml',
       CASE s.status WHEN 'success' THEN 204 WHEN 'failed' THEN 500 END,
       CASE s.status WHEN 'failed' THEN 'HTTP 500' WHEN 'skipped' THEN 'previous run still in progress'
                     WHEN 'missed' THEN 'fire time missed' END,
       CASE WHEN s.status IN ('success', 'failed', 'unknown', 'running') THEN 1 ELSE 0 END, 0, '[]'
FROM s JOIN bench_jobs AS j ON j.k = s.job_k
"""


def seed(jobs: int, executions: int) -> dict:
    """Jobs as api_jobs.py seeds them, executions in one statement; the token and ids to read."""
    from api_jobs import seed as seed_jobs  # sets Django up

    token = seed_jobs(jobs, 0)
    from django.db import connection

    from jobs.models import Job, JobExecution
    from taxonomy.models import JobCategory

    JobCategory.objects.get_or_create(slug="general", defaults={"name": "General"})
    postgres = connection.vendor == "postgresql"
    connection.ensure_connection()
    # The driver's own cursor (autocommit, as Django keeps it): SQLite's SQL holds '%' and ':name'.
    cursor = connection.connection.cursor()
    cursor.execute("CREATE TEMP TABLE bench_jobs AS "
                   "SELECT row_number() OVER (ORDER BY id) AS k, id FROM jobs")
    params = {"jobs": jobs, "executions": executions}
    cursor.execute(_PG_EXECUTIONS if postgres else _SQLITE_EXECUTIONS, params)
    cursor.execute("DROP TABLE bench_jobs")
    cursor.execute("VACUUM ANALYZE job_executions" if postgres else "ANALYZE")  # outside a transaction
    cursor.close()
    return {
        "token": token,
        "executions": JobExecution.objects.count(),
        "job_ids": list(Job.objects.order_by("?").values_list("id", flat=True)[:200]),
        "execution_ids": list(
            JobExecution.objects.order_by("-started_at").values_list("id", flat=True)[:200]
        ),
    }


def explain() -> dict:
    """The plans of the queries the two executions endpoints make, captured as the views run them."""
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jobs.selectors import ExecutionFilters, execution_page, execution_statistics

    plans = {}
    for name, call in (
        (EXECUTIONS_PATH, lambda: execution_page(ExecutionFilters(), page=1, limit=50)),
        (STATISTICS_PATH, lambda: execution_statistics(ExecutionFilters())),
    ):
        with CaptureQueriesContext(connection) as captured:
            call()
        for query in captured.captured_queries:
            sql = query["sql"]
            prefix = ("EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql"
                      else "EXPLAIN QUERY PLAN ")
            with connection.cursor() as cursor:
                cursor.execute(prefix + sql)
                rows = cursor.fetchall()
            plans.setdefault(name, []).append({
                "sql": sql,
                "plan": [row[0] if len(row) == 1 else row[-1] for row in rows],
            })
    return plans


def record(rate: float) -> None:
    """Record runs at ``rate`` a second until stdin closes: a claim INSERT (``running``), then the
    finishing UPDATE, as the scheduler does. Prints how many and the rate reached."""
    import django

    django.setup()
    import datetime as dt

    from django.utils import timezone

    from jobs.models import Job, JobExecution

    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    ids = list(Job.objects.values_list("id", flat=True))
    rng = random.Random(7)
    interval = 1.0 / rate
    recorded = 0
    began = time.monotonic()
    next_at = began
    while not stop.is_set():
        now = timezone.now()
        execution = JobExecution.objects.create(
            job_id=rng.choice(ids), status="running", trigger_type="scheduled", scheduled_for=now,
            started_at=now, execution_type="webhook", target="https://example.com/hook", attempts=1,
        )
        done = timezone.now()
        JobExecution.objects.filter(pk=execution.pk).update(
            status="success", completed_at=done, duration_seconds=(done - now) / dt.timedelta(seconds=1),
            response_status=200,
        )
        recorded += 1
        next_at += interval
        stop.wait(max(0.0, next_at - time.monotonic()))
    elapsed = time.monotonic() - began
    print(json.dumps({"recorded": recorded, "seconds": round(elapsed, 1),
                      "rate_per_s": round(recorded / elapsed, 2) if elapsed else 0.0}))


# --- clients -----------------------------------------------------------------------------------------
class Client:
    """One keep-alive connection, reused for every request; replaced (and counted) after a failure."""

    def __init__(self, port: int, token: str, timeout: float):
        self.port, self.timeout = port, timeout
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.conn = self._connect()
        self.reconnects = 0

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)

    def get(self, path: str, tally: Tally, label: str | None = None) -> None:
        started = time.perf_counter()
        try:
            self.conn.request("GET", path, headers=self.headers)
            response = self.conn.getresponse()
            response.read()
        except Exception as error:  # every failure is a finding: counted by class, connection replaced
            tally.error(type(error).__name__)
            self.conn.close()
            self.conn = self._connect()
            self.reconnects += 1
            return
        elapsed = (time.perf_counter() - started) * 1000
        if response.will_close:  # the server ended the keep-alive connection itself
            tally.closed_by_server += 1
            self.conn.close()
            self.conn = self._connect()
        tally.answer(label or path, response.status, elapsed)

    def close(self) -> None:
        self.conn.close()


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.timings: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.non_2xx: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.closed_by_server = 0

    def answer(self, label: str, status: int, elapsed_ms: float) -> None:
        with self.lock:
            self.statuses[status] += 1
            if 200 <= status < 300:
                self.timings.append(elapsed_ms)
            else:
                self.non_2xx[f"{status} {label}"] += 1

    def error(self, name: str) -> None:
        with self.lock:
            self.errors[name] += 1

    def summary(self, seconds: float) -> dict:
        ok = len(self.timings)
        return {
            "requests": sum(self.statuses.values()) + sum(self.errors.values()),
            "ok_2xx": ok,
            "req_per_s": round(ok / seconds, 1) if seconds else 0.0,
            "p50_ms": round(statistics.median(self.timings), 1) if ok else None,
            "p95_ms": round(percentile(self.timings, 0.95), 1) if ok else None,
            "max_ms": round(max(self.timings), 1) if ok else None,
            "non_2xx": dict(self.non_2xx),
            "errors": dict(self.errors),
            "closed_by_server": self.closed_by_server,
        }


def drive(clients: list[Client], paths_for, seconds: float) -> tuple[Tally, float]:
    """Each client sends requests back to back for ``seconds``; ``paths_for(i)`` yields client i's paths."""
    tally = Tally()
    deadline = time.monotonic() + seconds

    def loop(index: int) -> None:
        for label, path in paths_for(index):
            if time.monotonic() >= deadline:
                return
            clients[index].get(path, tally, label)

    threads = [threading.Thread(target=loop, args=(index,)) for index in range(len(clients))]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally, time.monotonic() - began


def repeat(path: str):
    return lambda _index: iter(lambda: (path, path), None)


def sequential(port: int, token: str, path: str, seconds: float, timeout: float, warm: int = 5) -> dict:
    client = Client(port, token, timeout)
    warmup = Tally()
    for _ in range(warm):  # connections, the cron cache of the worker that answers
        client.get(path, warmup)
    tally, elapsed = drive([client], repeat(path), seconds)
    client.close()
    return {"path": path, "clients": 1, "seconds": round(elapsed, 1), **tally.summary(elapsed)}


# --- scenarios ---------------------------------------------------------------------------------------
def scenario_list(port: int, seeded: dict, args, env: dict) -> dict:
    token = seeded["token"]
    quiet = sequential(port, token, JOBS_PATH, args.seconds, args.timeout)
    recorder = subprocess.Popen(
        [PYTHON, __file__, "--record-only", "--record-rate", str(args.record_rate)],
        cwd=ROOT, env=child_env(env), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        time.sleep(1.0)  # recording under way
        recording = sequential(port, token, JOBS_PATH, args.seconds, args.timeout)
    finally:
        out, _ = recorder.communicate(input="", timeout=60)
    recorded = json.loads(out.strip().splitlines()[-1])
    clients = [Client(port, token, args.timeout) for _ in range(args.clients)]
    for client in clients:
        client.get(JOBS_PATH, Tally())
    tally, elapsed = drive(clients, repeat(JOBS_PATH), args.seconds)
    for client in clients:
        client.close()
    # The same list a page at a time (the optional parameters): what a client that pages pays.
    page = sequential(port, token, JOBS_PAGE_PATH, args.seconds, args.timeout)
    return {
        "p95_1_client": quiet,
        "p95_1_client_while_recording": {**recording, "recorder": recorded},
        "throughput": {"path": JOBS_PATH, "clients": args.clients, "seconds": round(elapsed, 1),
                       **tally.summary(elapsed)},
        "page_1_client": page,
    }


def scenario_soak(port: int, seeded: dict, args) -> dict:
    job_ids, execution_ids = seeded["job_ids"], seeded["execution_ids"] or ["none"]

    def paths_for(index: int):
        rng = random.Random(index)
        position = index  # clients start at different endpoints
        while True:
            template = READ_PATHS[position % len(READ_PATHS)]
            position += 1
            yield template, template.format(job=rng.choice(job_ids), execution=rng.choice(execution_ids))

    clients = [Client(port, seeded["token"], args.timeout) for _ in range(args.clients)]
    rounds = []
    total = Counter()
    for number in range(args.rounds):
        if number:
            time.sleep(PAUSE_BETWEEN_ROUNDS)  # idle keep-alive connections, kept
        tally, elapsed = drive(clients, paths_for, args.seconds)
        summary = {"round": number + 1, "seconds": round(elapsed, 1), **tally.summary(elapsed)}
        rounds.append(summary)
        total["requests"] += summary["requests"]
        total["ok_2xx"] += summary["ok_2xx"]
        total["non_2xx"] += sum(summary["non_2xx"].values())
        total["errors"] += sum(summary["errors"].values())
        total["closed_by_server"] += summary["closed_by_server"]
    reconnects = sum(client.reconnects for client in clients)
    for client in clients:
        client.close()
    return {"clients": args.clients, "paths": READ_PATHS, "rounds": rounds,
            "total": {**total, "reconnects_after_error": reconnects},
            "zero_errors": total["non_2xx"] == 0 and total["errors"] == 0}


def scenario_executions(port: int, seeded: dict, args) -> dict:
    return {"results": [sequential(port, seeded["token"], path, args.seconds, args.timeout)
                        for path in (EXECUTIONS_PATH, STATISTICS_PATH)]}


def server_log_summary(text: str) -> dict:
    """Worker boots, error lines, and the exception each logged traceback ended in (counted)."""
    lines = text.splitlines()
    marks = ("[ERROR]", "[CRITICAL]", "WORKER TIMEOUT")
    flagged = [line for line in lines if any(mark in line for mark in marks)]
    exceptions: Counter[str] = Counter()
    in_traceback = False
    for line in lines:
        if line.startswith("Traceback"):
            in_traceback = True
        elif in_traceback and line and not line.startswith((" ", "\t")):
            in_traceback = line.startswith(("During handling", "The above exception"))
            if not in_traceback:
                exceptions[line[:300]] += 1
    return {"booted_workers": sum("Booting worker" in line for line in lines),
            "error_lines": len(flagged), "first_error_lines": flagged[:5], "exceptions": dict(exceptions)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--executions", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=8, help="for throughput and the soak")
    parser.add_argument("--rounds", type=int, default=4, help="soak rounds")
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="length of each measurement (and of each soak round)")
    parser.add_argument("--record-rate", type=float, default=10.0,
                        help="runs recorded a second during the second list measurement")
    parser.add_argument("--scenario", choices=["list", "soak", "executions", "all"], default="all")
    parser.add_argument("--explain", action="store_true", help="print the executions queries' plans")
    parser.add_argument("--server-log", default="", help="keep gunicorn's error log in this file")
    parser.add_argument("--timeout", type=float, default=60.0, help="client socket timeout (s)")
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--explain-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--record-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        print(json.dumps(seed(args.jobs, args.executions)))
        return
    if args.explain_only:
        print(json.dumps(explain()))
        return
    if args.record_only:
        record(args.record_rate)
        return

    scenarios = ["list", "soak", "executions"] if args.scenario == "all" else [args.scenario]
    speed = python_speed_ms()
    with tempfile.TemporaryDirectory(prefix="cronhub-load-") as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        prom = Path(tmp, "prometheus")
        prom.mkdir()
        # As the web unit runs it: metrics in multiprocess mode.
        env = bench_env(url, tmp, PROMETHEUS_MULTIPROC_DIR=str(prom))
        fresh_database(url, env)
        started = time.perf_counter()
        seeded = json.loads(run_child(__file__, ["--seed-only", "--jobs", str(args.jobs),
                                                 "--executions", str(args.executions)], env))
        seed_seconds = time.perf_counter() - started
        plans = json.loads(run_child(__file__, ["--explain-only"], env)) if args.explain else None
        log_path = Path(args.server_log or Path(tmp, "gunicorn.log"))
        results = {}
        with (
            open(log_path, "w") as log,
            gunicorn(env, args=["-c", GUNICORN_CONFIG], stdout=subprocess.DEVNULL, stderr=log) as port,
        ):
            for name in scenarios:
                began = time.perf_counter()
                if name == "list":
                    results[name] = scenario_list(port, seeded, args, env)
                elif name == "soak":
                    results[name] = scenario_soak(port, seeded, args)
                else:
                    results[name] = scenario_executions(port, seeded, args)
                print(f"{name}: done in {time.perf_counter() - began:.0f} s", file=sys.stderr)
            measured = log_path.stat().st_size
        raw = log_path.read_bytes()
        server_log = {"during_measurement": server_log_summary(raw[:measured].decode(errors="replace")),
                      "at_shutdown": server_log_summary(raw[measured:].decode(errors="replace"))}
    if plans:
        for path, queries in plans.items():
            print(f"== {path}")
            for query in queries:
                print(query["sql"])
                print("\n".join(f"    {line}" for line in query["plan"]))
    print(json.dumps({
        "database": url.split(":", 1)[0],
        "jobs": args.jobs,
        "executions": seeded["executions"],
        "seed_seconds": round(seed_seconds, 1),
        "gunicorn": f"-c {GUNICORN_CONFIG}",
        "record_rate": args.record_rate,
        "python_loop_ms": speed,
        "results": results,
        "server_log": server_log,
    }, indent=2))


if __name__ == "__main__":
    main()
