"""/api/v2/settings/slack: admin only, the webhook URL masked when read."""

import pytest

from cronhub.testing.factories import SlackSettingsFactory
from integrations.models import SlackSettings

pytestmark = pytest.mark.django_db

SLACK = "/api/v2/settings/slack"
REAL_URL = "https://hooks.slack.com/services/T000/B000/XXXX"
MASKED = "https://hooks.slack.com/****"


def test_the_first_read_creates_a_disabled_row(api, admin_user):
    response = api(admin_user).get(SLACK)

    assert response.status_code == 200
    settings = response.json()["slack_settings"]
    assert settings == {**settings, "is_enabled": False, "webhook_url": None, "channel": None}
    assert set(settings) == {"id", "is_enabled", "webhook_url", "channel", "created_at", "updated_at"}
    assert SlackSettings.objects.get().pk == settings["id"]


def test_reads_mask_the_webhook_url(api, admin_user):
    SlackSettingsFactory()
    settings = api(admin_user).get(SLACK).json()["slack_settings"]
    assert settings["webhook_url"] == MASKED
    assert "T000" not in str(settings)
    assert settings["is_enabled"] is True and settings["channel"] == "#qa-alerts"


@pytest.mark.dbcompat
def test_sending_the_masked_value_back_keeps_the_stored_url(api, admin_user):
    SlackSettingsFactory()
    client = api(admin_user)
    shown = client.get(SLACK).json()["slack_settings"]

    response = client.put(
        SLACK,
        {"is_enabled": shown["is_enabled"], "webhook_url": shown["webhook_url"], "channel": "#other"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["message"] == "Slack settings updated"
    assert response.json()["slack_settings"]["webhook_url"] == MASKED
    row = SlackSettings.objects.get()
    assert row.webhook_url == REAL_URL and row.channel == "#other"


def test_a_new_url_replaces_the_stored_one_trimmed(api, admin_user):
    SlackSettingsFactory()
    api(admin_user).put(
        SLACK, {"webhook_url": "  https://hooks.slack.com/services/NEW/ONE/zzz "}, format="json"
    )
    assert SlackSettings.objects.get().webhook_url == "https://hooks.slack.com/services/NEW/ONE/zzz"


def test_empty_values_clear_url_and_channel(api, admin_user):
    SlackSettingsFactory(is_enabled=False)
    response = api(admin_user).put(SLACK, {"webhook_url": "  ", "channel": None}, format="json")
    assert response.status_code == 200
    row = SlackSettings.objects.get()
    assert row.webhook_url is None and row.channel is None


@pytest.mark.dbcompat
def test_enabling_needs_a_webhook_url_and_a_failed_put_saves_nothing(api, admin_user):
    # the old server saved the other fields anyway
    SlackSettingsFactory(is_enabled=False, webhook_url=None, channel="#before")
    response = api(admin_user).put(SLACK, {"is_enabled": True, "channel": "#after"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "error": "Invalid settings",
        "message": "webhook_url is required when Slack is enabled.",
    }
    row = SlackSettings.objects.get()
    assert row.is_enabled is False and row.channel == "#before"


def test_clearing_the_url_of_an_enabled_row_is_refused(api, admin_user):
    SlackSettingsFactory()
    response = api(admin_user).put(SLACK, {"webhook_url": None}, format="json")
    assert response.status_code == 400
    assert SlackSettings.objects.get().webhook_url == REAL_URL


def test_a_foreign_masked_value_is_refused_rather_than_stored(api, admin_user):
    SlackSettingsFactory(is_enabled=False, webhook_url=None)
    response = api(admin_user).put(SLACK, {"webhook_url": "https://evil.example/****"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid settings"
    assert SlackSettings.objects.get().webhook_url is None


@pytest.mark.parametrize("body", [{"webhook_url": 5}, {"channel": ["#x"]}, {"channel": "#" + "x" * 300}])
def test_wrong_types_and_lengths_are_400s(api, admin_user, body):
    response = api(admin_user).put(SLACK, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid settings"


def test_is_enabled_is_read_by_truthiness(api, admin_user):
    SlackSettingsFactory()
    api(admin_user).put(SLACK, {"is_enabled": "false"}, format="json")
    assert SlackSettings.objects.get().is_enabled is False
    api(admin_user).put(SLACK, {"is_enabled": 1}, format="json")
    assert SlackSettings.objects.get().is_enabled is True


def test_put_checks_content_type_and_json(api, admin_user):
    client = api(admin_user)
    assert client.put(SLACK, data="x", content_type="text/plain").json() == {
        "error": "Content-Type must be application/json"
    }
    assert client.put(SLACK, data="{", content_type="application/json").json() == {"error": "Invalid JSON"}
    assert client.put(SLACK, data="1", content_type="application/json").json() == {
        "error": "Invalid payload",
        "message": "JSON body must be an object.",
    }


@pytest.mark.parametrize("persona", ["owner", "viewer"])
def test_slack_settings_are_admin_only(request, api, persona):
    client = api(request.getfixturevalue(persona))
    for response in (client.get(SLACK), client.put(SLACK, {"is_enabled": False}, format="json")):
        assert response.status_code == 403
        assert response.json() == {"detail": "Admin access required"}
    assert not SlackSettings.objects.exists()


def test_anonymous_and_inactive_get_401(api, inactive_user):
    assert api().get(SLACK).json() == {"detail": "Not authenticated"}
    assert api(inactive_user).put(SLACK, {}, format="json").status_code == 401
