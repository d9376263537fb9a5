"""The Slack settings admin asks the API's rules: the same refusal, with the same message,
on the field it concerns; and a save writes the row once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cronhub.testing.factories import SlackSettingsFactory
from integrations.models import SlackSettings

pytestmark = pytest.mark.django_db

SECRET = "https://hooks.slack.com/services/T000/B000/XXXX"


def change_url(row):
    return reverse("admin:integrations_slacksettings_change", args=[row.pk])


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"webhook_url": SECRET, "channel": "#" * 256}, "channel"),
        ({"webhook_url": "https://hooks.slack.com/services/****"}, "webhook_url"),
        ({"webhook_url": "", "is_enabled": True}, "webhook_url"),
    ],
)
def test_a_refusal_is_the_api_s_and_on_its_field(staff, api, admin_user, form, field):
    row = SlackSettingsFactory(is_enabled=False, webhook_url=SECRET, channel="#a")
    posted = {key: ("on" if value is True else value) for key, value in form.items()}

    response = staff.post(change_url(row), posted)

    answer = api(admin_user).put("/api/v2/settings/slack", form, format="json").json()
    assert response.context["adminform"].form.errors == {field: [answer["message"]]}
    row.refresh_from_db()
    assert (row.is_enabled, row.webhook_url, row.channel) == (False, SECRET, "#a")


def test_a_save_updates_the_row_once(staff):
    row = SlackSettingsFactory(is_enabled=False, webhook_url=SECRET, channel="#a")

    with CaptureQueriesContext(connection) as queries:
        response = staff.post(change_url(row), {"is_enabled": "on", "webhook_url": "https://hooks.slack.com/****",
                                                "channel": "#b"})

    assert response.status_code == 302
    assert sum(1 for q in queries if q["sql"].startswith('UPDATE "slack_settings"')) == 1
    row = SlackSettings.objects.get()
    assert (row.is_enabled, row.webhook_url, row.channel) == (True, SECRET, "#b")
