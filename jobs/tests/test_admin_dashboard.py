"""The admin index as a dashboard: scheduler status, upcoming runs, failures,
jobs ending soon and a 30-day chart drawn on the server."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cronhub.testing.factories import JobExecutionFactory, JobFactory
from jobs import dashboard
from jobs.models import SchedulerState, scheduler_today

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


def test_upcoming_runs_merge_every_active_job_in_time_order():
    now = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)  # 09:00 Tokyo, a Monday
    hourly = JobFactory(name="hourly", cron_expression="0 * * * *", end_date=dt.date(2026, 12, 31))
    quarter = JobFactory(name="quarter", cron_expression="15,45 * * * *", end_date=dt.date(2026, 12, 31))
    JobFactory(name="paused", cron_expression="* * * * *", is_active=False)
    JobFactory(name="expired", cron_expression="* * * * *", end_date=dt.date(2026, 3, 1))

    runs = dashboard.upcoming_runs(limit=6, now=now)

    assert [(run.job.name, run.at.astimezone(TOKYO).strftime("%H:%M")) for run in runs] == [
        ("quarter", "09:15"),
        ("quarter", "09:45"),
        ("hourly", "10:00"),
        ("quarter", "10:15"),
        ("quarter", "10:45"),
        ("hourly", "11:00"),
    ]
    assert {run.job for run in runs} == {hourly, quarter}


def test_upcoming_runs_stop_at_a_jobs_end_date():
    now = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)
    JobFactory(name="ends-today", cron_expression="0 22 * * *", end_date=dt.date(2026, 3, 2))

    runs = dashboard.upcoming_runs(now=now)

    assert [run.at.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M") for run in runs] == ["2026-03-02 22:00"]


def test_upcoming_runs_cost_the_same_queries_whatever_the_number_of_jobs():
    JobFactory.create_batch(3, cron_expression="*/5 * * * *")
    with CaptureQueriesContext(connection) as few:
        dashboard.upcoming_runs()
    JobFactory.create_batch(30, cron_expression="*/7 * * * *")
    with CaptureQueriesContext(connection) as many:
        assert len(dashboard.upcoming_runs()) == dashboard.UPCOMING_LIMIT
    assert len(many) == len(few) == 1


def test_failures_are_those_of_the_last_24_hours():
    now = timezone.now()
    recent = JobExecutionFactory(status="failed", started_at=now - dt.timedelta(hours=2))
    missed = JobExecutionFactory(status="missed", started_at=now - dt.timedelta(hours=3))
    JobExecutionFactory(status="failed", started_at=now - dt.timedelta(hours=30))
    JobExecutionFactory(status="success", started_at=now - dt.timedelta(hours=1))

    assert dashboard.recent_failures(now=now) == [recent, missed]


def test_jobs_ending_soon_are_active_jobs_within_30_days_including_expired_ones():
    today = scheduler_today()
    soon = JobFactory(end_date=today + dt.timedelta(days=10))
    expired = JobFactory(end_date=today - dt.timedelta(days=1))
    JobFactory(end_date=today + dt.timedelta(days=31))
    JobFactory(end_date=today + dt.timedelta(days=2), is_active=False)

    assert dashboard.jobs_ending_soon(today=today) == [expired, soon]


@pytest.mark.dbcompat  # hour truncation is database SQL
def test_executions_per_day_count_by_status_on_the_scheduler_calendar():
    today = dt.date(2026, 3, 10)
    # 23:30 UTC on the 8th is 08:30 on the 9th in Tokyo.
    JobExecutionFactory(status="success", started_at=dt.datetime(2026, 3, 8, 23, 30, tzinfo=dt.UTC))
    JobExecutionFactory(status="failed", started_at=dt.datetime(2026, 3, 9, 1, 0, tzinfo=dt.UTC))
    JobExecutionFactory(status="missed", started_at=dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC))
    JobExecutionFactory(status="success", started_at=dt.datetime(2026, 2, 1, 2, 0, tzinfo=dt.UTC))  # too old
    JobExecutionFactory(status="running", started_at=dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC))

    series = dashboard.executions_per_day(today=today)

    assert len(series) == 30
    assert series[0]["day"] == dt.date(2026, 2, 9) and series[-1]["day"] == today
    by_day = {point["day"]: (point["success"], point["failed"], point["missed"]) for point in series}
    assert by_day[dt.date(2026, 3, 9)] == (1, 1, 0)
    assert by_day[dt.date(2026, 3, 10)] == (0, 0, 1)
    assert sum(point["total"] for point in series) == 3


def test_the_chart_is_an_svg_with_one_bar_per_status_and_day():
    series = [
        {
            "day": dt.date(2026, 3, 1) + dt.timedelta(days=i),
            "success": i,
            "failed": 1,
            "missed": 0,
            "total": i + 1,
        }
        for i in range(30)
    ]

    svg = dashboard.chart_svg(series)

    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count('class="bar-success"') == 29  # day 0 has no successes
    assert svg.count('class="bar-failed"') == 30
    assert "bar-missed" not in svg
    assert "2026-03-02: 1 success, 1 failed, 0 missed" in svg


def test_the_index_shows_a_warning_when_no_scheduler_is_alive(staff):
    JobFactory(name="soon-to-run", cron_expression="*/5 * * * *")

    body = staff.get(INDEX).content.decode()

    assert "No scheduler is running" in body
    assert "soon-to-run" in body
    assert "<svg" in body


def test_the_index_shows_the_leader_and_its_heartbeat(staff):
    now = timezone.now()
    SchedulerState.objects.create(
        host="sched-1.internal",
        pid=4242,
        leader_since=now - dt.timedelta(hours=1),
        heartbeat_at=now,
        scheduled_jobs_count=7,
    )

    body = staff.get(INDEX).content.decode()

    assert "No scheduler is running" not in body
    assert "sched-1.internal" in body and "4242" in body
    assert "7 job(s) scheduled" in body


def test_a_stale_heartbeat_counts_as_no_scheduler(staff):
    stale = timezone.now() - dt.timedelta(minutes=10)
    SchedulerState.objects.create(host="gone", pid=1, leader_since=stale, heartbeat_at=stale)

    body = staff.get(INDEX).content.decode()

    assert "No scheduler is running" in body
    assert "gone" in body
