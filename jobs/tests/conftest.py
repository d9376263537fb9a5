"""Fixtures for the jobs API tests: an active PIC team and a valid create body."""

import datetime as dt

import pytest

from cronhub.testing.factories import JobCategoryFactory, PicTeamFactory
from jobs.models import scheduler_today


@pytest.fixture(autouse=True)
def default_github_owner(settings):
    """The sample CSVs (the bulk-upload format of the service cronhub replaced) leave
    ``github_owner`` empty on GitHub rows: these tests run as a deployment that set
    ``DEFAULT_GITHUB_OWNER`` (there is no built-in default)."""
    settings.DEFAULT_GITHUB_OWNER = "example-org"


@pytest.fixture
def team(db):
    return PicTeamFactory(name="Platform QA", slug="platform-qa")


@pytest.fixture
def regression(db):
    return JobCategoryFactory(name="Regression", slug="regression")


@pytest.fixture
def next_month() -> str:
    return (scheduler_today() + dt.timedelta(days=30)).isoformat()


@pytest.fixture
def create_body(team, next_month):
    return {
        "name": "Nightly API regression",
        "cron_expression": "0 3 * * *",
        "github_owner": "acme-qa",
        "github_repo": "api-tests",
        "github_workflow_name": "nightly.yml",
        "end_date": next_month,
        "pic_team": "platform-qa",
        "metadata": {"branchDetails": "main"},
    }
