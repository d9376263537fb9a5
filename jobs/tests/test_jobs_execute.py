"""POST /jobs/{id}/execute and POST /jobs/test-run through the execution service,
against the local webhook receiver and fake GitHub API the tests start."""

import datetime as dt

import pytest

from cronhub.testing.factories import JobFactory
from jobs.models import Job, JobExecution, scheduler_today
from notifications.models import Notification


@pytest.fixture
def hook_job(owner, webhook_server):
    return JobFactory(name="Hourly health ping", created_by=owner, target_url=webhook_server.url_for("/hook"))


@pytest.fixture
def github_job(owner, fake_github):
    return JobFactory(name="Nightly", created_by=owner, github=True)


def execute(client, job_id, body=None, **kwargs):
    if body is None:
        return client.post(f"/api/v2/jobs/{job_id}/execute", **kwargs)
    return client.post(f"/api/v2/jobs/{job_id}/execute", body, format="json")


def test_the_owner_runs_a_webhook_job_now_and_gets_the_execution_id(api, owner, hook_job, webhook_server):
    response = execute(api(owner), hook_job.id)
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Job triggered successfully" and body["job_id"] == hook_job.id
    execution = JobExecution.objects.get(pk=body["execution_id"])
    assert (execution.trigger_type, execution.status, execution.response_status) == ("manual", "success", 200)
    assert body["status"] == "success"
    assert [request.path for request in webhook_server.requests] == ["/hook"]
    assert Notification.objects.filter(title="Job Completed", related_execution=execution).exists()


def test_a_failed_dispatch_still_answers_200(api, owner, hook_job, webhook_server):
    webhook_server.reply(status=503, body="down")
    response = execute(api(owner), hook_job.id)
    assert response.status_code == 200
    assert JobExecution.objects.get().status == "failed"


def test_overrides_apply_for_this_run_only(api, owner, hook_job, webhook_server):
    other = webhook_server.url_for("/other")
    response = execute(api(owner), hook_job.id, {"target_url": other, "metadata": {"env": "stg"}})
    assert response.status_code == 200
    assert webhook_server.requests[0].path == "/other"
    assert webhook_server.requests[0].json() == {"env": "stg"}
    hook_job.refresh_from_db()
    assert hook_job.target_url.endswith("/hook") and hook_job.metadata is None


def test_the_retry_dispatch_url_runs_a_github_job(api, owner, github_job, fake_github):
    url = "https://github.com/acme/other-repo/actions/workflows/retry.yml"
    assert execute(api(owner), github_job.id, {"dispatch_url": url}).status_code == 200
    assert "/repos/acme/other-repo/actions/workflows/retry.yml/dispatches" in fake_github.dispatches[0].path


def test_explicit_github_fields_win_over_the_dispatch_url(api, owner, github_job, fake_github):
    body = {
        "dispatch_url": "acme/x/y.yml",
        "github_owner": "acme",
        "github_repo": "api-tests",
        "github_workflow_name": "nightly.yml",
    }
    execute(api(owner), github_job.id, body)
    assert "/repos/acme/api-tests/actions/workflows/nightly.yml/" in fake_github.dispatches[0].path


def test_an_inactive_job_can_be_run_by_hand(api, owner, hook_job):
    Job.objects.filter(pk=hook_job.pk).update(is_active=False)
    assert execute(api(owner), hook_job.id).status_code == 200


def test_an_expired_job_is_paused_and_refused_whatever_the_body(api, owner, hook_job, webhook_server):
    Job.objects.filter(pk=hook_job.pk).update(end_date=scheduler_today() - dt.timedelta(days=1))
    response = execute(api(owner), hook_job.id, {"metadata": "not an object"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Job expired",
        "message": "This job has passed its end_date and was auto-paused.",
    }
    hook_job.refresh_from_db()
    assert hook_job.is_active is False
    assert not JobExecution.objects.exists() and webhook_server.requests == []


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("[1]", "application/json", {"error": "Invalid payload", "message": "JSON body must be an object."}),
        ("{bad", "application/json", {"error": "Invalid JSON"}),
        ('{"a": 1}', "text/plain", {"error": "Content-Type must be application/json"}),
        (
            '{"metadata": [1]}',
            "application/json",
            {"error": "Invalid payload", "message": '"metadata" must be a JSON object.'},
        ),
        (
            '{"github_token": 5}',
            "application/json",
            {"error": "Invalid payload", "message": '"github_token" must be a string.'},
        ),
    ],
)
def test_bad_bodies_are_400s_and_nothing_runs(api, owner, hook_job, body, content_type, expected):
    response = api(owner).post(f"/api/v2/jobs/{hook_job.id}/execute", body, content_type=content_type)
    assert response.status_code == 400
    assert response.json() == expected
    assert not JobExecution.objects.exists()


def test_an_empty_body_needs_no_content_type(api, owner, hook_job):
    response = api(owner).post(f"/api/v2/jobs/{hook_job.id}/execute", "  ", content_type="text/plain")
    assert response.status_code == 200


def test_an_unparsable_dispatch_url_is_refused(api, owner, github_job):
    response = execute(api(owner), github_job.id, {"dispatch_url": "https://example.com/nope"})
    assert response.status_code == 400
    assert response.json()["message"].startswith("Invalid dispatch URL format.")


def test_a_job_without_a_usable_target_is_refused(api, owner):
    job = JobFactory(
        created_by=owner, target_url=None, github_owner="acme", github_repo=None, github_workflow_name=None
    )
    response = execute(api(owner), job.id)
    assert response.json() == {
        "error": "Missing target configuration",
        "message": "Job has no valid target configuration to execute.",
    }


def test_another_user_cannot_run_someone_elses_job(api, other_user, hook_job):
    response = execute(api(other_user), hook_job.id)
    assert response.status_code == 403
    assert response.json() == {
        "error": "Insufficient permissions",
        "message": "You can only execute your own jobs",
    }


def test_an_admin_runs_any_job(api, admin_user, hook_job):
    assert execute(api(admin_user), hook_job.id).status_code == 200


def test_viewers_and_anonymous_cannot_run_jobs(api, viewer, hook_job):
    assert execute(api(viewer), hook_job.id).json() == {"detail": "User or admin access required"}
    assert execute(api(), hook_job.id).status_code == 401


def test_an_unknown_job_is_a_404(api, owner):
    assert execute(api(owner), "nope").json() == {
        "error": "Job not found",
        "message": "No job found with ID: nope",
    }


# --- test-run ----------------------------------------------------------------------------------


def test_run(client, body):
    return client.post("/api/v2/jobs/test-run", body, format="json")


test_run.__test__ = False


def test_a_webhook_test_run_posts_the_metadata_and_records_nothing(api, owner, webhook_server):
    body = test_run(api(owner), {"target_url": webhook_server.url_for("/t"), "metadata": {"a": 1}}).json()
    assert body == {
        "ok": True,
        "type": "webhook",
        "status_code": 200,
        "message": "Webhook test run succeeded.",
    }
    assert webhook_server.requests[0].method == "POST" and webhook_server.requests[0].json() == {"a": 1}
    assert not JobExecution.objects.exists() and not Notification.objects.exists()


def test_a_github_test_run_dispatches(api, owner, fake_github):
    body = test_run(
        api(owner),
        {
            "github_owner": "acme",
            "github_repo": "web",
            "github_workflow_name": "ci.yml",
            "metadata": {"branchDetails": "main"},
        },
    ).json()
    assert body["ok"] is True and body["type"] == "github" and body["status_code"] in (200, 204)
    assert len(fake_github.dispatches) == 1


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"target_url": "https://h.example/", "metadata": [1]}, "Invalid metadata"),
        ({"github_repo": "web"}, "Missing target configuration"),
        ({"target_url": "https://h.example/", "timeout_seconds": "abc"}, "Invalid payload"),
        ({"target_url": "ftp://h.example/"}, "Invalid target_url"),
    ],
)
def test_test_run_input_errors(api, owner, body, error):
    response = test_run(api(owner), body)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_test_run_invalid_json_is_a_400(api, owner):
    response = api(owner).post("/api/v2/jobs/test-run", "{bad", content_type="application/json")
    assert response.json() == {"error": "Invalid JSON"}


def test_viewers_cannot_test_run(api, viewer):
    assert test_run(api(viewer), {"target_url": "https://h.example/"}).status_code == 403


def test_a_test_run_against_a_dripping_target_ends_at_its_timeout_seconds(api, owner, drip_server, settings):
    # Each byte comes long before a read would time out: only the test run's total
    # timeout_seconds ends the call, long before the 60 s drip is over.
    settings.OUTBOUND_READ_TIMEOUT = 30
    settings.EXPOSE_ERROR_DETAILS = True

    body = test_run(api(owner), {"target_url": drip_server.url_for("/t"), "timeout_seconds": 2}).json()

    assert body == {
        "ok": False, "type": "webhook", "error": "Request failed",
        "message": f"No complete response from 127.0.0.1:{drip_server.port} within 2 s (total timeout)",
    }
    [sent] = drip_server.wait_hung_up()
    assert sent < drip_server.length
