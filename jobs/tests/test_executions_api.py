"""Execution endpoints: per-job list/detail/stats, global list/detail/statistics."""

import datetime as dt

import pytest

from cronhub.testing.factories import JobExecutionFactory, JobFactory

T0 = dt.datetime(2025, 12, 18, 6, 49, 31, 105845, tzinfo=dt.UTC)
ROLES = ["admin_user", "owner", "other_user", "viewer"]


@pytest.fixture
def job(owner):
    return JobFactory(name="Nightly API regression", github=True, created_by=owner)


@pytest.fixture
def runs(job):
    """Three runs a day apart: success (newest), failed, running (oldest)."""
    return [
        JobExecutionFactory(
            job=job,
            status="success",
            trigger_type="manual",
            started_at=T0,
            duration_seconds=10.0,
            execution_type="github_actions",
            response_status=204,
        ),
        JobExecutionFactory(
            job=job,
            status="failed",
            trigger_type="scheduled",
            started_at=T0 - dt.timedelta(days=1),
            duration_seconds=20.0,
            error_message="boom",
            response_status=500,
        ),
        JobExecutionFactory(
            job=job,
            status="running",
            trigger_type="scheduled",
            started_at=T0 - dt.timedelta(days=2),
            completed_at=None,
            duration_seconds=None,
            response_status=None,
        ),
    ]


# --- per job -------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ROLES)
def test_every_role_reads_a_jobs_executions_newest_first(api, request, persona, job, runs):
    response = api(request.getfixturevalue(persona)).get(f"/api/v2/jobs/{job.id}/executions")
    assert response.status_code == 200
    body = response.json()
    assert body["job_id"] == job.id and body["job_name"] == "Nightly API regression"
    assert [row["id"] for row in body["executions"]] == [run.id for run in runs]
    assert body["total_executions"] == 3
    first = body["executions"][0]
    assert first["started_at"] == "2025-12-18T06:49:31.105Z"
    assert first["completed_at"] == "2025-12-18T06:49:32.105Z"
    for key in (
        "id",
        "job_id",
        "status",
        "trigger_type",
        "started_at",
        "completed_at",
        "duration_seconds",
        "execution_type",
        "target",
        "response_status",
        "error_message",
        "output",
    ):
        assert key in first


def test_anonymous_cannot_read_executions(api, job):
    assert api().get(f"/api/v2/jobs/{job.id}/executions").status_code == 401
    assert api().get("/api/v2/executions").status_code == 401


def test_total_executions_is_the_page_size(api, viewer, job, runs):
    body = api(viewer).get(f"/api/v2/jobs/{job.id}/executions?limit=2").json()
    assert body["total_executions"] == 2 and len(body["executions"]) == 2


@pytest.mark.parametrize(
    ("query", "statuses"),
    [
        ("status=failed,running", {"failed", "running"}),
        ("status=failed,,", {"failed"}),
        ("trigger_type=manual", {"success"}),
        ("status=unknown", set()),
        ("from=2025-12-17&to=2025-12-17", {"failed"}),
        ("from=2025-12-17T00:00:00.000Z", {"failed", "success"}),
        ("to=2025-12-17", {"failed", "running"}),
    ],
)
def test_per_job_filters(api, viewer, job, runs, query, statuses):
    body = api(viewer).get(f"/api/v2/jobs/{job.id}/executions?{query}").json()
    assert {row["status"] for row in body["executions"]} == statuses


@pytest.mark.parametrize("limit", ["0", "201", "x"])
def test_out_of_range_limits_are_400s(api, viewer, job, limit):
    response = api(viewer).get(f"/api/v2/jobs/{job.id}/executions?limit={limit}")
    assert response.status_code == 400
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_an_out_of_range_limit_is_rejected_before_the_job_is_looked_up(api, viewer):
    # query-parameter validation comes before endpoint logic (the 404), as it did on the old server.
    response = api(viewer).get("/api/v2/jobs/nope/executions?limit=0")
    assert response.status_code == 400
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_an_unknown_job_is_a_404(api, viewer):
    for path in ("executions", "executions/stats", "executions/x"):
        response = api(viewer).get(f"/api/v2/jobs/nope/{path}")
        assert response.status_code == 404
        assert response.json() == {"error": "Job not found", "message": "No job found with ID: nope"}


def test_per_job_stats_round_and_average_successful_runs_only(api, viewer, job, runs):
    body = api(viewer).get(f"/api/v2/jobs/{job.id}/executions/stats").json()
    assert body["statistics"] == {
        "total_executions": 3,
        "success_count": 1,
        "failed_count": 1,
        "running_count": 1,
        "success_rate": 33.33,
        "average_duration_seconds": 10.0,
    }
    assert body["latest_execution"]["id"] == runs[0].id


def test_per_job_stats_without_runs(api, viewer, job):
    body = api(viewer).get(f"/api/v2/jobs/{job.id}/executions/stats").json()
    assert body["statistics"]["success_rate"] == 0.0
    assert body["statistics"]["average_duration_seconds"] is None
    assert body["latest_execution"] is None


def test_an_execution_of_another_job_is_not_found_under_this_job(api, viewer, job, runs):
    other = JobExecutionFactory()
    response = api(viewer).get(f"/api/v2/jobs/{job.id}/executions/{other.id}")
    assert response.status_code == 404
    assert response.json() == {
        "error": "Execution not found",
        "message": f"No execution found with ID: {other.id} for job: {job.id}",
    }
    body = api(viewer).get(f"/api/v2/jobs/{job.id}/executions/{runs[1].id}").json()
    assert body["job"] == {"id": job.id, "name": job.name}
    assert body["execution"]["error_message"] == "boom"


# --- global ------------------------------------------------------------------------------------------


def test_the_global_list_pages_and_adds_job_name_and_repo(api, viewer, job, runs):
    body = api(viewer).get("/api/v2/executions?page=2&limit=2").json()
    assert (body["total"], body["page"], body["limit"], body["total_pages"]) == (3, 2, 2, 2)
    assert [row["id"] for row in body["executions"]] == [runs[2].id]
    assert body["executions"][0]["job_name"] == "Nightly API regression"
    assert body["executions"][0]["github_repo"] == "api-tests"


def test_a_page_beyond_the_end_is_empty_with_the_same_totals(api, viewer, runs):
    body = api(viewer).get("/api/v2/executions?page=9&limit=2").json()
    assert body["executions"] == [] and body["total"] == 3 and body["total_pages"] == 2


def test_no_executions_means_zero_pages(api, viewer):
    assert api(viewer).get("/api/v2/executions").json()["total_pages"] == 0


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("status=failed,running", 2),
        ("trigger_type=scheduled", 2),
        ("execution_type=github_actions", 1),
        ("from=2025-12-18T06:00:00.000Z", 1),
        ("from=2025-12-16&to=2025-12-17", 2),
    ],
)
def test_global_filters(api, viewer, job, runs, query, count):
    JobExecutionFactory(started_at=T0)  # another job's run, filtered out by job_id
    assert api(viewer).get(f"/api/v2/executions?job_id={job.id}&{query}").json()["total"] == count


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("from=bad", "Invalid date"),
        ("from=2025-13-01", "Invalid date"),
        ("from=2025-02-01&to=2025-01-01", "Invalid date range"),
    ],
)
def test_bad_dates_are_400s(api, viewer, query, error):
    for path in ("executions", "executions/statistics"):
        response = api(viewer).get(f"/api/v2/{path}?{query}")
        assert response.status_code == 400
        assert response.json()["error"] == error


@pytest.mark.dbcompat  # one grouped query, summed up in Python
def test_global_statistics_do_not_round_and_average_every_duration(api, viewer, job, runs):
    body = api(viewer).get("/api/v2/executions/statistics?from=2025-12-15&to=2025-12-18").json()
    assert body == {
        "total_executions": 3,
        "successful_executions": 1,
        "failed_executions": 1,
        "running_executions": 1,
        "success_rate": 33.333333333333336,
        "average_duration_seconds": 15.0,
        "range": {"from": "2025-12-15T00:00:00Z", "to": "2025-12-19T00:00:00Z"},
    }


@pytest.mark.dbcompat  # one grouped query, summed up in Python
def test_global_statistics_when_empty(api, viewer):
    body = api(viewer).get("/api/v2/executions/statistics").json()
    assert body["success_rate"] == 0.0 and body["average_duration_seconds"] == 0.0
    assert body["range"] == {"from": None, "to": None}


def test_global_execution_detail(api, viewer, job, runs):
    body = api(viewer).get(f"/api/v2/executions/{runs[0].id}").json()
    assert body["execution"]["job_name"] == job.name
    response = api(viewer).get("/api/v2/executions/nope")
    assert response.status_code == 404
    assert response.json() == {"error": "Execution not found", "message": "No execution found with ID: nope"}


def test_statistics_is_not_taken_for_an_execution_id(api, viewer):
    assert "total_executions" in api(viewer).get("/api/v2/executions/statistics").json()


@pytest.mark.parametrize("size", [2, 30])
def test_lists_run_a_constant_number_of_queries(api, viewer, job, django_assert_num_queries, size):
    for index in range(size):
        JobExecutionFactory(job=job, started_at=T0 - dt.timedelta(minutes=index))
    client = api(viewer)
    with django_assert_num_queries(3):  # user, count, page (job joined)
        assert len(client.get("/api/v2/executions?limit=50").json()["executions"]) == size
    with django_assert_num_queries(3):  # user, job, page
        assert len(client.get(f"/api/v2/jobs/{job.id}/executions").json()["executions"]) == size
    with django_assert_num_queries(2):  # user, one aggregate
        client.get("/api/v2/executions/statistics")
