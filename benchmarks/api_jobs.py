"""Latency of the busiest read endpoints against a real gunicorn server.

Seeds JOBS jobs (a realistic mix of cron expressions and zones) and EXECUTIONS
executions into a fresh database, starts gunicorn on a free 127.0.0.1 port,
and reports p50/p95 of:

    GET /api/v2/jobs                          (every job, with next_execution_at)
    GET /api/v2/executions?page=1&limit=50
    GET /api/v2/executions/statistics

Usage (from the repository root):

    .venv/bin/python benchmarks/api_jobs.py                      # SQLite in a temp dir
    .venv/bin/python benchmarks/api_jobs.py --database-url postgres://postgres@127.0.0.1:5432/cronhub_bench

The PostgreSQL database named in the URL is dropped and re-created.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time

from bench_server import bench_env, fresh_database, gunicorn, percentile, run_child

EXPRESSIONS = [
    "0 3 * * *",
    "0 9 * * 1-5",
    "*/5 * * * *",
    "*/15 * * * *",
    "0 * * * *",
    "30 2 * * 0",
    "0 0 1 * *",
    "0 12 * * mon",
    "15 10 * * 2,4",
    "0 18 * * fri",
    "45 23 * * *",
    "0 6,18 * * *",
    "*/30 9-17 * * 1-5",
    "0 0 13 * 5",
    "20 4 * * 3",
    "0 8 1,15 * *",
    "10 1 * * sat",
    "0 22 * * 1",
    "5 */2 * * *",
    "0 7 * * *",
]
ZONES = ["Asia/Tokyo"] * 8 + ["UTC", "America/New_York"]


def seed(jobs: int, executions: int) -> str:
    """Runs inside a child process with Django set up; returns an admin's access token."""
    import django

    django.setup()
    import datetime as dt

    from django.utils import timezone

    from accounts.models import Role, User
    from cronhub.testing.auth import access_token_for
    from jobs.models import Job, JobExecution
    from taxonomy.models import PicTeam

    rng = random.Random(42)
    admin = User.objects.create_user(
        username="bench", email="bench@example.com", password="bench123", role=Role.ADMIN
    )
    PicTeam.objects.create(slug="platform-qa", name="Platform QA", slack_handle="@qa")
    now = timezone.now()
    end = (now + dt.timedelta(days=365)).date()
    batch = [
        Job(
            name=f"Job {index:05d}",
            cron_expression=rng.choice(EXPRESSIONS),
            timezone=rng.choice(ZONES),
            github_owner="acme",
            github_repo=f"repo-{index % 50}",
            github_workflow_name="ci.yml",
            metadata={"branchDetails": "main", "environment": "STG"},
            category="general",
            end_date=end,
            pic_team="platform-qa",
            created_by=admin,
            is_active=rng.random() < 0.8,
            created_at=now - dt.timedelta(minutes=index),
        )
        for index in range(jobs)
    ]
    Job.objects.bulk_create(batch, batch_size=1000)
    ids = list(Job.objects.values_list("id", flat=True))
    statuses = ["success"] * 7 + ["failed"] * 2 + ["running"]
    rows = []
    for index in range(executions):
        started = now - dt.timedelta(seconds=index * 30)
        state = rng.choice(statuses)
        rows.append(
            JobExecution(
                job_id=rng.choice(ids),
                status=state,
                trigger_type=rng.choice(["scheduled", "manual"]),
                started_at=started,
                completed_at=None if state == "running" else started + dt.timedelta(seconds=2),
                duration_seconds=None if state == "running" else 2.0,
                execution_type="github_actions",
                target="acme/repo/ci.yml",
                response_status=204 if state == "success" else 500,
            )
        )
        if len(rows) == 5000:
            JobExecution.objects.bulk_create(rows)
            rows = []
    JobExecution.objects.bulk_create(rows)
    return access_token_for(admin)


def build_timing(runs: int = 7) -> dict:
    """In-process cost of building the /jobs body without the per-process reuse (a cache miss)."""
    import django

    django.setup()
    from django.utils import timezone

    from jobs.api.listing import build_job_list
    from jobs.selectors import _NEXT_CACHE

    timings = []
    for index in range(runs):
        if index == 0:
            _NEXT_CACHE.clear()
        started = time.perf_counter()
        build_job_list(timezone.now())
        timings.append((time.perf_counter() - started) * 1000)
    return {"cold_first_ms": round(timings[0], 1), "median_ms": round(statistics.median(timings[1:]), 1)}


def measure(port: int, token: str, path: str, runs: int) -> dict:
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    url = f"http://127.0.0.1:{port}{path}"
    for _ in range(5):  # warm both workers (connections, schedule cache)
        session.get(url, timeout=60).raise_for_status()
    timings = []
    size = 0
    for _ in range(runs):
        started = time.perf_counter()
        response = session.get(url, timeout=60)
        timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        size = len(response.content)
    return {
        "path": path,
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(percentile(timings, 0.95), 1),
        "runs": runs,
        "bytes": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--build-timing", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        print(seed(args.jobs, args.executions))
        return
    if args.build_timing:
        print(json.dumps(build_timing()))
        return

    with tempfile.TemporaryDirectory(prefix="cronhub-bench-") as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        env = bench_env(url, tmp)
        fresh_database(url, env)
        started = time.perf_counter()
        token = run_child(__file__, ["--seed-only", "--jobs", str(args.jobs),
                                     "--executions", str(args.executions)], env)
        seeded = time.perf_counter() - started
        built = json.loads(run_child(__file__, ["--build-timing"], env))
        with gunicorn(env, args=["--workers", str(args.workers), "--log-level", "warning"]) as port:
            results = [
                measure(port, token, path, args.runs)
                for path in (
                    "/api/v2/jobs",
                    "/api/v2/executions?page=1&limit=50",
                    "/api/v2/executions/statistics",
                )
            ]
    engine = url.split(":", 1)[0]
    print(
        json.dumps(
            {
                "database": engine,
                "jobs": args.jobs,
                "executions": args.executions,
                "workers": args.workers,
                "seed_seconds": round(seeded, 1),
                "jobs_body_build_uncached": built,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
