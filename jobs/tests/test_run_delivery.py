"""How a run is sent: retries with backoff, the per-job timeout, the overlap policy, the
webhook method, headers and signature (docs/execution.md). Real receivers on 127.0.0.1."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from requests.structures import CaseInsensitiveDict

from cronhub.testing.factories import JobFactory
from cronhub.testing.servers import Reply
from jobs.models import ExecutionStatus, Job, JobExecution, TriggerType
from jobs.services import dispatch, runs
from jobs.tests.delivery_support import LEADER, ScriptedServer, finished, leader, pooled, send_waiting_until
from notifications.models import Notification

# Waiting runs are sent by the dispatcher in threads of their own, as in the scheduler.
pytestmark = pytest.mark.django_db(transaction=True)


def fire(job, at=None):
    return runs.job_execute(job=job, trigger=TriggerType.SCHEDULED, scheduled_for=at or timezone.now(),
                            claimer=LEADER)


@pytest.fixture
def scripted():
    servers = []

    def start(*script, default=None):
        server = ScriptedServer(*script, default=default).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# --- retries -------------------------------------------------------------------------------------------
@pytest.mark.dbcompat
def test_a_webhook_answering_503_twice_then_200_is_one_run_of_three_attempts_announced_once(
        scripted, owner):
    server = scripted(Reply(503, "busy"), Reply(503, "busy"), default=Reply(200, "done"))
    job = JobFactory(target_url=server.url_for("/hook"), metadata={"a": 1}, max_attempts=3,
                     retry_backoff_seconds=1, created_by=owner)

    first = fire(job)

    assert (first.status, first.wait_reason, first.attempts) == ("running", "retry", 1)
    assert Notification.objects.count() == 0  # nothing announced while the run waits
    [run] = send_waiting_until(finished(first))
    assert JobExecution.objects.count() == 1
    assert (run.status, run.attempts, run.response_status, run.output) == ("success", 3, 200, "done")
    assert [(e["attempt"], e["outcome"], e["status"]) for e in run.attempt_log] == [
        (1, "failed", 503), (2, "failed", 503), (3, "success", 200)]
    assert all("retry_at" in e for e in run.attempt_log[:2]) and "retry_at" not in run.attempt_log[2]
    assert run.wait_reason is None and run.next_attempt_at is None and run.error_message is None
    assert list(Notification.objects.values_list("user__username", "title")) == [
        (owner.username, "Job Completed")]
    keys = {r.headers["idempotency-key"] for r in server.requests}
    assert keys == {str(run.pk)}
    assert [r.headers["x-cronhub-attempt"] for r in server.requests] == ["1", "2", "3"]


def test_the_backoff_doubles_per_retry_within_its_jitter_and_is_bounded(settings):
    settings.RETRY_BACKOFF_MAX_SECONDS = 50
    waits = {attempt: [dispatch.backoff_seconds(10, attempt) for _ in range(200)] for attempt in (1, 2, 3, 4)}
    for attempt, ceiling in ((1, 10), (2, 20), (3, 40), (4, 50)):
        assert all(ceiling / 2 <= w <= ceiling for w in waits[attempt])
        assert max(waits[attempt]) - min(waits[attempt]) > ceiling / 10  # jitter spreads them


def test_a_run_that_keeps_failing_ends_failed_after_its_last_attempt_with_one_failure_notice(scripted, owner):
    server = scripted(default=Reply(502, "bad gateway"))
    job = JobFactory(target_url=server.url_for("/hook"), max_attempts=2, retry_backoff_seconds=1,
                     created_by=owner)

    [run] = send_waiting_until(finished(fire(job)))

    assert (run.status, run.attempts, run.response_status) == ("failed", 2, 502)
    assert run.error_message == "Webhook returned status 502"
    assert len(server.requests) == 2
    assert list(Notification.objects.values_list("title", flat=True)) == ["Job Failed"]


@pytest.mark.parametrize("status", [400, 401, 404, 409, 422])
def test_other_4xx_answers_are_never_retried(scripted, status):
    server = scripted(default=Reply(status, "no"))
    run = fire(JobFactory(target_url=server.url_for("/hook"), max_attempts=5, retry_backoff_seconds=1))

    assert (run.status, run.attempts) == ("failed", 1)
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [408, 429, 500, 503])
def test_408_429_and_5xx_are_retried(scripted, status):
    server = scripted(Reply(status, "later"))
    run = fire(JobFactory(target_url=server.url_for("/hook"), max_attempts=2, retry_backoff_seconds=1))

    assert (run.status, run.wait_reason) == ("running", "retry")
    [done] = send_waiting_until(finished(run))
    assert (done.status, done.attempts) == ("success", 2)


def test_a_connection_refused_is_retried(settings):
    run = fire(JobFactory(target_url="http://127.0.0.1:9/hook", max_attempts=2, retry_backoff_seconds=1))

    assert (run.status, run.wait_reason) == ("running", "retry")
    assert run.attempt_log[0]["error"].startswith("Webhook call failed: Could not connect to 127.0.0.1:9")


def test_a_refusal_by_the_outbound_url_guard_is_never_retried(settings):
    settings.WEBHOOK_BLOCK_PRIVATE = True
    run = fire(JobFactory(target_url="http://127.0.0.1:9/hook", max_attempts=5))

    assert (run.status, run.attempts) == ("failed", 1)
    assert "refused" in run.error_message.lower() or "not allowed" in run.error_message.lower()


def test_a_waiting_retry_is_not_recovered_as_an_interrupted_run_and_survives_a_new_leader(scripted):
    server = scripted(Reply(503))
    run = fire(JobFactory(target_url=server.url_for("/hook"), max_attempts=2, retry_backoff_seconds=1))

    assert runs.executions_needing_recovery(now=timezone.now() + dt.timedelta(hours=1),
                                            leadership_start=True) == []
    # Another leadership (another process) sends it when due: the state is in the database.
    other = leader()
    other.claimer = "other-host:2:new-leader"
    [done] = send_waiting_until(finished(run), dispatcher=other)
    assert (done.status, done.claimed_by, done.attempts) == ("success", "other-host:2:new-leader", 2)


@pytest.mark.dbcompat
def test_a_retry_taken_up_by_a_process_that_stopped_before_sending_is_requeued_not_missed(scripted):
    server = scripted(Reply(503))
    run = fire(JobFactory(target_url=server.url_for("/hook"), max_attempts=3, retry_backoff_seconds=1))
    JobExecution.objects.filter(pk=run.pk).update(next_attempt_at=timezone.now())
    run.refresh_from_db()
    assert runs._take_waiting(run, "dead-host:3:gone")  # taken up, then the process died

    [pk] = runs.executions_needing_recovery(now=timezone.now() + dt.timedelta(hours=1), leadership_start=True)
    assert runs.execution_recover(pk, claimer=LEADER, grace_seconds=1) == "requeued"
    [done] = send_waiting_until(finished(run))
    assert (done.status, done.attempts) == ("success", 2)
    assert [e["outcome"] for e in done.attempt_log] == ["failed", "requeued", "success"]


def test_a_retry_goes_to_the_first_calls_url_and_ends_if_the_job_became_a_github_job(scripted):
    first, moved = scripted(Reply(503), Reply(503)), scripted()
    job = JobFactory(target_url=first.url_for("/hook"), max_attempts=3, retry_backoff_seconds=1)
    other = JobFactory(target_url=first.url_for("/other"), max_attempts=3, retry_backoff_seconds=1)
    retried, changed = fire(job), fire(other)
    Job.objects.filter(pk=job.pk).update(target_url=moved.url_for("/new"))
    Job.objects.filter(pk=other.pk).update(target_url=None, github_owner="acme", github_repo="r",
                                           github_workflow_name="w.yml")

    done, ended = send_waiting_until(finished(retried, changed))

    assert (done.status, done.attempts) == ("success", 2) and moved.requests == []
    assert [r.path for r in first.requests] == ["/hook", "/other", "/hook"]
    assert ended.status == "failed" and ended.attempts == 1
    assert ended.error_message.endswith("(no further attempt: the job's target changed while the run waited)")


def test_a_manual_run_with_retries_answers_running_and_is_finished_by_the_scheduler(scripted, api, owner):
    server = scripted(Reply(503))
    job = JobFactory(target_url=server.url_for("/hook"), max_attempts=2, retry_backoff_seconds=1,
                     created_by=owner, metadata={"x": 1})

    response = api(owner).post(f"/api/v2/jobs/{job.pk}/execute", {"metadata": {"x": 2}}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "running"
    detail = api(owner).get(f"/api/v2/executions/{body['execution_id']}").json()["execution"]
    assert (detail["wait_reason"], detail["attempts"]) == ("retry", 1)
    assert detail["next_attempt_at"].endswith("Z")
    assert detail["attempt_log"][0]["status"] == 503
    [done] = send_waiting_until(finished(JobExecution.objects.get(pk=body["execution_id"])))
    assert (done.status, done.attempts) == ("success", 2)
    assert [r.json() for r in server.requests] == [{"x": 2}, {"x": 2}]  # the overrides, kept for the retry


# --- timeout ---------------------------------------------------------------------------------------------
def test_the_jobs_timeout_is_the_calls_total_deadline(scripted, settings):
    settings.OUTBOUND_READ_TIMEOUT = 30
    server = scripted(default=Reply(200, "late", delay=5))
    job = JobFactory(target_url=server.url_for("/slow"), timeout_seconds=1)

    started = timezone.now()
    run = fire(job)

    assert run.status == "failed" and run.response_status is None
    assert run.error_message == (f"Webhook call failed: No complete response from 127.0.0.1:{server.port} "
                                 "within 1 s (total timeout)")
    assert (run.completed_at - started).total_seconds() < 3
    assert run.deadline_at - run.sent_at == dt.timedelta(seconds=1 + dispatch.RECORD_MARGIN_SECONDS)


def test_a_timeout_is_retried_with_the_same_idempotency_key(scripted):
    server = scripted(Reply(200, "late", delay=5))
    job = JobFactory(target_url=server.url_for("/slow"), timeout_seconds=1, max_attempts=2,
                     retry_backoff_seconds=1)

    [run] = send_waiting_until(finished(fire(job)))

    assert (run.status, run.attempts) == ("success", 2)
    assert run.attempt_log[0]["error"].endswith("within 1 s (total timeout)")
    assert len({r.headers["idempotency-key"] for r in server.requests}) == 1


def test_a_manual_run_in_a_web_request_is_also_bounded_by_the_outbound_total_timeout(settings):
    settings.OUTBOUND_TOTAL_TIMEOUT = 20
    job = JobFactory(timeout_seconds=120)
    assert dispatch.call_timeout(job) == 120
    assert dispatch.call_timeout(job, in_request=True) == 20


# --- overlap policy ---------------------------------------------------------------------------------------
def busy_run(job):
    """The job's previous run, still running (a GitHub workflow followed, a call in flight, a retry)."""
    return JobExecution.objects.create(job=job, status=ExecutionStatus.RUNNING, trigger_type="scheduled",
                                       scheduled_for=timezone.now() - dt.timedelta(hours=1),
                                       claimed_by=LEADER, sent_at=timezone.now())


@pytest.mark.dbcompat
def test_skip_records_a_fire_during_the_previous_run_as_skipped_with_the_reason(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"))
    assert job.overlap_policy == "skip"
    previous = busy_run(job)

    run = fire(job)

    assert run.status == "skipped" and webhook_server.requests == []
    assert run.error_message.startswith("the previous run of this job was still running (started ")
    assert run.error_message.endswith("Z) (overlap policy: skip)")
    previous.finish(status="success")
    assert fire(job, timezone.now() + dt.timedelta(minutes=1)).status == "success"


def test_a_run_waiting_for_its_retry_counts_as_still_running(scripted):
    server = scripted(Reply(503))
    job = JobFactory(target_url=server.url_for("/hook"), max_attempts=2, retry_backoff_seconds=60)
    waiting = fire(job)

    run = fire(job, timezone.now() + dt.timedelta(minutes=1))

    assert waiting.wait_reason == "retry" and run.status == "skipped"
    assert ", waiting for a retry) (overlap policy: skip)" in run.error_message
    assert len(server.requests) == 1


def test_allow_runs_alongside_the_previous_run(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"), overlap_policy="allow")
    busy_run(job)

    assert fire(job).status == "success"
    assert len(webhook_server.requests) == 1


@pytest.mark.dbcompat
def test_buffer_one_keeps_one_run_waiting_that_starts_when_the_previous_ends(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"), overlap_policy="buffer_one")
    previous = busy_run(job)
    now = timezone.now()

    buffered = fire(job, now)
    extra = fire(job, now + dt.timedelta(minutes=1))

    assert (buffered.status, buffered.wait_reason) == ("running", "previous_run")
    assert extra.status == "skipped" and "one run already waits for it (overlap policy: buffer_one)" in (
        extra.error_message)
    assert runs.executions_waiting(now=timezone.now()) == []  # the previous run still runs
    assert webhook_server.requests == []

    previous.finish(status="success")
    [done] = send_waiting_until(finished(buffered))
    assert (done.status, done.scheduled_for, done.attempts) == ("success", now, 1)
    assert len(webhook_server.requests) == 1


def test_the_schedulers_own_overlap_follows_the_policy(webhook_server):
    """A fire while this process still dispatches the previous run (APScheduler's max instances)."""
    skip = JobFactory(target_url=webhook_server.url_for("/skip"))
    allow = JobFactory(target_url=webhook_server.url_for("/allow"), overlap_policy="allow")
    buffer = JobFactory(target_url=webhook_server.url_for("/buffer"), overlap_policy="buffer_one")
    dispatcher = leader()
    now = timezone.now().replace(microsecond=0)
    for job in (skip, allow, buffer):
        busy_run(job)
        pooled(dispatcher.record_overlap, job.pk, [now])

    by_job = {row.job_id: row for row in JobExecution.objects.filter(scheduled_for=now)}
    assert by_job[skip.pk].status == "skipped" and "overlap policy: skip" in by_job[skip.pk].error_message
    assert by_job[allow.pk].status == "success"
    assert (by_job[buffer.pk].status, by_job[buffer.pk].wait_reason) == ("running", "previous_run")
    assert [r.path for r in webhook_server.requests] == ["/allow"]


def test_a_buffered_run_of_a_job_paused_meanwhile_is_skipped(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"), overlap_policy="buffer_one")
    previous = busy_run(job)
    buffered = fire(job)
    previous.finish(status="success")
    job.pause()

    [done] = send_waiting_until(finished(buffered))

    assert done.status == "skipped" and "paused" in done.error_message
    assert webhook_server.requests == []


# --- webhook options ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "metadata", "sent"), [
    ("", {"a": 1}, ("POST", b'{"a": 1}')),
    ("", None, ("GET", b"")),
    ("PUT", {"a": 1}, ("PUT", b'{"a": 1}')),
    ("PATCH", None, ("PATCH", b"{}")),
    ("POST", None, ("POST", b"{}")),
    ("GET", {"a": 1}, ("GET", b"")),
    ("DELETE", {"a": 1}, ("DELETE", b"")),
])
def test_the_webhook_method_decides_what_is_sent(webhook_server, method, metadata, sent):
    fire(JobFactory(target_url=webhook_server.url_for("/hook"), webhook_method=method, metadata=metadata))

    [request] = webhook_server.requests
    assert (request.method, request.body) == sent
    assert ("content-type" in request.headers) == bool(sent[1])


def test_extra_headers_are_sent_with_cronhubs_own(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"),
                     webhook_headers={"Authorization": "Bearer s3cret", "X-Team": "qa"})

    run = fire(job)

    [request] = webhook_server.requests
    assert request.headers["authorization"] == "Bearer s3cret" and request.headers["x-team"] == "qa"
    assert request.headers["idempotency-key"] == str(run.pk)


def readme_snippet():
    """The verification snippet of the README, as published."""
    text = (Path(django_settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- signature-snippet -->\s*```python\n(.*?)```", text, re.S)
    assert match, "the README's signature snippet is missing"
    namespace: dict = {}
    exec(compile(match.group(1), "README.md", "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify_cronhub_call"]


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_a_signed_call_verifies_with_the_readme_snippet(webhook_server, method):
    job = JobFactory(target_url=webhook_server.url_for("/hook"), metadata={"env": "stg"},
                     webhook_method=method, webhook_signing_secret="whsec_test_123")
    verify = readme_snippet()

    fire(job)

    [request] = webhook_server.requests
    headers = CaseInsensitiveDict(request.headers)
    assert re.fullmatch(r"sha256=[0-9a-f]{64}", headers["X-Cronhub-Signature-256"])
    assert verify("whsec_test_123", headers, request.body)
    assert not verify("another-secret", headers, request.body)
    assert not verify("whsec_test_123", headers, request.body + b" ")
    old = str(int(headers["X-Cronhub-Timestamp"]) - 301)  # well signed, but too old: a replay
    stale = CaseInsensitiveDict({**headers, "X-Cronhub-Timestamp": old,
                                 "X-Cronhub-Signature-256": dispatch.signature("whsec_test_123", old,
                                                                               request.body)})
    assert not verify("whsec_test_123", stale, request.body)


def test_an_unsigned_job_sends_no_signature(webhook_server):
    fire(JobFactory(target_url=webhook_server.url_for("/hook")))

    [request] = webhook_server.requests
    assert "x-cronhub-signature-256" not in request.headers and "x-cronhub-timestamp" not in request.headers


def test_webhook_request_is_pure_and_complete():
    job = JobFactory(target_url="https://hooks.example/x", metadata={"k": "v"}, webhook_method="PUT",
                     webhook_headers={"X-Api-Key": "abc"}, webhook_signing_secret="sec", timeout_seconds=7)
    execution = JobExecution(job=job, status="running", trigger_type="scheduled",
                             scheduled_for=dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC))
    at = dt.datetime(2026, 3, 2, 1, 0, 5, tzinfo=dt.UTC)

    request = dispatch.webhook_request(job, execution, 2, now=at)

    assert (request.method, request.url, request.body, request.timeout) == (
        "PUT", "https://hooks.example/x", b'{"k": "v"}', 7.0)
    headers = request.header_dict
    assert headers["X-Api-Key"] == "abc" and headers["Idempotency-Key"] == str(execution.pk)
    assert headers["X-Cronhub-Attempt"] == "2" and headers["X-Cronhub-Timestamp"] == str(int(at.timestamp()))
    assert headers["X-Cronhub-Signature-256"] == dispatch.signature("sec", headers["X-Cronhub-Timestamp"],
                                                                    request.body)
    assert dispatch.webhook_request(job, execution, 2, now=at) == request
