"""The burst pipeline alone: CPU per run with no timer and no leader loop around it.

    .venv/bin/python benchmarks/burst_inprocess.py                        # SQLite, 2,000 jobs, 6 rounds
    .venv/bin/python benchmarks/burst_inprocess.py --database postgres    # needs a local PostgreSQL
    .venv/bin/python benchmarks/burst_inprocess.py --database mariadb     # needs a local MariaDB/MySQL
    .venv/bin/py-spy record -o profile.svg -- .venv/bin/python benchmarks/burst_inprocess.py --rounds 20

``scheduler_lateness.py`` measures ``runscheduler`` as deployed: its CPU per run includes
APScheduler handing each fire over and the leader's own loop. This drives
``jobs.scheduler.pipeline.BurstPipeline`` directly, as the leader does at a fire time:
``--jobs`` webhook jobs, each round one fire time for all of them (submitted together), then
waits until every run is recorded. It prints the process CPU per run of each round (the
receiver runs in a child process, so its CPU is not counted) and checks that each round
recorded one ``success`` per job; on PostgreSQL and MariaDB also the server's CPU per run
(its processes on this machine, so run it on an otherwise idle server). Round 0
includes the first connections; the median is taken over the others. Under a sampling
profiler, the samples are the pipeline's own.

The database is fresh: a temporary SQLite file or ``cronhub_bench`` on the local PostgreSQL
or MariaDB (dropped and re-created), migrated. Log level ``info`` as in production (one line per run).
``--users N`` adds N active users who keep the default run-notification choice (every run):
each run is then announced to each of them in the app (N notification rows a run), as a team
of N would be told; the announcing is included in the CPU (a round ends once its runs are
recorded and announced).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_server import python_speed_ms  # noqa: E402 - this directory first
from scheduler_lateness import (  # noqa: E402 - this directory first
    DATABASES,
    ROOT,
    Receiver,
    prepare_database,
    server_cpu_seconds,
)


def receive(port_file: str) -> None:
    """The receiver, in its own process: keep-alive, answers 200 to everything."""
    receiver = Receiver(keep_alive=True)
    Path(port_file).write_text(str(receiver.port))
    threading.Event().wait()


def drive(jobs: int, rounds: int, port: int, users: int, database: str) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from jobs.models import ExecutionStatus, Job, JobExecution
    from jobs.scheduler.db import keep_connections_open
    from jobs.scheduler.dispatcher import Dispatcher, DueJobs
    from jobs.scheduler.pipeline import BurstPipeline
    from notifications.models import Notification

    keep_connections_open()
    get_user_model().objects.bulk_create([
        get_user_model()(username=f"member{i}", email=f"member{i}@example.com", is_active=True)
        for i in range(users)])
    end = dt.date.today() + dt.timedelta(days=30)
    Job.objects.bulk_create([
        Job(name=f"burst {i}", cron_expression="* * * * *", timezone="UTC", end_date=end,
            target_url=f"http://127.0.0.1:{port}/burst-{i}") for i in range(jobs)])
    ids = list(Job.objects.values_list("pk", flat=True))
    pooled = []
    pipeline = BurstPipeline(Dispatcher(grace_seconds=3600, due=DueJobs(), stop=threading.Event()),
                             fallback=lambda fire, _job: pooled.append(fire))
    first = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=rounds)
    cpu_ms, server_ms, seconds = [], [], []
    for index in range(rounds):
        at = first + dt.timedelta(minutes=index)
        began_server = server_cpu_seconds(database)
        began_cpu, began = time.process_time(), time.perf_counter()
        for job_id in ids:
            pipeline.submit(job_id, [at], done=lambda: None)
        if not pipeline.wait_idle(300):
            raise SystemExit(f"round {index}: not every run was recorded within 300 s")
        if not pipeline.wait_announced(300):
            raise SystemExit(f"round {index}: not every run was announced within 300 s")
        seconds.append(time.perf_counter() - began)
        cpu_ms.append((time.process_time() - began_cpu) * 1000 / jobs)
        if began_server is not None:
            server_ms.append((server_cpu_seconds(database) - began_server) * 1000 / jobs)
        statuses = list(JobExecution.objects.filter(scheduled_for=at).values_list("status", flat=True))
        if len(statuses) != jobs or set(statuses) != {ExecutionStatus.SUCCESS}:
            raise SystemExit(f"round {index}: {len(statuses)} rows, statuses {set(statuses)}")
        told = Notification.objects.filter(related_execution__scheduled_for=at).count()
        if told != jobs * users:
            raise SystemExit(f"round {index}: {told} in-app notifications, expected {jobs * users}")
        server = f", database server {server_ms[-1]:.3f} ms" if server_ms else ""
        print(f"round {index}: {cpu_ms[-1]:.3f} ms CPU per run{server}, {seconds[-1]:.2f} s", file=sys.stderr)
    if pooled:
        raise SystemExit(f"{len(pooled)} fires went to the dispatch pool instead")
    pipeline.drain(60)
    pipeline.close()
    later = cpu_ms[1:] or cpu_ms
    return {"jobs": jobs, "users": users, "rounds": rounds, "cpu_ms_per_run": [round(v, 3) for v in cpu_ms],
            "median_cpu_ms_per_run": round(statistics.median(later), 3),
            **({"median_server_cpu_ms_per_run": round(statistics.median(server_ms[1:] or server_ms), 3)}
               if server_ms else {}),
            "seconds": [round(v, 2) for v in seconds]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=DATABASES, default="sqlite")
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--users", type=int, default=0, help="active users told of every run")
    parser.add_argument("--receive", metavar="PORT_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receive:
        receive(args.receive)
        return
    speed = python_speed_ms()
    with tempfile.TemporaryDirectory(prefix="cronhub-burst-") as tmp:
        url = prepare_database(args.database, Path(tmp))
        port_file = Path(tmp, "port")
        receiver = subprocess.Popen([sys.executable, __file__, "--receive", str(port_file)])
        try:
            while not port_file.exists() or not port_file.read_text():
                time.sleep(0.05)
            os.environ.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "cronhub.settings",
                               "TESTING": "true", "CRONHUB_READ_DOT_ENV": "false", "LOG_LEVEL": "info",
                               "WEBHOOK_BLOCK_PRIVATE": "false"})
            sys.path.insert(0, str(ROOT))
            os.chdir(ROOT)
            result = drive(args.jobs, args.rounds, int(port_file.read_text()), args.users, args.database)
        finally:
            receiver.terminate()
            receiver.wait()
    print(json.dumps({"database": args.database, "python_loop_ms": speed, **result}))


if __name__ == "__main__":
    main()
