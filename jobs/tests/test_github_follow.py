"""Following dispatched GitHub workflow runs to their conclusion, against the fake GitHub on 127.0.0.1.

Each lookup is one real request to the fake (its run moves on as the test says);
notifications go to a real Slack receiver and a real SMTP server.
"""

import datetime as dt
import json

import pytest
from django.utils import timezone

from cronhub.testing.factories import JobFactory, PicTeamFactory
from integrations import github
from jobs.models import ExecutionStatus, JobExecution, TriggerType
from jobs.services import execution_recover, executions_needing_recovery, github_runs, job_execute
from notifications.models import Notification

pytestmark = [pytest.mark.django_db, pytest.mark.dbcompat]

FIRE = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
SECRET = "webhook-secret-for-tests"


@pytest.fixture
def watched_job(owner, slack_server, smtp_server, settings):
    """A GitHub job whose results reach Slack (with the PIC team's mention) and e-mail, success included."""
    settings.DEFAULT_FROM_EMAIL = "cronhub@example.com"
    slack_server.enable()
    PicTeamFactory(name="Platform QA", slug="platform-qa", slack_handle="<!subteam^S0QA>")
    return JobFactory(github=True, name="API regression", created_by=owner, pic_team="platform-qa",
                      github_owner="acme", github_repo="api-tests", github_workflow_name="launcher.yml",
                      metadata={"branchDetails": "main"}, notify_on_success=True,
                      enable_email_notifications=True, notification_emails="qa@example.com")


def dispatch(job, fire=FIRE):
    return job_execute(job=job, trigger=TriggerType.SCHEDULED, scheduled_for=fire)


def poll(execution, *, after: float = 0.0) -> str:
    """One lookup, at the moment it is due (``after`` seconds later)."""
    row = JobExecution.objects.get(pk=execution.pk)
    due = row.github_follow_next_at or timezone.now()
    return github_runs.poll(execution.pk, now=due + dt.timedelta(seconds=after))


def told(slack_server, smtp_server, execution):
    """(in-app titles, Slack texts, e-mail subjects) about this execution so far."""
    titles = sorted(set(Notification.objects.filter(related_execution_id=execution.pk)
                        .values_list("title", flat=True)))
    return titles, [m["text"] for m in slack_server.messages], [m["Subject"] for m in smtp_server.messages]


def test_a_run_followed_to_success_is_recorded_and_announced_once_at_the_conclusion(
        fake_github, watched_job, slack_server, smtp_server, owner):
    fake_github.run_details(5001)

    execution = dispatch(watched_job)

    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.RUNNING and execution.github_run_id == 5001
    assert told(slack_server, smtp_server, execution) == ([], [], [])  # nothing at dispatch

    assert poll(execution) == "updated"
    execution.refresh_from_db()
    assert (execution.status, execution.github_run_status) == (ExecutionStatus.RUNNING, "queued")

    fake_github.set_run(5001, "in_progress")
    assert poll(execution) == "updated"
    execution.refresh_from_db()
    assert execution.github_run_status == "in_progress" and execution.github_run_started_at is not None
    assert told(slack_server, smtp_server, execution) == ([], [], [])

    fake_github.set_run(5001, "completed", conclusion="success")
    assert poll(execution) == "concluded"

    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.SUCCESS and execution.error_message is None
    assert (execution.github_run_status, execution.github_run_conclusion) == ("completed", "success")
    assert execution.github_run_attempt == 1
    assert execution.github_run_completed_at is not None and execution.completed_at is not None
    assert execution.github_follow_next_at is None
    titles, slack, mails = told(slack_server, smtp_server, execution)
    assert titles == ["Job Completed"]
    assert Notification.objects.filter(related_execution_id=execution.pk, user=owner).count() == 1
    assert len(slack) == 1 and slack[0].startswith(":white_check_mark: <!subteam^S0QA> Job completed:")
    assert mails == ["Job Success: API regression"]

    # Nothing more: the row is closed, a late lookup or delivery changes and announces nothing.
    assert github_runs.poll(execution.pk, now=timezone.now() + dt.timedelta(hours=1)) == "not-due"
    assert github_runs.apply_webhook_run(github.RunSnapshot.from_json(
        fake_github.workflow_run_event(5001)["workflow_run"])) == 0
    assert told(slack_server, smtp_server, execution) == (titles, slack, mails)


def test_a_run_followed_to_failure_fails_the_execution_with_the_conclusion_and_pages_the_pic_team(
        fake_github, watched_job, slack_server, smtp_server):
    fake_github.run_details(5002)
    execution = dispatch(watched_job)
    fake_github.set_run(5002, "in_progress")
    poll(execution)
    fake_github.set_run(5002, "completed", conclusion="failure")

    assert poll(execution) == "concluded"

    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.FAILED
    assert execution.error_message == "workflow run concluded: failure"
    assert (execution.github_run_status, execution.github_run_conclusion) == ("completed", "failure")
    titles, slack, mails = told(slack_server, smtp_server, execution)
    assert titles == ["Job Failed"]
    assert slack == [f":x: <!subteam^S0QA> Job failed: <http://localhost:5173/jobs/{watched_job.pk}/edit|"
                     "API regression>: workflow run concluded: failure"]
    assert mails == ["Job Failure: API regression"]


@pytest.mark.parametrize("conclusion", ["cancelled", "timed_out", "skipped", "startup_failure"])
def test_every_conclusion_but_success_is_a_failure_that_names_it(fake_github, conclusion):
    fake_github.run_details(5003)
    execution = dispatch(JobFactory(github=True))
    fake_github.set_run(5003, "completed", conclusion=conclusion)

    poll(execution)

    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.FAILED
    assert execution.error_message == f"workflow run concluded: {conclusion}"
    assert execution.github_run_conclusion == conclusion


def test_lookups_are_conditional_and_an_unchanged_run_costs_a_304(fake_github):
    fake_github.run_details(5004)
    execution = dispatch(JobFactory(github=True))

    assert poll(execution) == "updated"
    assert poll(execution) == "unchanged"
    assert poll(execution) == "unchanged"
    fake_github.set_run(5004, "in_progress")
    assert poll(execution) == "updated"
    assert poll(execution) == "unchanged"

    first, *later = fake_github.run_lookups
    assert "if-none-match" not in first.headers
    assert all(r.headers["if-none-match"].startswith('W/"run-5004-') for r in later)
    assert fake_github.not_modified == 3
    execution.refresh_from_db()
    assert execution.github_run_status == "in_progress" and execution.github_follow_polls == 5


def test_the_interval_backs_off_from_the_minimum_to_the_maximum(fake_github, settings):
    settings.GITHUB_FOLLOW_MIN_SECONDS, settings.GITHUB_FOLLOW_MAX_SECONDS = 10, 180
    fake_github.run_details(5005)
    execution = dispatch(JobFactory(github=True))
    execution.refresh_from_db()
    gaps = [(execution.github_follow_next_at - execution.github_follow_started_at).total_seconds()]
    for _ in range(10):
        before = JobExecution.objects.get(pk=execution.pk).github_follow_next_at
        poll(execution)
        after = JobExecution.objects.get(pk=execution.pk).github_follow_next_at
        gaps.append((after - before).total_seconds())

    assert gaps[0] == pytest.approx(10, abs=1)
    assert gaps == sorted(gaps) and gaps[-1] == 180 and gaps[1] == 15
    assert len(fake_github.run_lookups) == 10  # one lookup per interval


def test_a_lookup_that_is_not_due_or_was_taken_by_someone_else_sends_nothing(fake_github):
    fake_github.run_details(5006)
    execution = dispatch(JobFactory(github=True))
    row = JobExecution.objects.get(pk=execution.pk)

    early = row.github_follow_next_at - dt.timedelta(seconds=1)
    assert github_runs.poll(execution.pk, now=early) == "not-due"
    assert github_runs.due_runs(now=row.github_follow_next_at) == [execution.pk]
    assert poll(execution) == "updated"
    # This interval's lookup is done: the same moment again sends nothing.
    assert github_runs.poll(execution.pk, now=row.github_follow_next_at) == "not-due"
    assert len(fake_github.run_lookups) == 1


def test_a_204_without_a_run_is_found_by_listing_the_workflows_dispatch_runs(fake_github):
    job = JobFactory(github=True, github_workflow_name="launcher.yml", metadata={"branchDetails": "release"})
    fake_github.add_run(owner="acme", repo="api-tests", workflow="launcher.yml", branch="release",
                        created_at=timezone.now() - dt.timedelta(minutes=5))  # an earlier run: not this one
    fake_github.add_run(owner="acme", repo="api-tests", workflow="launcher.yml", branch="main")  # elsewhere

    execution = dispatch(job)
    execution.refresh_from_db()
    assert execution.response_status == 204 and execution.github_run_id is None

    assert poll(execution) == "located"

    [listing] = fake_github.run_listings
    path, _, query = listing.path.partition("?")
    assert path == "/repos/acme/api-tests/actions/workflows/launcher.yml/runs"
    assert "event=workflow_dispatch" in query and "branch=release" in query and "created=%3E%3D" in query
    execution.refresh_from_db()
    [started] = [run for run in fake_github.runs.values() if run.branch == "release"
                 and run.created_at >= execution.started_at.replace(microsecond=0)]
    assert execution.github_run_id == started.id
    assert execution.github_run_url == f"https://github.com/acme/api-tests/actions/runs/{started.id}"
    assert execution.github_run_status == "queued"

    fake_github.set_run(started.id, "completed", conclusion="success")
    assert poll(execution) == "concluded"
    assert JobExecution.objects.get(pk=execution.pk).status == ExecutionStatus.SUCCESS


def test_a_204_whose_run_is_never_listed_is_recorded_unknown_with_the_reason_not_guessed(
        fake_github, settings, owner):
    fake_github.dispatch_creates_runs = False
    execution = dispatch(JobFactory(github=True, name="Nightly", created_by=owner))

    assert poll(execution) == "searching"  # within the window: looked for again later
    assert JobExecution.objects.get(pk=execution.pk).status == ExecutionStatus.RUNNING
    assert poll(execution, after=settings.GITHUB_FOLLOW_LOCATE_SECONDS) == "unknown"

    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.UNKNOWN
    assert execution.error_message == (
        "workflow run not identified: GitHub accepted the dispatch without naming its run, and no "
        "workflow_dispatch run of nightly.yml on master was listed within 120 s; its outcome is not followed")
    assert Notification.objects.get(user=owner).title == "Job outcome unknown"


def test_two_runs_in_the_dispatch_window_cannot_be_told_apart_and_none_is_picked(fake_github, settings):
    job = JobFactory(github=True)
    execution = dispatch(job)
    fake_github.add_run(owner="acme", repo="api-tests", workflow="nightly.yml", branch="master")  # same time

    outcome = poll(execution, after=settings.GITHUB_FOLLOW_LOCATE_SECONDS)

    execution.refresh_from_db()
    assert outcome == "unknown" and execution.status == ExecutionStatus.UNKNOWN
    assert execution.github_run_id is None
    assert "2 workflow_dispatch runs of nightly.yml on master were created in the dispatch window and " \
           "cannot be told apart" in execution.error_message


def test_a_run_that_other_records_already_follow_is_not_a_candidate(fake_github):
    fake_github.run_details(5010)
    first = dispatch(JobFactory(github=True, name="A"))  # 200 with run 5010
    fake_github.run_id = None
    second = dispatch(JobFactory(github=True, name="B"), fire=FIRE + dt.timedelta(minutes=1))  # 204

    assert poll(second) == "located"

    second.refresh_from_db()
    assert second.github_run_id not in (None, 5010)
    assert JobExecution.objects.get(pk=first.pk).github_run_id == 5010


def test_a_run_not_completed_within_the_follow_limit_is_failed_with_the_reason(fake_github, settings, owner):
    fake_github.run_details(5011)
    execution = dispatch(JobFactory(github=True, name="Soak", created_by=owner))
    fake_github.set_run(5011, "in_progress")
    poll(execution)

    execution.refresh_from_db()
    late = execution.github_follow_started_at + dt.timedelta(seconds=settings.GITHUB_FOLLOW_LIMIT_SECONDS + 1)
    JobExecution.objects.filter(pk=execution.pk).update(github_follow_next_at=late)
    assert github_runs.poll(execution.pk, now=late) == "failed"

    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.FAILED
    assert execution.error_message == (
        "workflow run not completed within 6 h of the dispatch (the follow limit); last status: in_progress; "
        "no longer followed")
    assert execution.github_follow_next_at is None
    assert Notification.objects.get(user=owner).message == f'Job "Soak" failed: {execution.error_message}'


def test_a_run_that_completes_at_the_limit_is_recorded_by_its_conclusion(fake_github, settings):
    fake_github.run_details(5012)
    execution = dispatch(JobFactory(github=True))
    fake_github.set_run(5012, "completed", conclusion="success")

    assert poll(execution, after=settings.GITHUB_FOLLOW_LIMIT_SECONDS + 1) == "concluded"
    assert JobExecution.objects.get(pk=execution.pk).status == ExecutionStatus.SUCCESS


def test_a_lookup_problem_is_kept_on_the_row_and_looked_up_again(fake_github):
    fake_github.run_details(5013)
    execution = dispatch(JobFactory(github=True))
    fake_github.reply(path="/repos/acme/api-tests/actions/runs/5013", status=502, body="bad gateway")

    assert poll(execution) == "problem"

    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.RUNNING
    assert execution.github_follow_error == "GitHub answered 502: bad gateway"
    del fake_github.routes["/repos/acme/api-tests/actions/runs/5013"]
    assert poll(execution) == "updated"
    assert JobExecution.objects.get(pk=execution.pk).github_follow_error is None


def test_recovery_never_takes_a_followed_run_whatever_its_deadline(fake_github):
    fake_github.run_details(5014)
    execution = dispatch(JobFactory(github=True))
    later = timezone.now() + dt.timedelta(hours=2)  # far past the dispatch's deadline_at

    assert executions_needing_recovery(now=later, leadership_start=True) == []
    assert execution_recover(execution.pk, claimer="new-leader:1:x", grace_seconds=300) == "not-ours"
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.RUNNING and execution.error_message is None


def test_a_poll_and_a_webhook_concluding_the_same_run_close_and_announce_it_once(fake_github, owner):
    fake_github.run_details(5015)
    execution = dispatch(JobFactory(github=True, created_by=owner))
    run = github.RunSnapshot.from_json(fake_github.set_run(5015, "completed", conclusion="failure")
                                       .as_json(fake_github.url))

    assert github_runs.apply_run(execution.pk, run) == "concluded"
    assert github_runs.apply_run(execution.pk, run) == "not-followed"
    assert poll(execution) == "not-due"
    assert Notification.objects.filter(user=owner).count() == 1


def test_a_manual_run_with_a_one_off_token_and_no_configured_token_is_not_followed(fake_github, settings):
    settings.GITHUB_TOKEN = ""

    execution = job_execute(job=JobFactory(github=True), trigger=TriggerType.MANUAL,
                            overrides={"github_token": "ghp_one_off_token_for_this_run"})

    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.SUCCESS and execution.github_follow_started_at is None


def test_the_execution_api_shows_the_run_while_followed_and_at_its_conclusion(fake_github, api, owner):
    fake_github.run_details(5016)
    execution = dispatch(JobFactory(github=True, created_by=owner))
    fake_github.set_run(5016, "in_progress")
    poll(execution)

    body = api(owner).get(f"/api/v2/executions/{execution.pk}").json()["execution"]
    assert body["status"] == "running"
    assert (body["github_run_id"], body["github_run_status"], body["github_run_conclusion"]) == (
        5016, "in_progress", None)
    assert body["github_run_started_at"].endswith("Z") and body["github_run_attempt"] == 1

    fake_github.set_run(5016, "completed", conclusion="success", attempt=2)
    poll(execution)
    body = api(owner).get(f"/api/v2/executions/{execution.pk}").json()["execution"]
    assert (body["status"], body["github_run_conclusion"]) == ("success", "success")
    assert body["github_run_attempt"] == 2
    assert body["github_run_completed_at"].endswith("Z")


# --- the workflow_run webhook -----------------------------------------------------------------------
def deliver(api, body: dict, *, event="workflow_run", secret: str | None = SECRET, signature=None):
    raw = json.dumps(body).encode()
    headers = {"HTTP_X_GITHUB_EVENT": event}
    if signature is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    elif secret is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = github.webhook_signature(raw, secret)
    return api().post("/api/v2/github/webhook", raw, content_type="application/json", **headers)


@pytest.fixture
def webhook_secret(settings):
    settings.GITHUB_WEBHOOK_SECRET = SECRET


def test_a_signed_workflow_run_delivery_updates_and_concludes_the_run(
        fake_github, webhook_secret, api, watched_job, slack_server, smtp_server):
    fake_github.run_details(5020)
    execution = dispatch(watched_job)

    fake_github.set_run(5020, "in_progress")
    response = deliver(api, fake_github.workflow_run_event(5020))
    assert response.status_code == 200
    assert response.json() == {"event": "workflow_run", "action": "in_progress", "updated": 1,
                               "message": "execution updated"}
    execution.refresh_from_db()
    assert (execution.status, execution.github_run_status) == (ExecutionStatus.RUNNING, "in_progress")

    fake_github.set_run(5020, "completed", conclusion="failure")
    assert deliver(api, fake_github.workflow_run_event(5020)).json()["updated"] == 1
    assert deliver(api, fake_github.workflow_run_event(5020)).json()["updated"] == 0  # redelivered

    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.FAILED
    assert execution.error_message == "workflow run concluded: failure"
    titles, slack, mails = told(slack_server, smtp_server, execution)
    assert titles == ["Job Failed"] and len(slack) == 1 and mails == ["Job Failure: API regression"]
    assert fake_github.run_lookups == []  # no polling was needed
    assert poll(execution) == "not-due"


@pytest.mark.parametrize("signature", [None, "", "sha256=" + "0" * 64, "sha1=abc",
                                       github.webhook_signature(b"{}", SECRET)])
def test_an_unsigned_or_wrongly_signed_delivery_is_refused_with_401_and_nothing_changes(
        fake_github, webhook_secret, api, owner, signature):
    fake_github.run_details(5021)
    execution = dispatch(JobFactory(github=True, created_by=owner))
    before = JobExecution.objects.filter(pk=execution.pk).values().get()
    fake_github.set_run(5021, "completed", conclusion="success")
    body = fake_github.workflow_run_event(5021)

    if signature is None:
        response = deliver(api, body, secret=None)
    else:
        response = deliver(api, body, signature=signature)

    assert response.status_code == 401
    assert response.json() == {"detail": "Missing or invalid X-Hub-Signature-256 signature"}
    assert JobExecution.objects.filter(pk=execution.pk).values().get() == before
    assert not Notification.objects.exists()


def test_a_delivery_signed_with_another_secret_is_refused(fake_github, webhook_secret, api):
    fake_github.run_details(5022)
    execution = dispatch(JobFactory(github=True))
    fake_github.set_run(5022, "completed", conclusion="success")

    assert deliver(api, fake_github.workflow_run_event(5022), secret="another-secret").status_code == 401
    assert JobExecution.objects.get(pk=execution.pk).status == ExecutionStatus.RUNNING


def test_without_a_configured_secret_every_delivery_is_refused(fake_github, api, settings):
    settings.GITHUB_WEBHOOK_SECRET = ""
    fake_github.run_details(5023)
    execution = dispatch(JobFactory(github=True))
    fake_github.set_run(5023, "completed", conclusion="success")

    response = deliver(api, fake_github.workflow_run_event(5023), secret="")

    assert response.status_code == 503
    assert response.json()["error"] == "GitHub webhook not configured"
    assert JobExecution.objects.get(pk=execution.pk).status == ExecutionStatus.RUNNING


def test_ping_is_answered_and_other_events_are_ignored(webhook_secret, api):
    ping = deliver(api, {"zen": "Design for failure.", "hook_id": 7}, event="ping")
    push = deliver(api, {"ref": "refs/heads/main"}, event="push")

    assert ping.status_code == 200 and ping.json()["message"] == "pong"
    assert push.status_code == 200 and push.json()["updated"] == 0


def test_a_delivery_for_a_run_nobody_follows_changes_nothing(fake_github, webhook_secret, api):
    run = fake_github.add_run(owner="acme", repo="api-tests", workflow="nightly.yml")

    response = deliver(api, fake_github.workflow_run_event(run.id))

    assert response.status_code == 200
    assert response.json()["updated"] == 0
    assert response.json()["message"] == "no running execution follows this run"


def test_a_signed_delivery_that_is_not_a_workflow_run_is_a_400(webhook_secret, api):
    response = deliver(api, {"action": "completed", "workflow_run": {"id": "not-a-number"}})

    assert response.status_code == 400 and response.json()["error"] == "Invalid payload"


def test_lookups_draw_on_the_tokens_budget_and_wait_while_the_primary_limit_is_spent(fake_github):
    fake_github.run_details(5090)
    fake_github.primary_limit(1, reset_in=600)  # the dispatch spends the token's last request
    execution = dispatch(JobFactory(github=True))
    row = JobExecution.objects.get(pk=execution.pk)
    assert row.status == ExecutionStatus.RUNNING and row.github_follow_next_at is not None

    assert poll(execution) == "rate-limited"

    assert fake_github.run_lookups == []  # nothing went out beyond the budget
    later = JobExecution.objects.get(pk=execution.pk).github_follow_next_at
    assert later >= timezone.now() + dt.timedelta(seconds=590)  # looked up again after the reset
