"""Database outage soak: PostgreSQL stops for 20 s under a running scheduler; nothing is lost or stuck.

    .venv/bin/python benchmarks/soak_db_outage.py --lock database    # the database lock backend
    .venv/bin/python benchmarks/soak_db_outage.py --lock file        # the file lock backend

Not part of the test run: it stops and starts the machine's PostgreSQL cluster
(``pg_ctlcluster``, so it needs the rights to do that), which breaks anything
else using it meanwhile. A fresh database (``cronhub_soak``, see
``soak_failover.py``), one ``manage.py runscheduler`` process, a gunicorn web
server, ``--jobs`` every-minute webhook jobs answered at once and one job whose
webhook takes ``--long-call`` seconds (55 by default). Timeline, on the real
clock:

- minute M: every job fires; the long call is in flight;
- M + ``--stop-at`` (45 s): PostgreSQL stops, for ``--outage`` seconds (20): the
  long call answers and the next minute's fires come while the database is down;
- meanwhile the API (``GET /jobs`` with a token) and ``/health`` are polled.

Then it waits for the runs of minutes M .. M+2 to be recorded and checks:

- exactly one record per (job, minute), none left ``running`` (nothing lost,
  nothing stuck: the long call's outcome, the claims made during the outage and
  the long job's next fire — skipped while its call was still running — are all
  written once the database is back);
- every API answer during the outage was a 503 with ``Retry-After`` and the error
  body, never a 500 or a dropped connection, and named no host;
- the scheduler stayed up and exits 0 when stopped.

Prints the figures as JSON; exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from soak_failover import (  # noqa: E402
    ROOT,
    Receiver,
    Schedulers,
    next_boundary,
    prepare_database,
    report,
    verdict,
)

PASSWORD = "outage-soak-password"


def postgres_cluster() -> tuple[str, str]:
    """(version, name) of the local cluster, from ``pg_lsclusters``."""
    line = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True,
                          check=True).stdout.split("\n")[0].split()
    return line[0], line[1]


def cluster(action: str) -> None:
    version, name = postgres_cluster()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action, "-m", "fast"]
                   if action == "stop" else
                   ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action], check=True)


class WebServer:
    def __init__(self, env: dict, log_path: Path):
        listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "cronhub.wsgi", "--bind", f"fd://{listener.fileno()}",
             "--workers", "1", "--threads", "4", "--timeout", "60"],
            cwd=ROOT, env=env, pass_fds=[listener.fileno()], stdout=self._log, stderr=subprocess.STDOUT)
        listener.close()
        deadline = time.time() + 60
        while True:
            try:
                requests.get(self.url + "/api/v2/health", timeout=5)
                return
            except requests.ConnectionError:
                if time.time() > deadline:
                    raise SystemExit("gunicorn did not answer within 60 s") from None
                time.sleep(0.5)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self._log.close()


class Poller:
    """Polls the API and /health every half second; keeps (time, path, status, body, Retry-After)."""

    def __init__(self, base: str, token: str, secrets: list[str]):
        self.base, self.token, self.secrets = base, token, secrets
        self.answers: list[dict] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        while not self.stop.wait(0.5):
            for path in ("/api/v2/jobs", "/api/v2/health"):
                answer = {"at": time.time(), "path": path}
                try:
                    response = requests.get(self.base + path, headers=headers, timeout=10)
                    answer.update(status=response.status_code, body=response.text[:300],
                                  retry_after=response.headers.get("Retry-After"))
                except requests.RequestException as exc:
                    answer.update(status=None, body=type(exc).__name__)
                self.answers.append(answer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lock", choices=("file", "database"), default="database")
    parser.add_argument("--jobs", type=int, default=10, help="quick every-minute webhook jobs (default 10)")
    parser.add_argument("--long-call", type=float, default=55.0, help="seconds the long job's webhook takes")
    parser.add_argument("--stop-at", type=float, default=45.0,
                        help="seconds after the minute PostgreSQL stops")
    parser.add_argument("--outage", type=float, default=20.0, help="seconds PostgreSQL stays down")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    report(soak, parser.parse_args(), prefix="cronhub-outage-")


def soak(args, workdir: Path) -> dict:
    url = prepare_database("postgres", workdir)
    os.environ.update({"DATABASE_URL": url, "TESTING": "true", "CRONHUB_READ_DOT_ENV": "false",
                       "DJANGO_SETTINGS_MODULE": "cronhub.settings"})
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import close_old_connections

    from accounts.models import Role, User
    from jobs.models import Job, JobExecution, SchedulerState

    receiver = Receiver(0.2, delays={"/long": args.long_call})
    port = receiver.server.server_port
    end = dt.date.today() + dt.timedelta(days=30)
    Job.objects.bulk_create([
        Job(name=f"outage {i}", cron_expression="* * * * *", timezone="UTC",
            target_url=f"http://127.0.0.1:{port}/{i}", end_date=end) for i in range(args.jobs)
    ] + [Job(name="outage long", cron_expression="* * * * *", timezone="UTC",
             target_url=f"http://127.0.0.1:{port}/long", end_date=end,
             # the job's own deadline bounds the call: long enough for it to answer in the outage
             timeout_seconds=int(args.long_call + 30))])
    jobs = {str(job.pk): job.name for job in Job.objects.all()}
    admin = User(username="outage_admin", email="outage@example.com", role=Role.ADMIN)
    admin.set_password(PASSWORD)
    admin.save()

    env = {**os.environ, "SCHEDULER_LOCK_BACKEND": args.lock, "PYTHONUNBUFFERED": "1",
           "SCHEDULER_LOCK_PATH": str(workdir / "scheduler.lock"),
           "OUTBOUND_TOTAL_TIMEOUT": str(int(args.long_call + 30)),
           "OUTBOUND_READ_TIMEOUT": str(int(args.long_call + 30)),
           "SECRET_KEY": "outage-soak-" + "k" * 50, "DEBUG": "false"}
    schedulers = Schedulers(env, workdir)
    schedulers.start()
    web = WebServer(env, workdir / "gunicorn.log")
    token = requests.post(web.url + "/api/v2/auth/login", json={"username": "outage_admin",
                                                                 "password": PASSWORD},
                          timeout=10).json()["access_token"]

    deadline = time.time() + 60
    while True:
        close_old_connections()
        state = SchedulerState.objects.filter(pk=SchedulerState.SINGLETON_ID).first()
        if state and state.pid in schedulers.alive() and state.stopped_at is None:
            break
        if time.time() > deadline:
            raise SystemExit("no scheduler became leader within 60 s")
        time.sleep(0.5)
    close_old_connections()

    first = next_boundary(time.time() + 5)
    minutes = [first, first + 60, first + 120]
    host_secrets = [url.split("@")[-1].split("/")[0], "cronhub_soak", "5432"]
    poller = Poller(web.url, token, host_secrets)
    print(f"outage soak: {len(jobs)} jobs, lock {args.lock}, PostgreSQL down at "
          f"{dt.datetime.fromtimestamp(first + args.stop_at, dt.UTC):%H:%M:%S} for {args.outage:g} s",
          file=sys.stderr, flush=True)
    time.sleep(max(0.0, first + args.stop_at - time.time()))
    stop_issued = time.time()
    cluster("stop")
    down_at = time.time()  # the server has shut down
    time.sleep(max(0.0, stop_issued + args.outage - time.time()))
    up_at = time.time()  # from here the server may accept connections again
    cluster("start")
    print("outage soak: PostgreSQL is back", file=sys.stderr, flush=True)

    fire_times = [dt.datetime.fromtimestamp(moment, dt.UTC) for moment in minutes]
    settle_until = max(up_at, minutes[-1]) + args.long_call + 180
    rows = JobExecution.objects.filter(scheduled_for__in=fire_times)
    while time.time() < settle_until:
        try:
            close_old_connections()
            if rows.count() >= len(jobs) * len(fire_times) and not rows.filter(status="running").exists():
                break
        except Exception:  # noqa: BLE001 - the database may still be starting
            pass
        time.sleep(1)
    poller.stop.set()
    poller.thread.join(timeout=15)
    exit_codes = schedulers.stop_all()
    web.stop()
    receiver.stop()
    close_old_connections()
    return check(args, jobs, fire_times, poller, (down_at, up_at), exit_codes, JobExecution)


def check(args, jobs, fire_times, poller, window, exit_codes, JobExecution) -> dict:  # noqa: N803
    down_at, up_at = window
    rows = list(JobExecution.objects.filter(scheduled_for__in=fire_times).values(
        "job_id", "scheduled_for", "status", "error_message"))
    per_fire = collections.Counter((r["job_id"], r["scheduled_for"]) for r in rows)
    wanted = {(job_id, moment) for job_id in jobs for moment in fire_times}
    running = JobExecution.objects.filter(status="running").count()
    # Answers to requests made while the server was surely down (half a second's margin).
    during = [a for a in poller.answers if down_at + 0.5 < a["at"] < up_at - 0.5]
    bad = [a for a in during if a["status"] != 503 or not a.get("retry_after")]
    leaks = [a for a in poller.answers if any(secret in (a.get("body") or "") for secret in poller.secrets)]
    after = [a for a in poller.answers if a["at"] > up_at + 10]
    long_rows = [r for r in rows if jobs[r["job_id"]] == "outage long"]
    checks = {
        "one record per (job, minute)": all(per_fire[f] == 1 for f in wanted),
        "0 rows left running": running == 0,
        "the API answered 503 with Retry-After during the outage": bool(during) and not bad,
        "no answer named the database host": not leaks,
        "the API answered again after the outage": bool(after) and all(
            a["status"] == 200 for a in after[-4:]),
        "the scheduler stayed up and stopped cleanly": sorted(exit_codes.values()) == [0],
        # The long call of minute M answered while the database was down: its outcome was kept
        # and written once the database was back (not lost, not failed by a deadline).
        "the long call answered in the outage is recorded success": any(
            r["status"] == "success" and r["scheduled_for"] == fire_times[0] for r in long_rows),
    }
    result = {
        "lock": args.lock, "jobs": len(jobs), "minutes": len(fire_times),
        "outage_s": round(up_at - down_at, 1),
        "records": len(rows), "statuses": dict(collections.Counter(r["status"] for r in rows)),
        "long_job": [{"scheduled_for": r["scheduled_for"].isoformat(), "status": r["status"],
                      "error_message": r["error_message"]} for r in long_rows],
        "answers_during_outage": dict(collections.Counter(str(a["status"]) for a in during)),
        "bad_answers_during_outage": bad[:5], "rows_running": running,
        "exit_codes": sorted(exit_codes.values()),
    }
    return verdict(result, checks)


if __name__ == "__main__":
    main()
