import datetime as dt

import pytest

from cronhub.testing.factories import JobFactory
from jobs.models import scheduler_today

pytestmark = pytest.mark.django_db


def test_a_job_is_valid_through_its_end_date_and_expired_the_day_after():
    job = JobFactory.build(end_date=dt.date(2026, 3, 31))
    assert not job.is_expired(dt.date(2026, 3, 31))
    assert job.is_expired(dt.date(2026, 4, 1))
    assert not JobFactory.build(end_date=None).is_expired(dt.date(2099, 1, 1))


def test_today_is_the_scheduler_zones_date(settings):
    settings.SCHEDULER_TIMEZONE = "Asia/Tokyo"
    late_utc_evening = dt.datetime(2026, 3, 31, 15, 30, tzinfo=dt.UTC)  # 00:30 JST on April 1st
    assert scheduler_today(late_utc_evening) == dt.date(2026, 4, 1)


def test_a_github_job_shows_owner_repo_and_workflow_as_its_target():
    job = JobFactory.build(github=True)
    assert job.execution_type == "github_actions"
    assert job.target_display == "acme/api-tests/nightly.yml"
    webhook = JobFactory.build(target_url="https://hooks.example.com/x")
    assert webhook.execution_type == "webhook" and webhook.target_display == "https://hooks.example.com/x"


def test_new_jobs_default_to_the_scheduler_time_zone(settings):
    from jobs.models import Job

    settings.SCHEDULER_TIMEZONE = "Europe/Paris"
    assert Job().timezone == "Europe/Paris"
