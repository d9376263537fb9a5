"""Slack incoming-webhook delivery against a local receiver."""

import pytest

from cronhub.testing.factories import SlackSettingsFactory
from integrations.slack import slack_post

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
