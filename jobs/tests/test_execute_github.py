"""GitHub Actions runs against a fake GitHub API served on 127.0.0.1."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from cronhub.testing.factories import JobFactory
from cronhub.testing.servers import FakeGitHub
from jobs.models import ExecutionStatus, JobExecution, TriggerType
from jobs.services import job_execute

pytestmark = pytest.mark.django_db

FIRE = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)


def run_scheduled(job, fire=FIRE):
    return job_execute(job=job, trigger=TriggerType.SCHEDULED, scheduled_for=fire)


def assert_accepted_and_followed(execution):
    """GitHub accepted the dispatch: the execution stays running until its workflow run concludes."""
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.RUNNING
    assert execution.completed_at is None and execution.error_message is None
    assert execution.github_follow_started_at is not None
    assert execution.github_follow_next_at > execution.github_follow_started_at


def test_a_scheduled_run_posts_the_dispatch_with_path_headers_ref_inputs_and_token(fake_github, settings):
    job = JobFactory(github=True, github_owner="acme-qa", github_repo="api-tests",
                     github_workflow_name="nightly.yml",
                     metadata={"branchDetails": "release/1.2", "environment": "STG", "retries": 2})

    execution = run_scheduled(job)

    [request] = fake_github.dispatches
    assert request.method == "POST"
    assert request.path == "/repos/acme-qa/api-tests/actions/workflows/nightly.yml/dispatches"
    assert request.headers["authorization"] == f"Bearer {FakeGitHub.TOKEN}"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == settings.OUTBOUND_USER_AGENT
    assert request.json() == {
        "ref": "release/1.2",
        "inputs": {"branchDetails": "release/1.2", "environment": "STG", "retries": 2},
        "return_run_details": True,
    }
    assert_accepted_and_followed(execution)
    assert execution.trigger_type == TriggerType.SCHEDULED
    assert execution.scheduled_for == FIRE
    assert execution.response_status == 204
    assert execution.output == "Workflow triggered successfully on branch release/1.2"
    assert execution.github_ref == "release/1.2"
    assert execution.execution_type == "github_actions"
    assert execution.target == "acme-qa/api-tests/nightly.yml"


def test_with_following_switched_off_an_accepted_dispatch_is_the_success(fake_github, settings):
    settings.GITHUB_FOLLOW_RUNS = False

    execution = run_scheduled(JobFactory(github=True))

    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.SUCCESS and execution.response_status == 204
    assert execution.completed_at is not None and execution.duration_seconds >= 0
    assert execution.github_follow_started_at is None


@pytest.mark.parametrize(("metadata", "ref"), [
    ({}, "master"),
    ({"ref": "develop"}, "develop"),
    ({"branch": "feature-x"}, "feature-x"),
    ({"branchDetails": "main", "ref": "develop", "branch": "feature-x"}, "main"),
])
def test_the_ref_is_branch_details_then_ref_then_branch_then_master(fake_github, metadata, ref):
    execution = run_scheduled(JobFactory(github=True, metadata=metadata))

    assert fake_github.dispatches[0].json()["ref"] == ref
    assert fake_github.dispatches[0].json()["inputs"] == metadata
    assert execution.output == f"Workflow triggered successfully on branch {ref}"


def test_run_details_from_a_200_answer_are_stored_on_the_execution(fake_github):
    fake_github.run_details(987654321)

    execution = run_scheduled(JobFactory(github=True, github_owner="acme", github_repo="api"))

    assert_accepted_and_followed(execution)
    assert execution.response_status == 200
    assert execution.github_run_id == 987654321
    assert execution.github_run_url == "https://github.com/acme/api/actions/runs/987654321"


@pytest.mark.parametrize(("status", "body"), [
    (401, {"message": "Bad credentials"}),
    (422, {"message": "Unexpected inputs provided: [\"environment\"]"}),
    (500, "upstream exploded"),
])
def test_an_error_answer_fails_the_run_with_status_and_response(fake_github, status, body):
    fake_github.reply(status=status, body=body)

    execution = run_scheduled(JobFactory(github=True))

    execution.refresh_from_db()
    expected_text = body if isinstance(body, str) else json.dumps(body)
    assert execution.status == ExecutionStatus.FAILED
    assert execution.response_status == status
    assert execution.error_message == (
        f"GitHub Actions dispatch failed. Status: {status}, Response: {expected_text}")
    assert len(fake_github.dispatches) == 1


def test_long_error_responses_are_cut_at_1000_characters(fake_github):
    fake_github.reply(status=422, body="x" * 5000)

    execution = run_scheduled(JobFactory(github=True))

    assert execution.output == "x" * 1000
    assert execution.error_message == "GitHub Actions dispatch failed. Status: 422, Response: " + "x" * 1000


def test_a_workflow_named_without_extension_falls_back_to_yml_then_yaml(fake_github):
    fake_github.known_workflows = {"API_Launcher.yaml"}

    execution = run_scheduled(JobFactory(github=True, github_owner="acme", github_repo="qa",
                                         github_workflow_name="API_Launcher"))

    assert [r.path.split("/")[-2] for r in fake_github.dispatches] == [
        "API_Launcher", "API_Launcher.yml", "API_Launcher.yaml"]
    assert_accepted_and_followed(execution)
    assert execution.target == "acme/qa/API_Launcher.yaml"


def test_the_fallback_stops_at_the_first_answer_that_is_not_404(fake_github):
    fake_github.known_workflows = {"API_Launcher.yml"}

    execution = run_scheduled(JobFactory(github=True, github_workflow_name="API_Launcher"))

    assert len(fake_github.dispatches) == 2
    assert execution.target.endswith("/API_Launcher.yml")
    assert_accepted_and_followed(execution)


def test_a_404_without_any_matching_workflow_fails_after_three_attempts(fake_github):
    fake_github.known_workflows = set()

    execution = run_scheduled(JobFactory(github=True, github_workflow_name="Missing"))

    assert len(fake_github.dispatches) == 3
    assert execution.status == ExecutionStatus.FAILED
    assert execution.response_status == 404
    assert execution.error_message.startswith("GitHub Actions dispatch failed. Status: 404, Response: ")


@pytest.mark.parametrize("workflow", ["nightly.yml", "123456"])
def test_named_files_and_numeric_ids_get_no_fallback(fake_github, workflow):
    fake_github.known_workflows = set()

    run_scheduled(JobFactory(github=True, github_workflow_name=workflow))

    assert len(fake_github.dispatches) == 1


def test_a_rate_limited_dispatch_waits_for_the_retry_after_instead_of_failing(fake_github):
    fake_github.reply(status=429, body={"message": "You have exceeded a secondary rate limit."},
                      headers={"Retry-After": "60"})

    execution = run_scheduled(JobFactory(github=True, github_workflow_name="Launcher"))

    assert len(fake_github.dispatches) == 1  # no fallback, no immediate retry
    execution.refresh_from_db()
    assert (execution.status, execution.wait_reason) == (ExecutionStatus.RUNNING, "rate_limit")
    assert execution.sent_at is None and execution.attempts == 1
    [entry] = execution.attempt_log
    assert (entry["outcome"], entry["status"]) == ("rate_limited", 429)
    assert entry["error"].endswith("(rate limited by GitHub; retry after 60 s)")
    assert 55 <= (execution.next_attempt_at - timezone.now()).total_seconds() <= 61


def test_a_rate_limit_beyond_the_longest_wait_fails_the_run_with_that_reason(fake_github, settings):
    settings.GITHUB_RATE_LIMIT_MAX_WAIT_SECONDS = 60
    fake_github.reply(status=403, body={"message": "secondary rate limit"}, headers={"Retry-After": "120"})

    execution = run_scheduled(JobFactory(github=True))

    assert execution.status == ExecutionStatus.FAILED
    assert execution.response_status == 403
    assert "(rate limited by GitHub; retry after 120 s)" in execution.error_message
    assert execution.error_message.endswith(
        "(rate limited by GitHub: the dispatch could not go out within 60 s of being first held back "
        "(GITHUB_RATE_LIMIT_MAX_WAIT_SECONDS); GitHub answered 403 (rate limit))")


def test_a_dispatch_that_times_out_fails_with_a_readable_error(fake_github, settings):
    settings.OUTBOUND_READ_TIMEOUT = 0.5
    fake_github.reply(status=204, delay=5)

    execution = run_scheduled(JobFactory(github=True))

    assert execution.status == ExecutionStatus.FAILED
    assert execution.response_status is None
    assert execution.error_message.startswith("GitHub Actions request failed: No response from 127.0.0.1:")
    assert "read timeout" in execution.error_message


def test_without_a_token_nothing_is_sent_and_the_run_fails(fake_github, settings):
    settings.GITHUB_TOKEN = ""
    job = JobFactory(github=True, name="Nightly")

    execution = run_scheduled(job)

    assert fake_github.requests == []
    assert execution.status == ExecutionStatus.FAILED
    assert execution.error_message == "GitHub token not configured. Cannot trigger workflow for job 'Nightly'"
    assert execution.response_status is None


def test_an_unreachable_github_fails_the_run_with_the_network_error(settings):
    settings.GITHUB_API_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    settings.GITHUB_TOKEN = "t"

    execution = run_scheduled(JobFactory(github=True))

    assert execution.status == ExecutionStatus.FAILED
    assert execution.error_message.startswith(
        "GitHub Actions request failed: Could not connect to 127.0.0.1:9")


# --- manual runs and their overrides --------------------------------------------------------
def test_a_manual_run_uses_the_request_token_and_metadata(fake_github):
    job = JobFactory(github=True, metadata={"branchDetails": "main"})

    execution = job_execute(job=job, trigger=TriggerType.MANUAL,
                            overrides={"github_token": "per-run-token", "metadata": {"ref": "hotfix"}})

    [request] = fake_github.dispatches
    assert request.headers["authorization"] == "Bearer per-run-token"
    assert request.json()["ref"] == "hotfix"
    assert request.json()["inputs"] == {"ref": "hotfix"}
    assert execution.trigger_type == TriggerType.MANUAL and execution.scheduled_for is None
    assert_accepted_and_followed(execution)  # with the configured token: the one-off one is never kept
    assert execution.github_ref == "hotfix"
    job.refresh_from_db()
    assert job.metadata == {"branchDetails": "main"}  # overrides are never persisted


def test_dispatch_url_sets_the_workflow_and_explicit_fields_win_over_it(fake_github):
    job = JobFactory(github=True)

    job_execute(job=job, trigger=TriggerType.MANUAL, overrides={
        "dispatch_url": "https://github.com/other-org/other-repo/actions/workflows/deploy.yml",
        "github_repo": "chosen-repo",
        "github_owner": "",  # empty means: the job's own owner
    })

    assert fake_github.dispatches[0].path == "/repos/acme/chosen-repo/actions/workflows/deploy.yml/dispatches"


def test_a_manual_network_failure_says_request_failed(settings):
    settings.GITHUB_API_URL = "http://127.0.0.1:9"
    settings.GITHUB_TOKEN = "t"

    execution = job_execute(job=JobFactory(github=True), trigger=TriggerType.MANUAL)

    assert execution.error_message.startswith("Request failed: Could not connect to 127.0.0.1:9")


def test_a_manual_run_records_a_row_even_without_a_token(fake_github, settings):
    settings.GITHUB_TOKEN = ""
    job = JobFactory(github=True, name="Nightly")

    execution = job_execute(job=job, trigger=TriggerType.MANUAL)

    assert JobExecution.objects.get(pk=execution.pk).error_message == (
        "GitHub token not configured. Cannot trigger workflow for job 'Nightly'")
    assert execution.started_at <= timezone.now()


def test_a_github_server_without_run_details_gets_the_dispatch_again_without_the_flag(fake_github):
    fake_github.legacy = True

    execution = run_scheduled(JobFactory(github=True))

    assert [("return_run_details" in r.json()) for r in fake_github.dispatches] == [True, False]
    assert_accepted_and_followed(execution)
    assert execution.response_status == 204 and execution.github_run_id is None  # found by listing later


def test_a_renamed_repository_redirect_is_followed_with_the_same_post(fake_github):
    moved = "/repos/acme/new-name/actions/workflows/nightly.yml/dispatches"
    fake_github.reply(path="/repos/acme/api-tests/actions/workflows/nightly.yml/dispatches", status=307,
                      headers={"Location": fake_github.url_for(moved)})

    execution = run_scheduled(JobFactory(github=True))

    assert [(r.method, r.path) for r in fake_github.dispatches][-1] == ("POST", moved)
    assert fake_github.dispatches[-1].headers["authorization"] == f"Bearer {FakeGitHub.TOKEN}"
    assert_accepted_and_followed(execution)


def test_github_fields_that_are_only_blanks_fail_as_missing_configuration(fake_github):
    job = JobFactory(github=True, name="Nightly", github_repo="   ")

    execution = run_scheduled(job)

    assert fake_github.requests == []
    assert execution.status == ExecutionStatus.FAILED
    assert execution.error_message == "Missing GitHub configuration for job 'Nightly'"
