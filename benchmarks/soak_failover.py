"""Failover soak: every fire time ends in exactly one true record while the leader keeps dying.

    .venv/bin/python benchmarks/soak_failover.py                          # SQLite + file lock, 8 minutes
    .venv/bin/python benchmarks/soak_failover.py --database postgres      # PostgreSQL + database lock
    .venv/bin/python benchmarks/soak_failover.py --minutes 4 --jobs 50    # shorter

Not part of the test run. A fresh database (a temporary SQLite file, or the
PostgreSQL database ``cronhub_soak``, dropped and re-created; ``SOAK_POSTGRES_URL``
changes it), ``--jobs`` every-minute webhook jobs aimed at a local receiver that
answers after ``--receiver-delay`` seconds (so calls are in flight when the leader
dies), and three real ``manage.py runscheduler`` processes on the real clock.
Once a minute the leader is SIGKILLed at a varying offset after the minute
boundary (several inside the first second of the burst) and a new scheduler is
started, so three keep running. After ``--minutes`` killed minutes it waits for
every run to be recorded and checks, over every (job, minute) of the soak:

- exactly one execution record;
- the fire was delivered at least once (the receiver saw its job and fire time);
- every call the receiver saw twice carried the same idempotency key, and no
  (job, minute) reached the receiver under two keys;
- no record ``failed`` for a call the receiver got;
- no row left ``running``.

Prints the figures as JSON and a table; exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import scheduler_lateness

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("SOAK_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/cronhub_soak")
# Seconds after the minute boundary at which the leader is killed, in turn.
KILL_OFFSETS = (0.05, 0.3, 0.6, 0.9, 2.0, 0.15, 5.0, 0.45, 15.0, 30.0, 0.75, 45.0)


class Receiver:
    """Records every call: path, idempotency key, fire-time header, arrival; answers 200 after a delay
    (``delays`` gives some paths their own)."""

    def __init__(self, delay: float, delays: dict[str, float] | None = None):
        self.calls: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                with receiver.lock:
                    receiver.calls.append({
                        "path": self.path, "key": self.headers.get("Idempotency-Key"),
                        "scheduled_for": self.headers.get("X-Cronhub-Scheduled-For"), "at": time.time(),
                    })
                time.sleep((delays or {}).get(self.path, delay))
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the caller died meanwhile
                    pass

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.server = scheduler_lateness.serve(Handler)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def prepare_database(database: str, workdir: Path) -> str:
    return scheduler_lateness.prepare_database(database, workdir, postgres_url=POSTGRES_URL)


class Schedulers:
    def __init__(self, env: dict, workdir: Path):
        self.env = env
        self.workdir = workdir
        self.processes: dict[int, tuple[subprocess.Popen, Path]] = {}
        self.started = 0

    def start(self) -> int:
        self.started += 1
        log_path = self.workdir / f"scheduler-{self.started}.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen([sys.executable, "manage.py", "runscheduler"], cwd=ROOT, env=self.env,
                                       stdout=log, stderr=subprocess.STDOUT)
        self.processes[process.pid] = (process, log_path)
        return process.pid

    def alive(self) -> list[int]:
        return [pid for pid, (process, _) in self.processes.items() if process.poll() is None]

    def kill(self, pid: int) -> None:
        process, _ = self.processes[pid]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> dict[int, int]:
        codes = {}
        for pid in self.alive():
            self.processes[pid][0].send_signal(signal.SIGTERM)
        for pid, (process, _) in self.processes.items():
            try:
                codes[pid] = process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                codes[pid] = process.wait()
        return codes


def next_boundary(after: float) -> float:
    return (int(after) // 60 + 1) * 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite",
                        help="sqlite runs with the file lock, postgres with the database lock")
    parser.add_argument("--minutes", type=int, default=8, help="minutes with a leader kill (default 8)")
    parser.add_argument("--jobs", type=int, default=50, help="every-minute webhook jobs (default 50)")
    parser.add_argument("--receiver-delay", type=float, default=0.5,
                        help="seconds the receiver waits before answering (default 0.5)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    report(soak, parser.parse_args(), prefix="cronhub-soak-")


def report(run, args, *, prefix: str) -> None:
    """``run(args, workdir)`` in a fresh work directory; prints its result, exits 1 when it failed."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        result = run(args, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"logs in {workdir}", file=sys.stderr)
    print(json.dumps(result, indent=2))
    sys.exit(0 if result["passed"] else 1)


def soak(args, workdir: Path) -> dict:
    url = prepare_database(args.database, workdir)
    os.environ.update({"DATABASE_URL": url, "TESTING": "true", "CRONHUB_READ_DOT_ENV": "false",
                       "DJANGO_SETTINGS_MODULE": "cronhub.settings"})
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import close_old_connections

    from jobs.models import Job, JobExecution, SchedulerState

    receiver = Receiver(args.receiver_delay)
    port = receiver.server.server_port
    end = dt.date.today() + dt.timedelta(days=30)
    Job.objects.bulk_create([
        Job(name=f"soak {i}", cron_expression="* * * * *", timezone="UTC",
            target_url=f"http://127.0.0.1:{port}/{i}", end_date=end) for i in range(args.jobs)
    ])
    jobs = {str(job.pk): int(job.name.split()[1]) for job in Job.objects.all()}
    env = {**os.environ, "SCHEDULER_LOCK_BACKEND": "file" if args.database == "sqlite" else "database",
           "SCHEDULER_LOCK_PATH": str(workdir / "scheduler.lock"), "PYTHONUNBUFFERED": "1"}
    schedulers = Schedulers(env, workdir)
    for _ in range(3):
        schedulers.start()

    def leader_pid() -> int | None:
        close_old_connections()
        state = SchedulerState.objects.filter(pk=SchedulerState.SINGLETON_ID).first()
        return state.pid if state and state.stopped_at is None else None

    deadline = time.time() + 60
    while leader_pid() not in schedulers.alive():
        if time.time() > deadline:
            raise SystemExit("no scheduler became leader within 60 s")
        time.sleep(0.5)
    first = next_boundary(time.time() + 5)  # the first minute the leader surely fires in full
    minutes = [first + 60 * n for n in range(args.minutes)]
    kills = []
    print(f"soak: {args.jobs} jobs, {args.minutes} minutes from "
          f"{dt.datetime.fromtimestamp(first, dt.UTC):%H:%M}, {args.database}", file=sys.stderr, flush=True)
    for n, boundary in enumerate(minutes):
        offset = KILL_OFFSETS[n % len(KILL_OFFSETS)]
        time.sleep(max(0.0, boundary + offset - time.time()))
        pid = leader_pid()
        if pid in schedulers.alive():
            schedulers.kill(pid)
            kills.append({"minute": dt.datetime.fromtimestamp(boundary, dt.UTC).strftime("%H:%M"),
                          "offset_s": offset, "pid": pid})
        else:
            kills.append({"minute": dt.datetime.fromtimestamp(boundary, dt.UTC).strftime("%H:%M"),
                          "offset_s": offset, "pid": None})
        schedulers.start()
        print(f"soak: minute {n + 1}/{len(minutes)}: killed {pid} at +{offset} s",
              file=sys.stderr, flush=True)

    # Let the last minute's runs (and any recovery) finish: no row of the soak's minutes left running.
    fire_times = [dt.datetime.fromtimestamp(b, dt.UTC) for b in minutes]
    settle_until = time.time() + 240
    soak_rows = JobExecution.objects.filter(scheduled_for__in=fire_times)
    while time.time() < settle_until:
        close_old_connections()
        complete = soak_rows.count() >= len(jobs) * len(fire_times)
        if complete and not soak_rows.filter(status="running").exists():
            break
        time.sleep(1)
    time.sleep(2)
    exit_codes = schedulers.stop_all()
    receiver.stop()
    close_old_connections()
    return check(args, jobs, fire_times, receiver.calls, kills, exit_codes, JobExecution)


def check(args, jobs, fire_times, calls, kills, exit_codes, JobExecution) -> dict:  # noqa: N803
    rows = list(JobExecution.objects.filter(scheduled_for__in=fire_times).values(
        "pk", "job_id", "scheduled_for", "status", "attempts", "note"))
    running_anywhere = JobExecution.objects.filter(status="running").count()
    per_fire = collections.Counter((r["job_id"], r["scheduled_for"]) for r in rows)
    index_of = {job_id: index for job_id, index in jobs.items()}
    wanted = {(job_id, moment) for job_id in jobs for moment in fire_times}

    stamp = {moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in fire_times}
    delivered = collections.defaultdict(set)  # (job index, fire stamp) -> keys
    key_calls = collections.Counter()
    key_fire = collections.defaultdict(set)
    for call in calls:
        index = int(call["path"].strip("/"))
        delivered[(index, call["scheduled_for"])].add(call["key"])
        key_calls[call["key"]] += 1
        key_fire[call["key"]].add((index, call["scheduled_for"]))
    received_keys = set(key_calls)

    missing_records = [f for f in wanted if per_fire[f] == 0]
    duplicate_records = [f for f in wanted if per_fire[f] > 1]
    undelivered = [(j, m) for j, m in wanted if not delivered.get((index_of[j], stamp[m]))]
    two_keys = [f for f, keys in delivered.items() if len(keys) > 1 and f[1] in stamp.values()]
    repeated = [k for k, n in key_calls.items() if n > 1]
    repeated_same_fire = all(len(key_fire[k]) == 1 for k in repeated)
    false_failures = [r for r in rows if r["status"] == "failed" and r["pk"] in received_keys]
    statuses = collections.Counter(r["status"] for r in rows)
    resent = sum(1 for r in rows if r["attempts"] >= 2)
    sent_by_next = sum(1 for r in rows if r["note"] and r["note"].startswith("claimed by a scheduler"))
    checks = {
        "one record per (job, minute)": not missing_records and not duplicate_records,
        "every fire delivered at least once": not undelivered,
        "a re-sent call carries the same idempotency key": repeated_same_fire and not two_keys,
        "0 records failed for calls the receiver got": not false_failures,
        "0 rows left running": running_anywhere == 0,
    }
    result = {
        "database": args.database, "lock": "file" if args.database == "sqlite" else "database",
        "jobs": len(jobs), "minutes": len(fire_times), "fire_times": len(wanted),
        "records": len(rows), "missing_records": len(missing_records),
        "duplicate_records": len(duplicate_records), "statuses": dict(statuses),
        "calls_received": len(calls), "fires_undelivered": len(undelivered),
        "keys_received_twice_or_more": len(repeated), "records_resent": resent,
        "records_sent_by_next_leader": sent_by_next,
        "fires_under_two_keys": len(two_keys), "false_failures": len(false_failures),
        "rows_running": running_anywhere, "kills": kills,
        "exit_codes": sorted(exit_codes.values()),
    }
    return verdict(result, checks)


def verdict(result: dict, checks: dict[str, bool]) -> dict:
    """``result`` with its checks and whether all passed; prints PASS/FAIL per check."""
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}", file=sys.stderr)
    return {**result, "checks": checks, "passed": all(checks.values())}


if __name__ == "__main__":
    main()
