"""Who hears about a run: in-app rows for every active user, e-mail by the job's settings (real SMTP)."""

import datetime as dt

import pytest

from cronhub.testing.factories import JobFactory, NotificationPreferencesFactory, PicTeamFactory, UserFactory
from jobs.models import TriggerType
from jobs.services import job_execute
from notifications.models import Notification

pytestmark = pytest.mark.django_db

FIRE = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)


def run(job, trigger=TriggerType.SCHEDULED):
    fire = FIRE if trigger == TriggerType.SCHEDULED else None
    return job_execute(job=job, trigger=trigger, scheduled_for=fire)


def test_a_successful_run_notifies_every_active_user(webhook_server, owner, inactive_user):
    job = JobFactory(name="Nightly", created_by=owner, target_url=webhook_server.url_for("/hook"))

    execution = run(job)

    notes = Notification.objects.all()
    assert {n.user for n in notes} == {owner}  # inactive users receive nothing
    assert {(n.title, n.type, n.message) for n in notes} == {
        ("Job Completed", "success", 'Job "Nightly" completed successfully.')}
    assert all(n.related_job == job and n.related_execution == execution for n in notes)


def test_a_failed_run_notifies_with_the_error(webhook_server, owner):
    webhook_server.reply(status=503)
    job = JobFactory(name="Nightly", created_by=owner, target_url=webhook_server.url_for("/hook"))

    run(job)

    note = Notification.objects.get(user=owner)
    assert (note.title, note.type) == ("Job Failed", "error")
    assert note.message == 'Job "Nightly" failed: Webhook returned status 503'


def test_a_manual_network_failure_notification_drops_the_request_failed_prefix(owner, settings):
    job = JobFactory(name="Nightly", created_by=owner, target_url="http://127.0.0.1:9/hook")

    execution = run(job, TriggerType.MANUAL)

    assert execution.error_message.startswith("Request failed: Could not connect")
    assert Notification.objects.get(user=owner).message.startswith('Job "Nightly" failed: Could not connect')


def test_a_failure_mails_the_job_list_once_sorted_and_deduplicated(webhook_server, smtp_server, settings):
    settings.DEFAULT_FROM_EMAIL = "cronhub@example.com"
    webhook_server.reply(status=500)
    job = JobFactory(name="Nightly", target_url=webhook_server.url_for("/hook"),
                     enable_email_notifications=True,
                     notification_emails=" zed@example.com, amy@example.com,,amy@example.com ")

    run(job)

    [message] = smtp_server.messages
    assert message["Subject"] == "Job Failure: Nightly"
    assert message["From"] == "cronhub@example.com"
    assert message["To"] == "amy@example.com, zed@example.com"
    assert sorted(smtp_server.envelopes[0].rcpt_tos) == ["amy@example.com", "zed@example.com"]
    text = message.get_body(("plain",)).get_content()
    assert text.splitlines()[:6] == [
        "Job Execution Failed", "====================", "",
        "Job Name: Nightly", f"Job ID: {job.pk}", "Error: Webhook returned status 500"]
    html = message.get_body(("html",)).get_content()
    assert "Job Execution Failed" in html and "<code>Webhook returned status 500</code>" in html


def test_a_success_mails_only_when_notify_on_success_is_on(webhook_server, smtp_server):
    quiet = JobFactory(target_url=webhook_server.url_for("/hook"), enable_email_notifications=True,
                       notification_emails="ops@example.com")
    loud = JobFactory(name="Loud", target_url=webhook_server.url_for("/hook"),
                      enable_email_notifications=True, notify_on_success=True,
                      notification_emails="ops@example.com")

    run(quiet)
    execution = run(loud)

    [message] = smtp_server.messages
    assert message["Subject"] == "Job Success: Loud"
    assert message["To"] == "ops@example.com"
    text = message.get_body(("plain",)).get_content()
    assert text.splitlines()[:6] == [
        "Job Completed Successfully", "==========================", "",
        "Job Name: Loud", f"Job ID: {loud.pk}", f"Duration: {execution.duration_seconds:.2f}s"]


def test_no_mail_when_the_job_has_e_mail_switched_off(webhook_server, smtp_server):
    webhook_server.reply(status=500)
    run(JobFactory(target_url=webhook_server.url_for("/hook"), enable_email_notifications=False,
                   notification_emails="ops@example.com"))

    assert smtp_server.messages == []


def test_a_missing_github_token_failure_is_mailed_too(smtp_server, settings):
    settings.GITHUB_TOKEN = ""
    run(JobFactory(github=True, name="Nightly", enable_email_notifications=True,
                   notification_emails="ops@example.com"))

    [message] = smtp_server.messages
    assert "GitHub token not configured" in message.get_body(("plain",)).get_content()


def test_manual_runs_mail_like_scheduled_ones(webhook_server, smtp_server):
    webhook_server.reply(status=500)
    run(JobFactory(name="Manual", target_url=webhook_server.url_for("/hook"), enable_email_notifications=True,
                   notification_emails="ops@example.com"), TriggerType.MANUAL)

    assert [m["Subject"] for m in smtp_server.messages] == ["Job Failure: Manual"]


def test_mail_enabled_false_sends_nothing(webhook_server, smtp_server, settings):
    settings.MAIL_ENABLED = False
    webhook_server.reply(status=500)
    run(JobFactory(target_url=webhook_server.url_for("/hook"), enable_email_notifications=True,
                   notification_emails="ops@example.com"))

    assert smtp_server.messages == []


def test_a_user_who_switched_failure_mail_off_is_left_out(webhook_server, smtp_server):
    NotificationPreferencesFactory(user=UserFactory(email="muted@example.com"), email_on_job_failure=False)
    NotificationPreferencesFactory(user=UserFactory(email="keen@example.com"))
    webhook_server.reply(status=500)
    run(JobFactory(target_url=webhook_server.url_for("/hook"), enable_email_notifications=True,
                   notification_emails="muted@example.com,keen@example.com,outsider@example.com"))

    [message] = smtp_server.messages
    assert message["To"] == "keen@example.com, outsider@example.com"


def test_an_unreachable_mail_server_does_not_break_the_run(webhook_server, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens on the discard port
    settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 2
    webhook_server.reply(status=500)

    execution = run(JobFactory(target_url=webhook_server.url_for("/hook"), enable_email_notifications=True,
                               notification_emails="ops@example.com"))

    assert execution.status == "failed" and execution.completed_at is not None


def test_a_failed_run_is_posted_to_slack_with_the_pic_team_mention(webhook_server, slack_server, owner):
    slack_server.enable(channel="#qa-alerts")
    PicTeamFactory(slug="platform-qa", name="Platform QA", slack_handle="<!subteam^S0123ABCD>")
    webhook_server.reply(status=503)
    job = JobFactory(name="Nightly", created_by=owner, pic_team="platform-qa",
                     target_url=webhook_server.url_for("/hook"))

    run(job)

    assert slack_server.messages == [{
        "text": f":x: <!subteam^S0123ABCD> Job failed: <http://localhost:5173/jobs/{job.pk}/edit|Nightly>: "
                "Webhook returned status 503",
        "channel": "#qa-alerts",
    }]


def test_a_success_reaches_slack_only_when_the_job_asks_for_it(webhook_server, slack_server, owner):
    slack_server.enable()
    quiet = JobFactory(name="Quiet", created_by=owner, pic_team="nobody",
                       target_url=webhook_server.url_for("/a"))
    loud = JobFactory(name="Loud", created_by=owner, pic_team="nobody", notify_on_success=True,
                      target_url=webhook_server.url_for("/b"))

    run(quiet)
    run(loud)

    assert [m["text"] for m in slack_server.messages] == [
        f":white_check_mark: Job completed: <http://localhost:5173/jobs/{loud.pk}/edit|Loud>"]


def test_nothing_is_posted_when_slack_is_disabled(webhook_server, slack_server, owner):
    webhook_server.reply(status=500)
    run(JobFactory(created_by=owner, target_url=webhook_server.url_for("/hook")))
    assert slack_server.messages == []


def test_mail_and_slack_speak_the_notification_language_while_in_app_rows_stay_english(
        webhook_server, smtp_server, slack_server, owner, settings):
    settings.CRONHUB_NOTIFICATION_LANGUAGE = "ja"
    slack_server.enable()
    webhook_server.reply(status=500)
    job = JobFactory(name="Nightly", created_by=owner, pic_team="nobody",
                     target_url=webhook_server.url_for("/h"), enable_email_notifications=True,
                     notification_emails="amy@example.com")

    run(job)

    [message] = smtp_server.messages
    assert message["Subject"] == "ジョブ失敗: Nightly"
    assert message.get_body(("plain",)).get_content().splitlines()[:4] == [
        "ジョブの実行に失敗しました", "====================", "", "ジョブ名: Nightly"]
    assert slack_server.messages[0]["text"] == (
        f":x: ジョブが失敗しました: <http://localhost:5173/jobs/{job.pk}/edit|Nightly>: "
        "Webhook returned status 500")
    assert Notification.objects.filter(user=owner).get().title == "Job Failed"
