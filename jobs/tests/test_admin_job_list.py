"""The job list in the admin: columns, filters, search, actions and query cost."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cronhub.testing.factories import JobExecutionFactory, JobFactory, PicTeamFactory, UserFactory
from jobs.models import Job, JobExecution, scheduler_today

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:jobs_job_changelist")


def test_the_list_shows_schedule_description_next_run_and_last_status(staff):
    job = JobFactory(name="nightly-web", cron_expression="0 9 * * 1-5", timezone="America/New_York")
    JobExecutionFactory(job=job, status="failed")

    response = staff.get(CHANGELIST)

    assert response.status_code == 200
    body = response.content.decode()
    assert "nightly-web" in body
    assert "<code>0 9 * * 1-5</code>" in body
    assert job.describe_schedule() in body
    # In the viewer's zone (the scheduler's, Asia/Tokyo, by default), not the job's.
    next_run = job.next_execution_at().astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert next_run.strftime("%Y-%m-%d %H:%M:%S JST") in body
    assert "cronhub-status-failed" in body


def test_a_job_that_never_ran_says_so_and_a_paused_job_has_no_next_run(staff):
    JobFactory(name="fresh-job")
    JobFactory(name="paused-job", is_active=False)

    body = staff.get(CHANGELIST).content.decode()

    assert "never run" in body
    assert "paused" in body


def test_end_dates_within_30_days_and_past_are_highlighted(staff):
    today = scheduler_today()
    JobFactory(name="ends-soon", end_date=today + dt.timedelta(days=5))
    JobFactory(name="ended", end_date=today - dt.timedelta(days=1))
    JobFactory(name="ends-later", end_date=today + dt.timedelta(days=200))

    body = staff.get(CHANGELIST).content.decode()

    assert body.count("cronhub-end-soon") == 1
    assert body.count("cronhub-end-expired") == 1
    assert f"{(today + dt.timedelta(days=5)).isoformat()} (in 5 d)" in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"target": "github_actions"}, {"gh-job"}),
        ({"target": "webhook"}, {"hook-job", "soon-job"}),
        ({"last_status": "failed"}, {"gh-job"}),
        ({"last_status": "never"}, {"hook-job", "soon-job"}),
        ({"ending": "soon"}, {"soon-job"}),
        ({"pic_team": "mobile-qa"}, {"soon-job"}),
        ({"category": "regression"}, {"hook-job"}),
        ({"is_active__exact": "0"}, {"hook-job"}),
        ({"q": "api-tests"}, {"gh-job"}),
        ({"q": "example.org"}, {"hook-job"}),
    ],
)
@pytest.mark.dbcompat  # the last-status subquery and the filters are database SQL
def test_filters_and_search_narrow_the_list(staff, query, expected):
    PicTeamFactory(name="Mobile QA", slug="mobile-qa")
    gh = JobFactory(name="gh-job", github=True)
    JobExecutionFactory(job=gh, status="success", started_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    JobExecutionFactory(job=gh, status="failed")
    JobFactory(
        name="hook-job", target_url="https://hooks.example.org/x", category="regression", is_active=False
    )
    JobFactory(name="soon-job", pic_team="mobile-qa", end_date=scheduler_today() + dt.timedelta(days=3))

    response = staff.get(CHANGELIST, query)

    assert response.status_code == 200
    assert {job.name for job in response.context["cl"].result_list} == expected


def test_pause_and_resume_actions_flip_is_active_and_refuse_to_resume_expired_jobs(staff):
    active = JobFactory(name="a")
    expired = JobFactory(name="b", is_active=False, end_date=scheduler_today() - dt.timedelta(days=2))
    before = Job.objects.get(pk=active.pk).updated_at

    response = staff.post(CHANGELIST, {"action": "pause_jobs", "_selected_action": [active.pk]}, follow=True)
    assert "Paused 1 job(s)" in response.content.decode()
    active.refresh_from_db()
    assert active.is_active is False and active.updated_at > before

    response = staff.post(
        CHANGELIST, {"action": "resume_jobs", "_selected_action": [active.pk, expired.pk]}, follow=True
    )
    body = response.content.decode()
    assert "Resumed 1 job(s)" in body
    assert "Not resumed (past end date): b" in body
    active.refresh_from_db()
    expired.refresh_from_db()
    assert active.is_active is True
    assert expired.is_active is False


def _page_queries(staff, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = staff.get(url)
    assert response.status_code == 200
    return len(queries)


def _make_jobs(start: int, stop: int, owner) -> None:
    jobs = Job.objects.bulk_create(
        Job(
            name=f"bulk-{i:05d}",
            cron_expression=f"{i % 60} * * * *",
            timezone="Asia/Tokyo",
            target_url="http://127.0.0.1:9/hook",
            pic_team="platform-qa",
            created_by=owner,
            end_date=scheduler_today() + dt.timedelta(days=i % 90),
        )
        for i in range(start, stop)
    )
    JobExecution.objects.bulk_create(
        JobExecution(job=job, status="success", trigger_type="manual") for job in jobs
    )


def test_job_and_execution_lists_cost_the_same_queries_for_10_and_1000_jobs(staff):
    owner = UserFactory()
    _make_jobs(0, 10, owner)
    small = (
        _page_queries(staff, CHANGELIST + "?all="),
        _page_queries(staff, reverse("admin:jobs_jobexecution_changelist") + "?all="),
    )

    _make_jobs(10, 1000, owner)
    assert Job.objects.count() == 1000
    large = (
        _page_queries(staff, CHANGELIST + "?all="),
        _page_queries(staff, reverse("admin:jobs_jobexecution_changelist") + "?all="),
    )

    assert large == small
    # and "show all" really rendered every row
    assert staff.get(CHANGELIST + "?all=").content.decode().count('class="action-select"') == 1000
