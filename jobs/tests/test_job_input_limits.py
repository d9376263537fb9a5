"""Job fields beyond what the contract allows are refused alike by the API, the CSV
import and the admin (they share ``jobs.rules`` and ``cronhub.values``): time
zones only from the IANA list, end dates only as YYYY-MM-DD, targets only over
HTTP(S), metadata only within the JSON limits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cronhub import values
from cronhub.testing.factories import PicTeamFactory
from jobs.models import Job, scheduler_today

pytestmark = pytest.mark.django_db

NOT_ZONES = ["America", "Etc", "right/UTC", "posix/Asia/Tokyo", "posixrules", "Factory", "localtime"]
NOT_DATES = ["20401231", "2040-W01-1", "2040-12-31T00:00:00", "2040-1-5", "2040-366"]
NOT_HTTP = ["file:///etc/passwd", "ftp://files.example/run", "gopher://old.example/"]
BAD_METADATA = [
    ('{"n": 123456789012345678901234567890}', "64 bits"),
    ('{"x": NaN}', "finite"),
    ('{"x": 1e400}', "finite"),
    ('{"deep": ' + "[" * 100 + "]" * 100 + "}", "nested"),
]


@pytest.fixture
def team(db):
    return PicTeamFactory(name="Platform QA", slug="platform-qa")


def in_a_month() -> str:
    return (scheduler_today() + dt.timedelta(days=30)).isoformat()


def create(api, user, **overrides):
    body = {"name": "Nightly", "cron_expression": "0 3 * * *", "target_url": "https://hooks.example/run",
            "end_date": in_a_month(), "pic_team": "platform-qa", **overrides}
    return api(user).post("/api/v2/jobs", body, format="json")


def upload(api, user, row: str):
    text = "name,cron,target_url,end_date,pic_team,timezone,metadata\n" + row + "\n"
    file = SimpleUploadedFile("jobs.csv", text.encode(), content_type="text/csv")
    return api(user).post("/api/v2/jobs/bulk-upload", {"file": file}, format="multipart")


def admin_add(client, admin_user, **overrides):
    client.force_login(admin_user)
    data = {
        "name": "nightly-web", "is_active": "on", "cron_expression": "0 9 * * 1-5", "timezone": "Asia/Tokyo",
        "end_date": in_a_month(), "target_url": "https://hooks.example.com/run", "github_owner": "",
        "github_repo": "", "github_workflow_name": "", "metadata": "{}", "notification_emails": "",
        "category": "general", "pic_team": "platform-qa", "created_by": "",
        "executions-TOTAL_FORMS": "0", "executions-INITIAL_FORMS": "0",
        "executions-MIN_NUM_FORMS": "0", "executions-MAX_NUM_FORMS": "0", **overrides,
    }
    return client.post(reverse("admin:jobs_job_add"), data)


def row_error(response) -> dict:
    assert response.status_code == 400, response.content
    [error] = response.json()["errors"]
    return error


# --- time zones ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NOT_ZONES)
def test_only_iana_zones_are_zones(name):
    assert values.zone(name) is None
    assert name not in values.timezone_names()


def test_the_iana_zones_remain_zones():
    for name in ("Asia/Tokyo", "UTC", "Etc/GMT+9", "America/Argentina/Buenos_Aires"):
        assert values.zone(name) is not None


@pytest.mark.parametrize("name", NOT_ZONES)
def test_the_api_refuses_a_zone_file_that_is_not_a_zone(api, owner, team, name):
    response = create(api, owner, timezone=name)
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid timezone"
    assert not Job.objects.exists()


@pytest.mark.parametrize("value", [{}, ["Asia/Tokyo"], 9, True])
def test_a_time_zone_that_is_not_text_is_a_400(api, owner, team, value):
    response = create(api, owner, timezone=value)
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid timezone"
    preview = api(owner).post("/api/v2/jobs/cron-preview", {"expression": "0 3 * * *", "timezone": value},
                              format="json")
    assert preview.status_code == 400
    assert preview.json()["error"] == "Invalid timezone"


@pytest.mark.parametrize("name", NOT_ZONES)
def test_the_csv_import_refuses_a_zone_file_that_is_not_a_zone(api, owner, team, name):
    error = row_error(upload(api, owner, f"Nightly,0 3 * * *,https://h.example/,{in_a_month()},platform-qa,{name},"))
    assert error["error"] == "Invalid timezone"
    assert not Job.objects.exists()


@pytest.mark.parametrize("name", ["America", "Factory", "right/UTC"])
def test_the_admin_refuses_a_zone_file_that_is_not_a_zone(client, admin_user, team, name):
    response = admin_add(client, admin_user, timezone=name)
    assert response.status_code == 200
    assert "timezone" in response.context["adminform"].form.errors
    assert not Job.objects.exists()


def test_the_admin_offers_only_iana_zones(client, admin_user):
    client.force_login(admin_user)
    form = client.get(reverse("admin:jobs_job_add")).context["adminform"].form
    offered = {value for value, _label in form.fields["timezone"].choices}
    assert "Asia/Tokyo" in offered
    assert not offered & {"Factory", "posixrules", "localtime"}
    assert offered == set(values.timezone_names())


# --- end dates -------------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", NOT_DATES)
def test_the_api_takes_end_dates_only_as_yyyy_mm_dd(api, owner, team, spelling):
    response = create(api, owner, end_date=spelling)
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid end_date", "message": "Invalid end_date. Use YYYY-MM-DD."}


@pytest.mark.parametrize("spelling", NOT_DATES)
def test_the_csv_import_takes_end_dates_only_as_yyyy_mm_dd(api, owner, team, spelling):
    error = row_error(upload(api, owner, f"Nightly,0 3 * * *,https://h.example/,{spelling},platform-qa,,"))
    assert (error["error"], error["message"]) == ("Invalid end_date", "Invalid end_date. Use YYYY-MM-DD.")


def test_an_end_date_in_the_contract_spelling_is_taken(api, owner, team):
    response = create(api, owner, end_date=f"  {in_a_month()} ")
    assert response.status_code == 201
    assert response.json()["job"]["end_date"] == in_a_month()


# --- targets ---------------------------------------------------------------------------------

@pytest.mark.parametrize("url", NOT_HTTP)
def test_a_job_cannot_be_created_with_a_target_other_than_http(api, owner, team, url):
    response = create(api, owner, target_url=url)
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid target_url"
    assert not Job.objects.exists()


@pytest.mark.parametrize("url", NOT_HTTP)
def test_a_csv_row_cannot_have_a_target_other_than_http(api, owner, team, url):
    error = row_error(upload(api, owner, f"Nightly,0 3 * * *,{url},{in_a_month()},platform-qa,,"))
    assert error["error"] == "Invalid target_url"


# --- metadata --------------------------------------------------------------------------------

@pytest.mark.dbcompat
@pytest.mark.parametrize(("metadata", "says"), BAD_METADATA)
def test_a_csv_row_cannot_store_metadata_the_job_list_could_not_serve(api, owner, team, metadata, says):
    cell = '"' + metadata.replace('"', '""') + '"'
    error = row_error(upload(api, owner, f"Nightly,0 3 * * *,https://h.example/,{in_a_month()},platform-qa,,{cell}"))
    assert says in error["message"]
    assert not Job.objects.exists()


@pytest.mark.dbcompat
@pytest.mark.parametrize(("metadata", "says"), BAD_METADATA)
def test_the_admin_cannot_store_metadata_the_job_list_could_not_serve(
        client, admin_user, team, metadata, says):
    response = admin_add(client, admin_user, metadata=metadata)
    assert response.status_code == 200
    assert says in str(response.context["adminform"].form.errors)
    assert not Job.objects.exists()


@pytest.mark.dbcompat
def test_metadata_within_the_limits_is_stored_as_sent(api, owner, team):
    metadata = {"n": 2 ** 63 - 1, "x": -1.5, "deep": [[[["ok"]]]], "text": "über"}
    response = create(api, owner, metadata=metadata)
    assert response.status_code == 201
    assert Job.objects.get().metadata == metadata
    assert api(owner).get("/api/v2/jobs").json()["jobs"][0]["metadata"] == metadata


@pytest.mark.dbcompat
def test_a_large_float_in_metadata_is_listed_whatever_the_database_gives_back(api, owner, team):
    """PostgreSQL keeps JSON numbers as decimals: 1.5e300 comes back as a 301-digit integer,
    which the job list's fast encoder refuses; the list still serves it."""
    response = create(api, owner, metadata={"x": 1.5e300})
    assert response.status_code == 201
    listed = api(owner).get("/api/v2/jobs")
    assert listed.status_code == 200
    assert float(listed.json()["jobs"][0]["metadata"]["x"]) == 1.5e300


# --- a manual run's token ----------------------------------------------------------------------

@pytest.mark.parametrize("token", ["ghp_\U00010274abc", "tok\nen", "t\u00e9st"])
def test_a_manual_runs_github_token_must_be_header_text(api, owner, team, token):
    from cronhub.testing.factories import JobFactory
    from jobs.models import JobExecution

    job = JobFactory(created_by=owner, github=True, target_url=None)
    response = api(owner).post(f"/api/v2/jobs/{job.id}/execute", {"github_token": token}, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid payload",
                               "message": '"github_token" must be printable ASCII text.'}
    assert not JobExecution.objects.exists()
