"""Slack incoming-webhook delivery against a local receiver."""

import pytest

from cronhub.testing.factories import JobFactory, PicTeamFactory, SlackSettingsFactory
from integrations.slack import auto_paused_text, ending_soon_text, slack_post

pytestmark = pytest.mark.django_db


def test_a_message_is_posted_with_the_channel(slack_server, settings):
    slack_server.enable(channel="#qa-alerts")

    assert slack_post(text="hello") is True

    [request] = slack_server.requests
    assert request.method == "POST" and request.path == "/services/T000/B000/XXXX"
    assert request.json() == {"text": "hello", "channel": "#qa-alerts"}
    assert request.headers["user-agent"] == settings.OUTBOUND_USER_AGENT


def test_without_a_channel_only_the_text_is_sent(slack_server):
    slack_server.enable()

    slack_post(text="hello")

    assert slack_server.messages == [{"text": "hello"}]


def test_nothing_is_sent_while_slack_is_disabled_or_has_no_url(slack_server):
    slack = slack_server.enable()
    slack.is_enabled = False
    slack.save()
    assert slack_post(text="hello") is False
    slack.is_enabled, slack.webhook_url = True, ""
    slack.save()
    assert slack_post(text="hello") is False

    assert slack_server.requests == []


def test_a_plain_http_url_on_another_host_is_not_used():
    SlackSettingsFactory(webhook_url="http://hooks.example.com/services/x")

    assert slack_post(text="hello") is False


def test_a_failing_slack_answer_is_reported_but_never_raised(slack_server):
    slack_server.enable()
    slack_server.reply(status=500, body="invalid_payload")

    assert slack_post(text="hello") is False


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
