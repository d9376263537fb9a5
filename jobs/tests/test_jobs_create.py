"""POST /api/v2/jobs: every check in the order clients meet them, and the old server's faults fixed."""

import datetime as dt

import pytest

from jobs.models import Job, scheduler_today
from notifications.models import Notification

URL = "/api/v2/jobs"


def post(client, body):
    return client.post(URL, body, format="json")


def test_an_owner_creates_a_github_job_and_gets_both_computed_fields(api, owner, other_user, create_body):
    response = post(api(owner), create_body)
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "Job created successfully"
    job = body["job"]
    assert job["name"] == "Nightly API regression"
    assert job["created_by"] == owner.id
    assert job["is_active"] is True
    assert job["category"] == "general"
    assert job["timezone"] == "Asia/Tokyo"
    assert job["metadata"] == {"branchDetails": "main"}
    assert job["notification_emails"] == []
    assert job["last_execution_at"] is None
    assert job["next_execution_at"].endswith("T03:00:00+09:00")
    assert job["created_at"].endswith("Z")
    stored = Job.objects.get(pk=job["id"])
    assert (stored.github_owner, stored.github_repo, stored.github_workflow_name) == (
        "acme-qa",
        "api-tests",
        "nightly.yml",
    )
    # "New Job Created" goes to every user, bystanders included.
    notice = Notification.objects.get(user=other_user)
    assert notice.title == "New Job Created" and notice.related_job_id == stored.id
    assert notice.message == f'Job "Nightly API regression" was created by {owner.email}.'


def test_a_job_can_run_in_its_own_time_zone(api, owner, create_body):
    response = post(api(owner), {**create_body, "timezone": "America/New_York"})
    assert response.status_code == 201
    job = response.json()["job"]
    assert job["timezone"] == "America/New_York"
    assert job["next_execution_at"][-6:] in ("-05:00", "-04:00")
    assert Job.objects.get(pk=job["id"]).timezone == "America/New_York"


def test_an_unknown_time_zone_is_a_400(api, owner, create_body):
    response = post(api(owner), {**create_body, "timezone": "Mars/Olympus"})
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid timezone"
    assert not Job.objects.exists()


def test_a_viewer_cannot_create_a_job(api, viewer, create_body):
    response = post(api(viewer), create_body)
    assert response.status_code == 403
    assert response.json() == {"detail": "User or admin access required"}
    assert not Job.objects.exists()


def test_anonymous_cannot_create_a_job(api, create_body):
    response = post(api(), create_body)
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}


def test_an_admin_can_create_a_job(api, admin_user, create_body):
    assert post(api(admin_user), create_body).status_code == 201
    assert Job.objects.get().created_by == admin_user


def test_content_type_must_be_json(api, owner, create_body):
    response = api(owner).post(URL, "name=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.json() == {"error": "Content-Type must be application/json"}


def test_invalid_json_is_a_400(api, owner):
    response = api(owner).post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid JSON"}


def test_a_json_array_reports_all_three_required_fields_missing(api, owner):
    response = api(owner).post(URL, "[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "error": "Missing required fields",
        "missing_fields": ["name", "cron_expression", "end_date"],
    }


def test_only_the_missing_keys_are_listed(api, owner, create_body):
    del create_body["cron_expression"]
    response = post(api(owner), create_body)
    assert response.json()["missing_fields"] == ["cron_expression"]


@pytest.mark.parametrize("name", ["", "   ", None])
def test_an_empty_or_null_name_is_refused_not_stored_as_none(api, owner, create_body, name):
    response = post(api(owner), {**create_body, "name": name})
    assert response.status_code == 400
    assert response.json() == {"error": "Job name cannot be empty"}
    assert not Job.objects.filter(name="None").exists()


def test_a_duplicate_name_is_refused(api, owner, create_body):
    assert post(api(owner), create_body).status_code == 201
    response = post(api(owner), {**create_body, "name": "  Nightly API regression "})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Duplicate job name",
        "message": ('A job with the name "Nightly API regression" already exists. Please use a unique name.'),
    }
    assert Job.objects.count() == 1


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("", "required"),
        ("* * * *", "exactly 5 fields"),
        ("61 * * * *", "minute"),
    ],
)
def test_an_invalid_cron_expression_is_a_400_naming_the_problem(
    api, owner, create_body, expression, fragment
):
    response = post(api(owner), {**create_body, "cron_expression": expression})
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid cron expression"
    assert fragment in response.json()["message"]


def test_a_shorthand_target_url_becomes_the_github_fields(api, owner, create_body):
    body = {**create_body, "target_url": "acme-qa/web-tests/smoke.yml"}
    del body["github_owner"], body["github_repo"], body["github_workflow_name"]
    job = post(api(owner), body).json()["job"]
    assert job["target_url"] is None
    assert (job["github_owner"], job["github_repo"], job["github_workflow_name"]) == (
        "acme-qa",
        "web-tests",
        "smoke.yml",
    )


def test_a_target_url_without_scheme_is_refused(api, owner, create_body):
    response = post(api(owner), {**create_body, "target_url": "example.com/hook"})
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid target_url"
    assert response.json()["message"].startswith("target_url must include scheme (http:// or https://).")


def test_null_github_fields_are_stored_as_null_not_the_text_none(api, owner, create_body):
    body = {
        **create_body,
        "target_url": "https://hooks.example.com/x",
        "github_owner": None,
        "github_repo": None,
        "github_workflow_name": None,
    }
    job = post(api(owner), body).json()["job"]
    assert job["github_owner"] is None
    assert Job.objects.get().github_owner is None


def test_an_unknown_category_is_refused_but_a_disabled_one_is_accepted(api, owner, create_body, regression):
    response = post(api(owner), {**create_body, "category": "nope"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Invalid category",
        "message": ("Unknown category. Create it in Settings → Categories first, or choose General."),
    }
    regression.is_active = False
    regression.save()
    response = post(api(owner), {**create_body, "category": "Regression"})
    assert response.status_code == 201
    assert response.json()["job"]["category"] == "regression"


@pytest.mark.parametrize("value", [42, ["a"], {"a": 1}])
def test_a_non_string_category_is_a_400_not_a_500(api, owner, create_body, value):
    response = post(api(owner), {**create_body, "category": value})
    assert response.status_code == 400


def test_metadata_must_be_an_object(api, owner, create_body):
    response = post(api(owner), {**create_body, "metadata": [1]})
    assert response.json() == {"error": "Invalid metadata", "message": "metadata must be a JSON object"}


@pytest.mark.parametrize("emails", ["a@x.com", None, ["a@x.com", 5]])
def test_notification_emails_must_be_a_list_of_strings_when_enabled(api, owner, create_body, emails):
    response = post(
        api(owner), {**create_body, "enable_email_notifications": True, "notification_emails": emails}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid notification_emails"


def test_emails_are_kept_only_when_notifications_are_enabled(api, owner, create_body):
    job = post(api(owner), {**create_body, "notification_emails": ["a@x.com"], "notify_on_success": True})
    assert job.json()["job"]["notification_emails"] == []
    assert job.json()["job"]["notify_on_success"] is False
    body = {
        **create_body,
        "name": "second",
        "enable_email_notifications": "yes",
        "notification_emails": [" a@x.com ", "b@x.com"],
        "notify_on_success": 1,
    }
    job = post(api(owner), body).json()["job"]
    assert job["notification_emails"] == ["a@x.com", "b@x.com"]
    assert job["notify_on_success"] is True
    assert Job.objects.get(name="second").notification_emails == "a@x.com,b@x.com"


def test_the_string_false_does_not_enable_notifications(api, owner, create_body):
    job = post(api(owner), {**create_body, "enable_email_notifications": "false"}).json()["job"]
    assert job["enable_email_notifications"] is False


@pytest.mark.parametrize(
    ("end_date", "error", "message"),
    [
        ("31-12-2099", "Invalid end_date", "Invalid end_date. Use YYYY-MM-DD."),
        (None, "Missing required fields", '"end_date" is required (YYYY-MM-DD).'),
        ("", "Missing required fields", '"end_date" is required (YYYY-MM-DD).'),
        ("2020-01-01", "Invalid end_date", "end_date must be today or in the future (JST)."),
    ],
)
def test_end_date_rules(api, owner, create_body, end_date, error, message):
    response = post(api(owner), {**create_body, "end_date": end_date})
    assert response.status_code == 400
    assert response.json() == {"error": error, "message": message}


def test_today_is_a_valid_end_date(api, owner, create_body):
    response = post(api(owner), {**create_body, "end_date": scheduler_today().isoformat()})
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("team_value", "message"),
    [
        (None, "PIC team is required. Create one in Settings → PIC Teams."),
        ("ghosts", "Unknown PIC team. Create it in Settings → PIC Teams first."),
    ],
)
def test_pic_team_is_required_and_must_exist(api, owner, create_body, team_value, message):
    response = post(api(owner), {**create_body, "pic_team": team_value})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid PIC team", "message": message}


def test_a_disabled_pic_team_is_refused(api, owner, create_body, team):
    team.is_active = False
    team.save()
    response = post(api(owner), create_body)
    assert response.json()["message"] == (
        "PIC team is disabled. Enable it in Settings → PIC Teams or choose another."
    )


def test_pic_team_slug_and_display_name_both_resolve(api, owner, create_body):
    body = {**create_body, "pic_team": "", "pic_team_slug": "Platform QA"}
    assert post(api(owner), body).json()["job"]["pic_team"] == "platform-qa"


def test_repo_and_workflow_without_owner_use_the_default_owner(api, owner, create_body, settings):
    settings.DEFAULT_GITHUB_OWNER = "example-org"
    body = {**create_body, "github_owner": ""}
    assert post(api(owner), body).json()["job"]["github_owner"] == "example-org"


def test_no_target_at_all_is_refused(api, owner, create_body):
    body = {**create_body, "github_repo": None, "github_owner": None}
    response = post(api(owner), body)
    assert response.status_code == 400
    assert response.json()["error"] == "Missing target configuration"


def test_is_active_is_ignored_on_create(api, owner, create_body):
    assert post(api(owner), {**create_body, "is_active": False}).json()["job"]["is_active"] is True


@pytest.mark.parametrize(("field", "length"), [("name", 256), ("target_url", 501)])
def test_values_longer_than_their_column_are_400s(api, owner, create_body, field, length):
    value = "https://" + "x" * length if field == "target_url" else "x" * length
    response = post(api(owner), {**create_body, field: value})
    assert response.status_code == 400
    assert not Job.objects.exists()


def test_text_with_a_nul_character_is_refused_before_the_database(api, owner, create_body):
    response = post(api(owner), {**create_body, "metadata": {"a": "x\u0000y"}})
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid payload"


def test_the_end_date_is_compared_in_the_scheduler_zone(api, owner, create_body):
    yesterday = scheduler_today() - dt.timedelta(days=1)
    response = post(api(owner), {**create_body, "end_date": yesterday.isoformat()})
    assert response.status_code == 400
