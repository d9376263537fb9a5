"""Slack settings in the admin: one page, webhook URL masked, the mask keeps the secret."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cronhub.testing.factories import SlackSettingsFactory
from integrations.models import SlackSettings

pytestmark = pytest.mark.django_db

SECRET = "https://hooks.slack.com/services/T000/B000/XXXX"


def change_url(row):
    return reverse("admin:integrations_slacksettings_change", args=[row.pk])


def test_the_list_goes_straight_to_the_single_row_creating_it_on_first_visit(staff):
    response = staff.get(reverse("admin:integrations_slacksettings_changelist"))

    row = SlackSettings.objects.get()
    assert response.status_code == 302
    assert response["Location"] == change_url(row)


def test_the_webhook_url_is_shown_masked(staff):
    row = SlackSettingsFactory(webhook_url=SECRET)

    body = staff.get(change_url(row)).content.decode()

    assert "T000/B000/XXXX" not in body
    assert 'value="https://hooks.slack.com/****"' in body


def test_sending_the_mask_back_keeps_the_secret_and_saves_other_fields(staff):
    row = SlackSettingsFactory(webhook_url=SECRET, channel="#old")

    response = staff.post(
        change_url(row),
        {"is_enabled": "on", "webhook_url": "https://hooks.slack.com/****", "channel": " #qa-alerts "},
    )

    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.webhook_url, row.channel, row.is_enabled) == (SECRET, "#qa-alerts", True)


def test_a_new_url_replaces_the_secret(staff):
    row = SlackSettingsFactory(webhook_url=SECRET)

    staff.post(
        change_url(row),
        {"is_enabled": "on", "webhook_url": "https://hooks.slack.com/services/NEW", "channel": ""},
    )

    row.refresh_from_db()
    assert row.webhook_url == "https://hooks.slack.com/services/NEW"
    assert row.channel is None


def test_enabling_without_a_url_is_refused_and_nothing_changes(staff):
    row = SlackSettingsFactory(is_enabled=False, webhook_url=None, channel="#a")

    response = staff.post(change_url(row), {"is_enabled": "on", "webhook_url": "", "channel": "#b"})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["webhook_url"] == [
        "webhook_url is required when Slack is enabled."
    ]
    row.refresh_from_db()
    assert (row.is_enabled, row.channel) == (False, "#a")


def test_no_second_row_can_be_added(staff):
    SlackSettingsFactory()

    assert staff.get(reverse("admin:integrations_slacksettings_add")).status_code == 403
    assert SlackSettings.objects.count() == 1
