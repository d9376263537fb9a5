"""/api/v2/auth/users/{id}/preferences and /ui-preferences."""

import pytest

from accounts.models import NotificationPreferences, UiPreferences
from cronhub.testing.factories import NotificationPreferencesFactory

pytestmark = pytest.mark.django_db

DEFAULTS = {
    "email_on_job_success": True,
    "email_on_job_failure": True,
    "email_on_job_disabled": False,
    "browser_notifications": False,
    "daily_digest": False,
    "weekly_report": False,
}
DEFAULT_COLUMNS = {
    "pic_team": True,
    "end_date": True,
    "cron_expression": False,
    "target_url": False,
    "last_execution_at": False,
}


def prefs_url(user_or_id, kind="preferences") -> str:
    return f"/api/v2/auth/users/{getattr(user_or_id, 'pk', user_or_id)}/{kind}"


# --- notification preferences ----------------------------------------------------------------


def test_the_first_read_creates_the_defaults(api, owner):
    response = api(owner).get(prefs_url(owner))

    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Notification preferences retrieved successfully"
    prefs = body["preferences"]
    assert {k: prefs[k] for k in DEFAULTS} == DEFAULTS
    assert prefs["user_id"] == owner.pk and prefs["created_at"].endswith("Z")
    assert NotificationPreferences.objects.get(user=owner).pk == prefs["id"]


@pytest.mark.dbcompat
def test_a_put_creating_the_row_uses_the_same_defaults(api, owner):
    # the old server created PUT rows with different defaults
    response = api(owner).put(prefs_url(owner), {"daily_digest": True}, format="json")

    assert response.status_code == 200
    assert response.json()["message"] == "Notification preferences updated successfully"
    assert response.json()["preferences"] == {
        **response.json()["preferences"],
        **DEFAULTS,
        "daily_digest": True,
    }
    row = NotificationPreferences.objects.get(user=owner)
    assert row.daily_digest and not row.browser_notifications and not row.weekly_report


def test_put_is_partial_by_truthiness_and_ignores_unknown_keys(api, owner):
    NotificationPreferencesFactory(user=owner)
    response = api(owner).put(
        prefs_url(owner),
        {"email_on_job_success": 0, "weekly_report": "yes", "browser_notifications": "false", "bogus": True},
        format="json",
    )
    prefs = response.json()["preferences"]
    assert prefs["email_on_job_success"] is False and prefs["weekly_report"] is True
    assert prefs["browser_notifications"] is False and prefs["email_on_job_failure"] is True
    assert "bogus" not in prefs


def test_an_empty_put_changes_nothing_but_succeeds(api, owner):
    assert api(owner).put(prefs_url(owner), {}, format="json").status_code == 200


def test_admins_manage_anyones_preferences(api, admin_user, viewer):
    assert api(admin_user).put(prefs_url(viewer), {"daily_digest": True}, format="json").status_code == 200
    assert NotificationPreferences.objects.get(user=viewer).daily_digest is True


@pytest.mark.parametrize("persona", ["owner", "viewer"])
def test_others_preferences_are_forbidden(request, api, persona, other_user):
    client = api(request.getfixturevalue(persona))
    read = client.get(prefs_url(other_user))
    write = client.put(prefs_url(other_user), data="x", content_type="text/plain")
    assert read.status_code == write.status_code == 403
    assert read.json() == {"error": "Forbidden: Cannot access other users preferences"}
    assert write.json() == {"error": "Forbidden: Cannot update other users preferences"}
    assert not NotificationPreferences.objects.filter(user=other_user).exists()


def test_preferences_checks_in_order_for_admins(api, admin_user, owner):
    client = api(admin_user)
    assert client.get(prefs_url("ghost")).json() == {"error": "User not found"}
    assert client.put(prefs_url("ghost"), data="x", content_type="text/plain").json() == {
        "error": "Content-Type must be application/json"
    }
    assert client.put(prefs_url("ghost"), {}, format="json").json() == {"error": "User not found"}
    assert client.put(prefs_url(owner), data="{", content_type="application/json").json() == {
        "error": "Invalid JSON"
    }
    assert client.put(prefs_url(owner), data='"x"', content_type="application/json").json() == {
        "error": "Invalid payload",
        "message": "JSON body must be an object.",
    }


def test_preferences_need_an_active_token(api, inactive_user):
    assert api().get(prefs_url(inactive_user)).status_code == 401
    assert api(inactive_user).get(prefs_url(inactive_user)).status_code == 401


# --- UI preferences ------------------------------------------------------------------------------


def test_ui_preferences_default_to_the_five_columns(api, owner):
    response = api(owner).get(prefs_url(owner, "ui-preferences"))
    assert response.status_code == 200
    assert response.json() == {"preferences": {"jobs_table_columns": DEFAULT_COLUMNS, **NO_PAGE_SETTINGS}}
    assert UiPreferences.objects.get(user=owner).jobs_table_columns == DEFAULT_COLUMNS


@pytest.mark.dbcompat
def test_ui_preferences_put_normalises_and_resets_unsent_keys(api, owner):
    client = api(owner)
    client.put(
        prefs_url(owner, "ui-preferences"),
        {"jobs_table_columns": {**DEFAULT_COLUMNS, "cron_expression": True}},
        format="json",
    )
    response = client.put(
        prefs_url(owner, "ui-preferences"),
        {"jobs_table_columns": {"pic_team": 0, "target_url": "yes", "extra": True}},
        format="json",
    )

    expected = {**DEFAULT_COLUMNS, "pic_team": False, "target_url": True}
    assert response.status_code == 200
    assert response.json() == {
        "preferences": {"jobs_table_columns": expected, **NO_PAGE_SETTINGS}
    }  # cron_expression, not sent, is back to its default, as on the old server
    assert UiPreferences.objects.get(user=owner).jobs_table_columns == expected
    assert (
        client.get(prefs_url(owner, "ui-preferences")).json()["preferences"]["jobs_table_columns"] == expected
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, {"error": "Missing required fields", "message": '"jobs_table_columns" is required.'}),
        (
            {"jobs_table_columns": None},
            {"error": "Missing required fields", "message": '"jobs_table_columns" is required.'},
        ),
        (
            {"jobs_table_columns": [True]},
            {"error": "Invalid payload", "message": '"jobs_table_columns" must be an object.'},
        ),
    ],
)
def test_ui_preferences_put_errors(api, owner, body, error):
    response = api(owner).put(prefs_url(owner, "ui-preferences"), body, format="json")
    assert response.status_code == 400
    assert response.json() == error
    assert not UiPreferences.objects.filter(user=owner).exists()


def test_ui_preferences_are_private(api, owner, other_user, admin_user):
    assert api(owner).get(prefs_url(other_user, "ui-preferences")).json() == {
        "error": "Forbidden: Cannot access other users preferences"
    }
    assert api(owner).put(prefs_url(other_user, "ui-preferences"), {}, format="json").json() == {
        "error": "Forbidden: Cannot update other users preferences"
    }
    assert api(admin_user).get(prefs_url("ghost", "ui-preferences")).status_code == 404
    assert (
        api(admin_user)
        .put(prefs_url(other_user, "ui-preferences"), {"jobs_table_columns": {}}, format="json")
        .status_code
        == 200
    )


def test_a_malformed_stored_value_reads_as_defaults(api, owner):
    UiPreferences.objects.create(user=owner, jobs_table_columns=["broken"])
    assert api(owner).get(prefs_url(owner, "ui-preferences")).json() == {
        "preferences": {"jobs_table_columns": DEFAULT_COLUMNS, **NO_PAGE_SETTINGS}
    }


NO_PAGE_SETTINGS = {"language": None, "timezone": None}


@pytest.mark.dbcompat
def test_the_pages_language_and_zone_can_be_set_alone_and_keep_the_columns(api, owner):
    client = api(owner)
    columns = {**DEFAULT_COLUMNS, "cron_expression": True}
    client.put(prefs_url(owner, "ui-preferences"), {"jobs_table_columns": columns}, format="json")

    response = client.put(prefs_url(owner, "ui-preferences"),
                          {"language": "ja", "timezone": "America/New_York"}, format="json")

    assert response.status_code == 200
    assert response.json() == {"preferences": {"jobs_table_columns": columns, "language": "ja",
                                               "timezone": "America/New_York"}}
    back = client.put(prefs_url(owner, "ui-preferences"), {"language": None, "timezone": ""}, format="json")
    assert back.json()["preferences"] == {"jobs_table_columns": columns, **NO_PAGE_SETTINGS}


@pytest.mark.parametrize(("body", "message"), [
    ({"language": "fr"}, '"language" must be one of: en, ja (or null to follow the browser).'),
    ({"timezone": "Mars/Olympus"},
     '"timezone" must be an IANA time zone such as Asia/Tokyo (or null for the scheduler\'s zone).'),
    ({"language": "ja", "timezone": 9}, '"timezone" must be an IANA time zone such as Asia/Tokyo '
                                        '(or null for the scheduler\'s zone).'),
])
def test_a_bad_language_or_zone_is_refused_and_nothing_is_stored(api, owner, body, message):
    response = api(owner).put(prefs_url(owner, "ui-preferences"), body, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid payload", "message": message}
    assert not UiPreferences.objects.filter(user=owner).exists()
