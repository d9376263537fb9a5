"""GET /api/v2/jobs and /jobs/{id}: every job for every role, with computed fields."""

import datetime as dt
import json

import pytest

from cronhub.testing.factories import JobExecutionFactory, JobFactory
from jobs.api import listing

# The list reads columns with per-database SQL (instants as text, case-insensitive search).
pytestmark = pytest.mark.dbcompat


MOMENT = dt.datetime(2025, 12, 18, 18, 0, 0, 12345, tzinfo=dt.UTC)


@pytest.mark.parametrize("persona", ["admin_user", "owner", "other_user", "viewer"])
def test_every_role_sees_every_job_newest_first(api, persona, request, owner):
    older = JobFactory(name="older", created_by=owner, created_at=MOMENT - dt.timedelta(days=1))
    newer = JobFactory(name="newer", created_by=owner, created_at=MOMENT)
    response = api(request.getfixturevalue(persona)).get("/api/v2/jobs")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [job["id"] for job in body["jobs"]] == [newer.id, older.id]


def test_anonymous_gets_401(api, db):
    response = api().get("/api/v2/jobs")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_list_spells_last_execution_in_z_millis_and_detail_with_microseconds(api, viewer):
    job = JobFactory(cron_expression="0 9 * * *", timezone="Asia/Tokyo")
    JobExecutionFactory(job=job, started_at=MOMENT - dt.timedelta(hours=1))
    JobExecutionFactory(job=job, started_at=MOMENT, status="failed")
    listed = api(viewer).get("/api/v2/jobs").json()["jobs"][0]
    assert listed["last_execution_at"] == "2025-12-18T18:00:00.012Z"
    detail = api(viewer).get(f"/api/v2/jobs/{job.id}").json()["job"]
    assert detail["last_execution_at"] == "2025-12-18T18:00:00.012345Z"
    assert detail["next_execution_at"].endswith("T09:00:00+09:00")
    assert listed["next_execution_at"] == detail["next_execution_at"]


def test_the_job_fields_the_react_client_reads_are_all_there(api, viewer):
    job = JobFactory(github=True, metadata={"branchDetails": "main"}, notification_emails="a@x.com")
    listed = api(viewer).get("/api/v2/jobs").json()["jobs"][0]
    for key in ("id", "name", "cron_expression", "target_url", "github_owner", "github_repo",
                "github_workflow_name", "metadata", "category", "end_date", "pic_team", "is_active",
                "created_by", "last_execution_at", "next_execution_at", "enable_email_notifications",
                "notification_emails", "notify_on_success", "created_at", "updated_at", "timezone"):
        assert key in listed, key
    assert listed["metadata"] == {"branchDetails": "main"}
    assert listed["notification_emails"] == ["a@x.com"]
    assert listed["end_date"] == job.end_date.isoformat()


def test_inactive_jobs_and_unparsable_expressions_have_no_next_run(api, viewer):
    JobFactory(name="paused", is_active=False)
    JobFactory(name="broken", cron_expression="not a cron")
    jobs = api(viewer).get("/api/v2/jobs").json()["jobs"]
    assert {job["name"]: job["next_execution_at"] for job in jobs} == {"paused": None, "broken": None}


def test_an_active_job_past_its_end_date_still_has_a_next_run(api, viewer):
    JobFactory(end_date=dt.date(2020, 1, 1))
    assert api(viewer).get("/api/v2/jobs").json()["jobs"][0]["next_execution_at"] is not None


def test_next_runs_follow_each_jobs_own_time_zone(api, viewer):
    JobFactory(name="tokyo", cron_expression="0 9 * * *", timezone="Asia/Tokyo")
    JobFactory(name="utc", cron_expression="0 9 * * *", timezone="UTC")
    jobs = {job["name"]: job for job in api(viewer).get("/api/v2/jobs").json()["jobs"]}
    assert jobs["tokyo"]["next_execution_at"].endswith("T09:00:00+09:00")
    assert jobs["utc"]["next_execution_at"].endswith("T09:00:00+00:00")


def test_an_unknown_job_id_is_a_404_with_the_contract_body(api, viewer):
    response = api(viewer).get("/api/v2/jobs/does-not-exist")
    assert response.status_code == 404
    assert response.json() == {"error": "Job not found", "message": "No job found with ID: does-not-exist"}


@pytest.mark.parametrize("literal", ["validate-cron", "cron-preview", "bulk-upload"])
def test_get_on_a_tool_route_is_a_job_lookup_that_finds_nothing(api, viewer, literal):
    response = api(viewer).get(f"/api/v2/jobs/{literal}")
    assert response.status_code == 404
    assert response.json() == {"error": "Job not found", "message": f"No job found with ID: {literal}"}


@pytest.mark.parametrize("size", [1, 25])
def test_the_list_runs_a_constant_number_of_queries(api, viewer, django_assert_num_queries, size):
    for _ in range(size):
        JobExecutionFactory(job=JobFactory())
    client = api(viewer)
    for _ in range(2):  # built fresh every time: no aggregate over the executions table
        with django_assert_num_queries(2):  # token's user, the jobs with their last runs
            assert client.get("/api/v2/jobs").json()["count"] == size


def test_the_list_follows_every_change(api, owner, viewer):
    client = api(viewer)
    job = JobFactory(name="first", created_by=owner)
    assert [j["name"] for j in client.get("/api/v2/jobs").json()["jobs"]] == ["first"]
    JobExecutionFactory(job=job, started_at=MOMENT)
    assert client.get("/api/v2/jobs").json()["jobs"][0]["last_execution_at"] == "2025-12-18T18:00:00.012Z"
    api(owner).put(f"/api/v2/jobs/{job.id}", {"name": "renamed"}, format="json")
    assert client.get("/api/v2/jobs").json()["jobs"][0]["name"] == "renamed"
    api(owner).delete(f"/api/v2/jobs/{job.id}")
    assert client.get("/api/v2/jobs").json() == {"count": 0, "jobs": []}


def test_next_fire_times_move_on_once_a_listed_fire_time_has_passed(viewer, db):
    JobFactory(cron_expression="* * * * *", timezone="UTC")
    now = dt.datetime(2030, 1, 1, 0, 0, 30, tzinfo=dt.UTC)
    first = json.loads(listing.job_list_json(now))["jobs"][0]["next_execution_at"]
    assert first == "2030-01-01T00:01:00+00:00"
    later = json.loads(listing.job_list_json(now + dt.timedelta(seconds=45)))["jobs"][0]
    assert later["next_execution_at"] == "2030-01-01T00:02:00+00:00"


@pytest.mark.parametrize("microsecond", [0, 7, 12345, 999999])
def test_the_list_spells_stored_instants_as_the_api_formats_do(api, viewer, microsecond):
    # The list re-spells SQLite's stored text instead of parsing it: whole seconds (no
    # fraction stored) and every fraction must come out as iso_z / iso_z_millis write them.
    from cronhub.api.formats import iso_z, iso_z_millis
    from jobs.models import Job

    moment = MOMENT.replace(microsecond=microsecond)
    job = JobFactory()
    Job.objects.filter(pk=job.pk).update(created_at=moment, updated_at=moment + dt.timedelta(seconds=1))
    JobExecutionFactory(job=job, started_at=moment)
    listed = api(viewer).get("/api/v2/jobs").json()["jobs"][0]
    assert listed["created_at"] == iso_z(moment)
    assert listed["updated_at"] == iso_z(moment + dt.timedelta(seconds=1))
    assert listed["last_execution_at"] == iso_z_millis(moment)
