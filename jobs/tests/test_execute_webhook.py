"""Webhook runs against a receiver served on 127.0.0.1."""

import datetime as dt

import pytest

from cronhub.testing.factories import JobFactory
from integrations import urlguard
from jobs.models import ExecutionStatus, TriggerType
from jobs.services import job_execute

pytestmark = pytest.mark.django_db

FIRE = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)


def run_scheduled(job):
    return job_execute(job=job, trigger=TriggerType.SCHEDULED, scheduled_for=FIRE)


def test_a_job_with_metadata_posts_it_as_json(webhook_server, settings):
    job = JobFactory(target_url=webhook_server.url_for("/hook?x=1"), metadata={"env": "stg", "n": 3})

    execution = run_scheduled(job)

    [request] = webhook_server.requests
    assert (request.method, request.path) == ("POST", "/hook?x=1")
    assert request.json() == {"env": "stg", "n": 3}
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == settings.OUTBOUND_USER_AGENT
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.SUCCESS
    assert execution.response_status == 200
    assert execution.output == "ok"
    assert execution.execution_type == "webhook"
    assert execution.target == webhook_server.url_for("/hook?x=1")


def test_a_job_without_metadata_sends_a_get(webhook_server):
    run_scheduled(JobFactory(target_url=webhook_server.url_for("/ping"), metadata=None))

    assert [(r.method, r.path, r.body) for r in webhook_server.requests] == [("GET", "/ping", b"")]


def test_the_output_keeps_the_first_1000_characters_of_the_body(webhook_server):
    webhook_server.reply(status=201, body="y" * 3000)

    execution = run_scheduled(JobFactory(target_url=webhook_server.url_for("/hook")))

    assert execution.status == ExecutionStatus.SUCCESS
    assert execution.response_status == 201
    assert execution.output == "y" * 1000


def test_a_500_answer_fails_the_run(webhook_server):
    webhook_server.reply(status=500, body="database down")

    execution = run_scheduled(JobFactory(target_url=webhook_server.url_for("/hook")))

    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.FAILED
    assert execution.response_status == 500
    assert execution.error_message == "Webhook returned status 500"
    assert execution.output == "database down"


def test_a_slow_receiver_times_out(webhook_server, settings):
    settings.OUTBOUND_READ_TIMEOUT = 0.5
    webhook_server.reply(status=200, body="late", delay=5)

    execution = run_scheduled(JobFactory(target_url=webhook_server.url_for("/slow")))

    assert execution.status == ExecutionStatus.FAILED
    assert execution.response_status is None
    assert execution.error_message == (
        f"Webhook call failed: No response from 127.0.0.1:{webhook_server.port} within 0.5 s (read timeout)")


def test_a_dripping_webhook_fails_the_run_at_the_total_deadline(drip_server, settings):
    # A byte every 0.5 s never trips the 30 s read timeout; the job's 2 s timeout (the call's
    # total deadline) ends the call.
    settings.OUTBOUND_READ_TIMEOUT = 30

    execution = run_scheduled(JobFactory(target_url=drip_server.url_for("/drip"), metadata={"a": 1},
                                         timeout_seconds=2))

    assert execution.status == ExecutionStatus.FAILED
    assert execution.response_status is None
    assert execution.error_message == ("Webhook call failed: No complete response from "
                                       f"127.0.0.1:{drip_server.port} within 2 s (total timeout)")
    [sent] = drip_server.wait_hung_up()
    assert sent < drip_server.length and drip_server.completed == 0


def test_a_manual_run_that_times_out_says_request_failed(webhook_server, settings):
    settings.OUTBOUND_READ_TIMEOUT = 0.5
    webhook_server.reply(delay=5)

    execution = job_execute(job=JobFactory(target_url=webhook_server.url_for("/slow")),
                            trigger=TriggerType.MANUAL)

    assert execution.error_message.startswith("Request failed: No response from 127.0.0.1:")


def test_a_redirect_to_an_allowed_address_is_followed_and_checked(webhook_server):
    webhook_server.reply(path="/old", status=307, headers={"Location": "/new"})
    webhook_server.reply(path="/new", status=200, body="moved here")

    execution = run_scheduled(JobFactory(target_url=webhook_server.url_for("/old"), metadata={"a": 1}))

    assert [(r.method, r.path, r.json()) for r in webhook_server.requests] == [
        ("POST", "/old", {"a": 1}), ("POST", "/new", {"a": 1})]
    assert execution.status == ExecutionStatus.SUCCESS
    assert execution.output == "moved here"


def test_a_redirect_to_the_metadata_address_is_refused(webhook_server):
    webhook_server.reply(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    execution = run_scheduled(JobFactory(target_url=webhook_server.url_for("/hook")))

    assert len(webhook_server.requests) == 1
    assert execution.status == ExecutionStatus.FAILED
    assert execution.error_message == (
        "Webhook call failed: Redirect to http://169.254.169.254/latest/meta-data/ refused: "
        "Refused outbound request to 169.254.169.254: link-local or cloud metadata address")


def test_a_redirect_to_a_name_resolving_to_the_metadata_address_is_refused(webhook_server, monkeypatch):
    real = urlguard.resolve_host
    monkeypatch.setattr(urlguard, "resolve_host", lambda host, port: (
        ["169.254.169.254"] if host == "metadata.internal.test" else real(host, port)))
    webhook_server.reply(status=301, headers={"Location": "http://metadata.internal.test/latest/"})

    execution = run_scheduled(JobFactory(target_url=webhook_server.url_for("/hook")))

    assert execution.error_message.endswith(
        "Refused outbound request to metadata.internal.test (169.254.169.254): "
        "link-local or cloud metadata address")


def test_a_target_on_the_metadata_address_is_never_called():
    execution = run_scheduled(JobFactory(target_url="http://169.254.169.254/latest/meta-data/"))

    assert execution.status == ExecutionStatus.FAILED
    assert execution.error_message == (
        "Webhook call failed: Refused outbound request to 169.254.169.254: "
        "link-local or cloud metadata address")


def test_private_targets_are_refused_when_the_deployment_blocks_them(webhook_server, settings):
    settings.WEBHOOK_BLOCK_PRIVATE = True

    execution = run_scheduled(JobFactory(target_url=webhook_server.url_for("/hook")))

    assert webhook_server.requests == []
    assert execution.error_message == ("Webhook call failed: Refused outbound request to 127.0.0.1: "
                                       "private or loopback address (WEBHOOK_BLOCK_PRIVATE=true)")


def test_too_many_redirects_fail_the_run(webhook_server):
    webhook_server.reply(status=302, headers={"Location": "/again"})

    execution = run_scheduled(JobFactory(target_url=webhook_server.url_for("/hook")))

    assert len(webhook_server.requests) == 6
    assert execution.error_message == "Webhook call failed: Too many redirects (more than 5)"


def test_a_job_without_any_target_fails_with_invalid_configuration():
    job = JobFactory(name="Broken", target_url=None)

    execution = run_scheduled(job)

    assert execution.status == ExecutionStatus.FAILED
    assert execution.execution_type is None
    assert execution.error_message == (
        "Job 'Broken' has invalid configuration (neither GitHub Actions nor webhook URL)")


def test_github_wins_when_a_job_has_both_targets(webhook_server, fake_github):
    job = JobFactory(github=True, target_url=webhook_server.url_for("/hook"))

    execution = run_scheduled(job)

    assert webhook_server.requests == [] and len(fake_github.dispatches) == 1
    assert execution.execution_type == "github_actions"


def test_a_manual_target_url_override_is_used_for_this_run_only(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/configured"))

    job_execute(job=job, trigger=TriggerType.MANUAL,
                overrides={"target_url": webhook_server.url_for("/other")})
    job_execute(job=job, trigger=TriggerType.MANUAL, overrides={"target_url": ""})

    assert [r.path for r in webhook_server.requests] == ["/other", "/configured"]
