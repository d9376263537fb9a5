"""The Slack wording: the PIC team's mention and a link to the job."""

import pytest

from cronhub.testing.factories import JobFactory, PicTeamFactory
from notifications.slack_texts import auto_paused_text, ending_soon_text

pytestmark = pytest.mark.django_db


def test_texts_mention_the_pic_team_even_when_disabled(settings):
    settings.FRONTEND_BASE_URL = "https://cron.example.com"
    PicTeamFactory(slug="qa", slack_handle="@qa-team", is_active=False)
    job = JobFactory(name="Nightly", pic_team="qa", end_date="2026-03-15")
    job.refresh_from_db()

    assert ending_soon_text(job, days_left=6) == (
        f":warning: @qa-team Job ending soon (6d): <https://cron.example.com/jobs/{job.pk}/edit|Nightly> "
        "(end_date 2026-03-15 JST)")
    assert auto_paused_text(job).startswith(":warning: @qa-team Job auto-paused (end date passed): <https://")


def test_no_mention_without_a_handle():
    PicTeamFactory(slug="quiet", slack_handle="")
    job = JobFactory(name="Nightly", pic_team="quiet", end_date="2026-03-15")
    job.refresh_from_db()

    assert ending_soon_text(job, days_left=0).startswith(":warning: Job ending soon (0d): <")
