"""Bad input never makes the API answer 500: oversized bodies are 413, JSON beyond
what the server stores and serves is 400 with a readable message, text no
database can hold (NUL, lone surrogates) is 400 on every backend, and ids or
dates no database can hold are answered like any other unknown id or bad date.

Tests marked ``dbcompat`` are the ones where PostgreSQL or MariaDB used to
fail differently from SQLite; CI repeats them there.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cronhub.testing.factories import (
    JobCategoryFactory,
    JobExecutionFactory,
    JobFactory,
    NotificationFactory,
    PicTeamFactory,
)
from jobs.models import Job, scheduler_today

pytestmark = pytest.mark.django_db

DEEP = "[" * 1000 + "]" * 1000
JSON = "application/json"


def raw(client, method: str, path: str, text: str | bytes):
    return client.generic(method, path, text, content_type=JSON)


@pytest.fixture
def team(db):
    return PicTeamFactory(name="Platform QA", slug="platform-qa")


@pytest.fixture
def create_body(team):
    return {
        "name": "Nightly",
        "cron_expression": "0 3 * * *",
        "target_url": "https://hooks.example/nightly",
        "end_date": (scheduler_today() + dt.timedelta(days=30)).isoformat(),
        "pic_team": "platform-qa",
    }


# --- request size ------------------------------------------------------------------------

TEN_MB = b'{"name": "' + b"x" * (10 * 1024 * 1024) + b'"}'


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/v2/jobs"),
    ("PUT", "/api/v2/jobs/{job}"),
    ("POST", "/api/v2/jobs/validate-cron"),
    ("POST", "/api/v2/jobs/{job}/execute"),
    ("POST", "/api/v2/job-categories"),
    ("PUT", "/api/v2/settings/slack"),
])
def test_a_body_over_the_size_limit_is_a_413_in_the_error_shape(api, admin_user, method, path):
    job = JobFactory(created_by=admin_user)
    response = raw(api(admin_user), method, path.format(job=job.id), TEN_MB)
    assert response.status_code == 413
    body = response.json()
    assert body["error"] == "Request body too large"
    assert "bytes" in body["message"]


def test_a_40_mb_login_is_refused_before_it_is_parsed(api):
    body = b'{"username": "' + b"a" * (40 * 1024 * 1024) + b'", "password": "secret123"}'
    response = raw(api(), "POST", "/api/v2/auth/login", body)
    assert response.status_code == 413
    assert response.json()["error"] == "Request body too large"


def test_a_body_just_under_the_limit_is_still_read(api, admin_user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64
    small = b'{"expression": "0 3 * * *"}'
    assert raw(api(admin_user), "POST", "/api/v2/jobs/validate-cron", small).status_code == 200
    big = b'{"expression": "0 3 * * *", "pad": "' + b"x" * 64 + b'"}'
    assert raw(api(admin_user), "POST", "/api/v2/jobs/validate-cron", big).status_code == 413


# --- JSON nesting and numbers --------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/v2/auth/login"),
    ("PUT", "/api/v2/auth/users/{user}"),
    ("PUT", "/api/v2/settings/slack"),
    ("POST", "/api/v2/job-categories"),
    ("POST", "/api/v2/jobs"),
    ("POST", "/api/v2/jobs/cron-preview"),
])
def test_deeply_nested_json_is_a_400_naming_the_limit(api, admin_user, method, path):
    response = raw(api(admin_user), method, path.format(user=admin_user.id), DEEP)
    assert response.status_code == 400
    assert "nested" in str(response.json())


def test_an_anonymous_deeply_nested_login_is_a_400(api):
    response = raw(api(), "POST", "/api/v2/auth/login", DEEP)
    assert response.status_code == 400


@pytest.mark.parametrize("metadata", [
    '{"n": 123456789012345678901234567890}',
    '{"n": -99999999999999999999}',
    '{"deep": ' + "[" * 300 + "]" * 300 + "}",
])
def test_job_metadata_the_job_list_could_not_serve_is_refused(api, owner, create_body, metadata):
    text = '{"metadata": ' + metadata + ", " + str.join(", ", (
        f'"{key}": "{value}"' for key, value in create_body.items())) + "}"
    response = raw(api(owner), "POST", "/api/v2/jobs", text)
    assert response.status_code == 400, response.content
    assert not Job.objects.exists()
    assert api(owner).get("/api/v2/jobs").status_code == 200


@pytest.mark.dbcompat
@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_in_metadata_are_a_400_not_a_duplicate_name(api, owner, create_body, number):
    text = '{"metadata": {"x": ' + number + "}, " + str.join(", ", (
        f'"{key}": "{value}"' for key, value in create_body.items())) + "}"
    response = raw(api(owner), "POST", "/api/v2/jobs", text)
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid JSON"
    assert "finite" in response.json()["message"]
    assert not Job.objects.exists()


def test_a_job_stored_before_the_limits_does_not_break_the_job_list(api, owner, team):
    deep: list = []
    for _ in range(300):
        deep = [deep]
    JobFactory(name="deep", created_by=owner, pic_team=team.slug, metadata={"deep": deep})
    JobFactory(name="huge", created_by=owner, pic_team=team.slug, metadata={"n": 2 ** 80})
    JobFactory(name="plain", created_by=owner, pic_team=team.slug, metadata={"env": "stg"})
    response = api(owner).get("/api/v2/jobs")
    assert response.status_code == 200
    jobs = {job["name"]: job for job in response.json()["jobs"]}
    assert set(jobs) == {"deep", "huge", "plain"}
    assert jobs["plain"]["metadata"] == {"env": "stg"}
    assert jobs["huge"]["metadata"] == {"n": 2 ** 80}


# --- NUL and lone surrogates in bodies -----------------------------------------------------

@pytest.mark.dbcompat
@pytest.mark.parametrize("text", ["a\\u0000b", "a\\ud800b"])
@pytest.mark.parametrize(("method", "path", "template"), [
    ("POST", "/api/v2/job-categories", '{{"name": "{}"}}'),
    ("POST", "/api/v2/pic-teams", '{{"name": "{}"}}'),
    ("PUT", "/api/v2/job-categories/{category}", '{{"name": "{}"}}'),
    ("PUT", "/api/v2/settings/slack", '{{"channel": "{}"}}'),
    ("PUT", "/api/v2/auth/users/{user}", '{{"full_name": "{}"}}'),
    ("POST", "/api/v2/auth/login", '{{"username": "{}", "password": "secret123"}}'),
])
def test_text_no_database_can_store_is_a_400_in_every_app(api, admin_user, text, method, path, template):
    category = JobCategoryFactory(name="Regression", slug="regression")
    url = path.format(category=category.id, user=admin_user.id)
    response = raw(api(admin_user), method, url, template.format(text))
    assert response.status_code == 400, response.content
    assert "NUL" in str(response.json()) or "Unicode" in str(response.json())


# --- NUL in ids and query strings ---------------------------------------------------------

@pytest.mark.dbcompat
@pytest.mark.parametrize(("method", "path", "error"), [
    ("GET", "/api/v2/jobs/ab%00cd", "Job not found"),
    ("PUT", "/api/v2/jobs/ab%00cd", "Job not found"),
    ("GET", "/api/v2/executions/a%00b", "Execution not found"),
    ("GET", "/api/v2/jobs/a%00b/executions", "Job not found"),
    ("GET", "/api/v2/auth/users/a%00b", "User not found"),
    ("PUT", "/api/v2/notifications/a%00b/read", "Notification not found"),
    ("DELETE", "/api/v2/notifications/a%00b", "Notification not found"),
    ("GET", "/api/v2/job-categories/a%00b", None),
])
def test_an_id_with_a_nul_is_an_unknown_id(api, admin_user, method, path, error):
    response = api(admin_user).generic(method, path, "{}", content_type=JSON)
    assert response.status_code in (404, 405), response.content
    if error is not None:
        assert response.json()["error"] == error


@pytest.mark.dbcompat
@pytest.mark.parametrize("path", [
    "/api/v2/executions?job_id=a%00b",
    "/api/v2/executions/statistics?job_id=a%00b",
    "/api/v2/notifications?unread_only=a%00",
    "/api/v2/jobs/{job}/executions?status=a%00b",
])
def test_a_nul_in_a_query_value_is_a_400_naming_the_parameter(api, admin_user, path):
    job = JobFactory(created_by=admin_user)
    response = api(admin_user).get(path.format(job=job.id))
    assert response.status_code == 400, response.content
    item = response.json()["detail"][0]
    assert item["loc"][0] == "query"
    assert "NUL" in item["msg"]


def test_real_ids_still_answer(api, admin_user):
    job = JobFactory(created_by=admin_user)
    execution = JobExecutionFactory(job=job)
    notice = NotificationFactory(user=admin_user)
    client = api(admin_user)
    assert client.get(f"/api/v2/jobs/{job.id}").status_code == 200
    assert client.get(f"/api/v2/executions/{execution.id}").status_code == 200
    assert client.get(f"/api/v2/executions?job_id={job.id}").json()["total"] == 1
    assert client.put(f"/api/v2/notifications/{notice.id}/read").status_code == 200


# --- dates outside what the databases hold -----------------------------------------------

@pytest.mark.dbcompat
@pytest.mark.parametrize("path", [
    "/api/v2/executions/statistics?from=0001-01-01&to=9999-12-31",
    "/api/v2/executions?from=9999-12-31T23:59:59-23:59",
    "/api/v2/executions?to=0001-01-01T00:00:00%2B23:59",
    "/api/v2/executions?from=0999-12-31",
    "/api/v2/notifications?to=9999-12-31",
])
def test_dates_outside_what_the_databases_hold_are_a_400(api, admin_user, path):
    response = api(admin_user).get(path)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "Invalid date"
    assert "1000-01-01" in response.json()["message"]


@pytest.mark.dbcompat
def test_the_widest_range_the_databases_hold_is_served(api, admin_user):
    JobExecutionFactory(job=JobFactory(created_by=admin_user))
    response = api(admin_user).get("/api/v2/executions/statistics?from=1000-01-01&to=9999-12-30")
    assert response.status_code == 200
    response = api(admin_user).get("/api/v2/executions?from=1000-01-01T00:00:00Z&to=9999-12-31T23:59:59Z")
    assert response.status_code == 200
    assert response.json()["total"] == 1


def test_cron_preview_from_a_date_no_database_holds_is_a_clear_400(api, owner):
    response = api(owner).post("/api/v2/jobs/cron-preview",
                               {"expression": "0 3 * * *", "from": "0001-01-01"}, format="json")
    assert response.status_code == 400
    assert "1000-01-01" in response.json()["message"]


def test_cron_preview_from_an_old_date_lists_the_fire_times_after_it(api, owner):
    response = api(owner).post("/api/v2/jobs/cron-preview", {
        "expression": "0 3 * * *", "from": "1000-01-01", "timezone": "UTC", "count": 2}, format="json")
    assert response.status_code == 200
    assert response.json()["next_runs"] == ["1000-01-01T03:00:00+00:00", "1000-01-02T03:00:00+00:00"]


# --- the rules refuse unstorable text whoever calls them (admin actions, commands, CSV) -----

@pytest.mark.dbcompat
@pytest.mark.parametrize("text", ["a\x00b", "a\ud800b"])
def test_every_apps_rules_refuse_text_no_database_can_store(admin_user, text):
    from accounts.services import user_update
    from cronhub.errors import InvalidInput
    from integrations.models import SlackSettings
    from integrations.services import slack_settings_update
    from jobs import rules as job_rules
    from taxonomy import services as taxonomy
    from taxonomy.models import JobCategory, PicTeam

    before = JobCategory.objects.count(), PicTeam.objects.count()
    with pytest.raises(InvalidInput):
        taxonomy.create(JobCategory, {"name": text})
    with pytest.raises(InvalidInput):
        taxonomy.create(PicTeam, {"name": "Team", "slack_handle": text})
    with pytest.raises(InvalidInput):
        slack_settings_update(changes={"channel": text})
    with pytest.raises(InvalidInput):
        user_update(actor=admin_user, user=admin_user, changes={"email": f"{text}@example.com"})
    with pytest.raises(InvalidInput):
        job_rules.text(text, "name")
    assert (JobCategory.objects.count(), PicTeam.objects.count()) == before
    assert all(row.channel != text for row in SlackSettings.objects.all())


# --- found by fuzzing ------------------------------------------------------------------------

def test_a_refused_csv_report_matches_its_documented_schema_as_clients_read_it(api, owner):
    """Clients and fuzzers read the document as written (objects open to other keys): a
    report with an ``error`` must match the documented 400 exactly once, not twice."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from drf_spectacular.generators import SchemaGenerator
    from jsonschema import Draft202012Validator

    document = SchemaGenerator().get_schema(request=None, public=True)
    upload = SimpleUploadedFile("jobs.csv", b"name,cron\nnightly,0 3 * * *\n", content_type="text/csv")
    response = api(owner).post("/api/v2/jobs/bulk-upload", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"]
    schema = document["paths"]["/api/v2/jobs/bulk-upload"]["post"]["responses"]["400"]["content"][JSON]
    validator = Draft202012Validator({**schema["schema"], "components": document["components"]})
    assert [error.message for error in validator.iter_errors(response.json())] == []
