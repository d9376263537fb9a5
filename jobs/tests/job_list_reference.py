"""A fixed set of jobs whose ``GET /jobs`` body was captured from the list's first
implementation (``fixtures/job_list_reference.json``): the list without parameters
must keep answering exactly that for the existing clients.

Recapture (only when the contract itself changes on purpose):

    TESTING=true CRONHUB_READ_DOT_ENV=false .venv/bin/python -m pytest -q \
        jobs/tests/test_jobs_list_paging.py --capture-reference
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.utils import timezone

from accounts.models import Role, User
from jobs.models import Job, JobExecution

REFERENCE = Path(__file__).parent / "fixtures" / "job_list_reference.json"
NOW = dt.datetime(2026, 3, 2, 0, 59, 30, 250000, tzinfo=dt.UTC)  # a Monday, 09:59:30 in Tokyo
BASE = dt.datetime(2026, 1, 5, 3, 4, 5, 678901, tzinfo=dt.UTC)

# name, cron, zone, target, github (owner, repo, workflow), metadata, category, end date, pic team,
# e-mail on, e-mails, notify on success, active
_JOBS = [
    ("nightly api", "0 3 * * *", "Asia/Tokyo", None, ("acme", "api-tests", "nightly.yml"),
     {"branchDetails": "main", "env": "STG"}, "regression", "2026-12-31", "platform-qa", True,
     "a@example.com, b@example.com", False, True),
    ("webhook ping", "*/5 * * * *", "UTC", "https://hooks.example.com/ping?x=1", None, {}, "general",
     None, None, False, None, False, True),
    ("paused one", "0 9 * * 1-5", "Asia/Tokyo", "http://127.0.0.1:9/hook", None, None, "general",
     "2026-06-30", "mobile", False, None, True, False),
    ("Unicode 日本語 ジョブ", "30 10 * * mon", "Asia/Tokyo", "https://example.jp/フック", None,
     {"名前": "値", "emoji": "\U0001f680", "nested": {"list": [1, 2.5, True, None, "x"]}},
     "smoke", "2027-01-01", "platform-qa", True, "qa@example.jp", True, True),
    ("new york", "0 8 1,15 * *", "America/New_York", None, ("org", "repo", "deploy.yaml"),
     {"ref": "release/1.2"}, "deploy", None, None, False, None, False, True),
    ("broken expression", "not a cron", "UTC", "https://example.com/x", None, {"a": 1}, "general",
     None, None, False, None, False, True),
    ("leap sunday", "0 0 29 2 */7", "Europe/London", "https://example.com/leap", None,
     {"big": 9007199254740993, "neg": -1, "float": 1e-7}, "general", None, None, False, None, False, True),
    ("list metadata", "15 10 * * 2,4", "Australia/Sydney", "https://example.com/l", None,
     ["not", "a", "dict"], "general", None, None, False, None, False, True),
    ("quotes \"and\" \\ backslash", "0 */2 * * *", "Asia/Tokyo", "https://example.com/q", None,
     {"text": "line\nbreak\ttab \"quoted\" </script>"}, "general", None, "mobile", False, None, False, True),
    ("every minute", "* * * * *", "Asia/Kolkata", "https://example.com/m", None, {}, "general",
     "2026-03-01", None, False, None, False, True),
]


def create_reference_jobs() -> list[Job]:
    """The jobs (fixed ids and times), some with executions; returns them oldest first."""
    owner = User.objects.create_user(username="ref-owner", email="owner@example.com", password="x-123456",
                                     role=Role.USER)
    User.objects.filter(pk=owner.pk).update(id="00000000-0000-4000-8000-0000000000aa")
    owner = User.objects.get(pk="00000000-0000-4000-8000-0000000000aa")
    jobs = []
    for index, (name, cron, zone, url, github, metadata, category, end, pic, email_on, emails, success,
                active) in enumerate(_JOBS):
        owner_, repo, workflow = github or (None, None, None)
        job = Job.objects.create(
            id=f"00000000-0000-4000-8000-{index:012d}", name=name, cron_expression=cron, timezone=zone,
            target_url=url, github_owner=owner_, github_repo=repo, github_workflow_name=workflow,
            metadata=metadata, category=category, end_date=dt.date.fromisoformat(end) if end else None,
            pic_team=pic, enable_email_notifications=email_on, notification_emails=emails,
            notify_on_success=success, created_by=owner if index % 3 else None, is_active=active,
        )
        moment = BASE + dt.timedelta(days=index, microseconds=index * 1111)
        Job.objects.filter(pk=job.pk).update(created_at=moment, updated_at=moment + dt.timedelta(hours=index))
        jobs.append(job)
    for index, job in enumerate(jobs[:6]):
        for run in range(index % 3 + 1):
            started = NOW - dt.timedelta(hours=index, minutes=run, microseconds=run * 4321 + index)
            JobExecution.objects.create(
                id=f"00000000-0000-4000-9000-{index:06d}{run:06d}", job=job, status="success",
                trigger_type="scheduled", scheduled_for=started.replace(microsecond=0), started_at=started,
                completed_at=started + dt.timedelta(seconds=1), duration_seconds=1.0,
                execution_type=job.execution_type, target=job.target_display,
            )
    assert timezone.is_aware(NOW)
    return jobs
