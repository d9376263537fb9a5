"""The 10:00 burst on one GitHub token: N GitHub jobs due in the same minute, GitHub's secondary limit.

    .venv/bin/python benchmarks/github_rate_burst.py                          # 100 jobs, 80 a minute
    .venv/bin/python benchmarks/github_rate_burst.py --database postgres      # needs a local PostgreSQL
    .venv/bin/python benchmarks/github_rate_burst.py --jobs 600 --per-minute 80 --per-hour 500

A fresh database (as ``scheduler_lateness.py``), N ``workflow_dispatch`` jobs all due at one fire
time, one real ``manage.py runscheduler`` process (on the shifted test clock, so the fire time
is a few seconds away) and the local fake GitHub with a secondary limit of ``--per-minute``
dispatches per sliding minute (beyond it: 403 + ``retry-after``), at true scale (60 s windows).
Reported: how many dispatches went out and how many runs failed, the dispatches that came
beyond GitHub's limit (must be 0), when the budget reopened (first dispatch + 60 s) and how long
after that the last waiting dispatch went out, and the lateness the rate limit added per run
(``rate_limit_wait_seconds``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import scheduler_lateness

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--per-minute", type=int, default=80)
    parser.add_argument("--per-hour", type=int, default=500)
    parser.add_argument("--workers", type=int, default=10, help="SCHEDULER_MAX_WORKERS")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cronhub-github-burst-"))
    try:
        result = run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result, indent=2))
    sys.exit(0 if result["passed"] else 1)


def run(args, workdir: Path) -> dict:
    url = scheduler_lateness.prepare_database(args.database, workdir)
    os.environ.update({"DATABASE_URL": url, "TESTING": "true", "CRONHUB_READ_DOT_ENV": "false",
                       "DJANGO_SETTINGS_MODULE": "cronhub.settings"})
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from cronhub.testing.servers import FakeGitHub
    from jobs.models import Job, JobExecution

    fake = FakeGitHub().start()
    fake.secondary_limit(args.per_minute, window=60.0)
    lead = 15.0
    real = time.time()
    boundary = math.ceil((real + lead) / 60) * 60
    offset = boundary - lead - real
    fire_at = dt.datetime.fromtimestamp(boundary, dt.UTC)
    end = dt.date.today() + dt.timedelta(days=30)
    Job.objects.bulk_create([
        Job(name=f"launcher {i:04}", cron_expression=f"{fire_at.minute} {fire_at.hour} * * *", timezone="UTC",
            github_owner="acme", github_repo="qa-launcher", github_workflow_name=f"suite-{i}.yml",
            end_date=end) for i in range(args.jobs)])
    log_path = workdir / "scheduler.log"
    env = {**os.environ, "SCHEDULER_MAX_WORKERS": str(args.workers),
           "SCHEDULER_LOCK_PATH": str(workdir / "lock"), "SCHEDULER_HEARTBEAT_SECONDS": "5",
           "PYTHONUNBUFFERED": "1", "GITHUB_API_URL": fake.url,
           "GITHUB_TOKEN": FakeGitHub.TOKEN, "GITHUB_SECONDARY_PER_MINUTE": str(args.per_minute),
           "GITHUB_SECONDARY_PER_HOUR": str(args.per_hour), "GITHUB_RATE_LIMIT_MAX_WAIT_SECONDS": "3600"}
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "jobs.tests.clocked_scheduler", f"{offset:.6f}"],
                                   cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    rows = JobExecution.objects.filter(scheduled_for=fire_at)
    try:
        minutes = max(1, math.ceil(args.jobs / args.per_minute))
        give_up = time.time() + lead + 60 * (minutes + 1) + 60
        while time.time() < give_up:
            if rows.count() == args.jobs and not rows.filter(status="running").exists():
                break
            time.sleep(0.5)
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        fake.stop()
    statuses: dict[str, int] = {}
    for status in rows.values_list("status", flat=True):
        statuses[status] = statuses.get(status, 0) + 1
    accepted = fake.accepted_dispatch_times
    waits = sorted(w for w in rows.values_list("rate_limit_wait_seconds", flat=True) if w is not None)
    first_window = accepted[: args.per_minute]
    waiting = accepted[args.per_minute:]
    reopened = accepted[0] + 60 if accepted else None
    result = {
        "database": args.database, "jobs": args.jobs, "per_minute": args.per_minute,
        "statuses": statuses, "dispatched": len(accepted), "beyond_budget": fake.beyond_budget,
        "first_window_spread_s": round(first_window[-1] - first_window[0], 3) if first_window else None,
        "first_dispatch_after_fire_s": round(accepted[0] + offset - boundary, 3) if accepted else None,
        "last_waiting_after_reopen_s": round(max(waiting) - reopened, 3) if waiting else None,
        "delayed_runs": len(waits),
        "rate_limit_wait_p50_s": round(scheduler_lateness.percentile(waits, 0.5), 3) if waits else None,
        "rate_limit_wait_max_s": round(waits[-1], 3) if waits else None,
    }
    result["passed"] = (statuses.get("success", 0) == args.jobs and fake.beyond_budget == 0
                        and len(accepted) == args.jobs)
    return result


if __name__ == "__main__":
    main()
