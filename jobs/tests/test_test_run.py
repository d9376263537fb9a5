"""Test runs dispatch an unsaved configuration like a real run and record nothing."""

import pytest

from jobs.models import JobExecution
from jobs.services import job_test_run
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def nothing_recorded():
    return not JobExecution.objects.exists() and not Notification.objects.exists()


def test_a_webhook_test_run_that_answers_2xx_succeeds(webhook_server, owner):
    result = job_test_run(target_url=webhook_server.url_for("/hook"), metadata={"env": "stg"})

    assert result.as_response() == {"ok": True, "type": "webhook", "status_code": 200,
                                    "message": "Webhook test run succeeded."}
    assert webhook_server.requests[0].method == "POST" and webhook_server.requests[0].json() == {"env": "stg"}
    assert nothing_recorded()


def test_a_webhook_test_run_without_metadata_sends_a_get_like_the_real_run(webhook_server):
    job_test_run(target_url=webhook_server.url_for("/hook"))

    assert webhook_server.requests[0].method == "GET"


def test_a_webhook_test_run_that_answers_500_fails(webhook_server):
    webhook_server.reply(status=500)

    assert job_test_run(target_url=webhook_server.url_for("/hook")).as_response() == {
        "ok": False, "type": "webhook", "status_code": 500, "message": "Webhook test run failed."}


def test_a_request_failure_hides_details_unless_exposed(settings):
    settings.EXPOSE_ERROR_DETAILS = False
    hidden = job_test_run(target_url="http://127.0.0.1:9/hook").as_response()
    settings.EXPOSE_ERROR_DETAILS = True
    shown = job_test_run(target_url="http://127.0.0.1:9/hook").as_response()

    assert hidden == {"ok": False, "type": "webhook", "error": "Request failed", "message": "Request failed"}
    assert shown["error"] == "Request failed"
    assert shown["message"].startswith("Could not connect to 127.0.0.1:9")


def test_a_refused_target_always_says_why(settings):
    settings.EXPOSE_ERROR_DETAILS = False

    assert job_test_run(target_url="http://169.254.169.254/").as_response() == {
        "ok": False, "type": "webhook", "error": "Request failed",
        "message": "Refused outbound request to 169.254.169.254: link-local or cloud metadata address"}


def test_the_timeout_is_clamped_to_one_second_at_least(webhook_server):
    webhook_server.reply(delay=3)

    result = job_test_run(target_url=webhook_server.url_for("/hook"), timeout_seconds=0.01)

    assert result.ok is False and result.error == "Request failed"


def test_a_github_test_run_without_a_token_says_so(fake_github, settings):
    settings.GITHUB_TOKEN = ""

    result = job_test_run(github_owner="acme", github_repo="api", github_workflow_name="ci.yml")

    assert result.as_response() == {
        "ok": False, "type": "github", "error": "GitHub token not configured",
        "message": "Set GITHUB_TOKEN in backend .env to test-run GitHub workflows."}
    assert fake_github.requests == []


def test_a_github_test_run_uses_the_real_run_rules(fake_github):
    fake_github.known_workflows = {"ci.yml"}

    result = job_test_run(github_owner="acme", github_repo="api", github_workflow_name="ci",
                          metadata={"branchDetails": "main"})

    assert result.as_response() == {"ok": True, "type": "github", "status_code": 204,
                                    "message": "GitHub workflow dispatch triggered."}
    assert [r.path.split("/")[-2] for r in fake_github.dispatches] == ["ci", "ci.yml"]
    assert fake_github.dispatches[-1].json()["ref"] == "main"
    assert nothing_recorded()


def test_a_github_test_run_reports_run_details_when_github_sends_them(fake_github):
    fake_github.run_details(77)

    body = job_test_run(github_owner="acme", github_repo="api", github_workflow_name="ci.yml").as_response()

    assert body["status_code"] == 200 and body["ok"] is True
    assert body["github_run_id"] == 77
    assert body["github_run_url"] == "https://github.com/acme/api/actions/runs/77"


def test_a_github_test_run_that_gets_404_fails(fake_github):
    fake_github.known_workflows = set()

    result = job_test_run(github_owner="acme", github_repo="api", github_workflow_name="ci.yml")

    assert result.as_response() == {
        "ok": False, "type": "github", "status_code": 404, "message": "GitHub workflow dispatch failed."}


def test_a_test_run_needs_a_target():
    with pytest.raises(ValueError, match="Provide target_url or GitHub config"):
        job_test_run(github_owner="acme")
