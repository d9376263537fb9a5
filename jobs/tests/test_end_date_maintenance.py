"""Weekly end-date maintenance with a pinned clock in Asia/Tokyo (today passed explicitly)."""

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command

from cronhub.testing.factories import AdminFactory, JobFactory, PicTeamFactory, UserFactory
from jobs.models import Job, scheduler_today
from jobs.services import (
    end_date_maintenance_run,
    jobs_auto_pause_expired,
    jobs_send_end_date_reminders,
)
from notifications.models import Notification

pytestmark = pytest.mark.django_db

UTC = dt.UTC
SUNDAY_LAST_SECOND = dt.datetime(2026, 3, 8, 14, 59, 59, tzinfo=UTC)  # Sun 8 Mar 23:59:59 JST
# Mon 9 Mar 00:00:00 JST, still Sunday in UTC
MONDAY_MIDNIGHT = dt.datetime(2026, 3, 8, 15, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def tokyo(settings):
    settings.SCHEDULER_TIMEZONE = "Asia/Tokyo"
    settings.FRONTEND_BASE_URL = "http://localhost:5173"


@pytest.fixture
def people():
    creator = UserFactory(username="creator", email="creator@example.com")
    admin = AdminFactory(username="admin1", email="admin1@example.com")
    UserFactory(username="bystander")
    return creator, admin


def test_the_scheduler_day_turns_at_midnight_tokyo_time():
    assert scheduler_today(SUNDAY_LAST_SECOND) == dt.date(2026, 3, 8)
    assert scheduler_today(MONDAY_MIDNIGHT) == dt.date(2026, 3, 9)


def test_reminders_go_out_once_per_week_and_again_after_the_monday_boundary(people):
    creator, admin = people
    job = JobFactory(name="Nightly", created_by=creator, end_date=dt.date(2026, 3, 20))

    assert jobs_send_end_date_reminders(today=scheduler_today(SUNDAY_LAST_SECOND)) == 1
    job.refresh_from_db()
    assert job.end_date_reminded_for == dt.date(2026, 3, 2)  # the Monday of that week

    assert jobs_send_end_date_reminders(today=scheduler_today(MONDAY_MIDNIGHT)) == 1
    assert jobs_send_end_date_reminders(today=dt.date(2026, 3, 9)) == 0  # same Monday, later
    assert jobs_send_end_date_reminders(today=dt.date(2026, 3, 15)) == 0  # Sunday of the same week
    assert jobs_send_end_date_reminders(today=dt.date(2026, 3, 16)) == 1  # next Monday

    messages = list(Notification.objects.filter(user=creator).order_by("created_at")
                    .values_list("message", flat=True))
    assert messages == [
        'Job "Nightly" ends on 2026-03-20 JST (12 day(s) left). PIC Team: platform-qa',
        'Job "Nightly" ends on 2026-03-20 JST (11 day(s) left). PIC Team: platform-qa',
        'Job "Nightly" ends on 2026-03-20 JST (4 day(s) left). PIC Team: platform-qa',
    ]
    assert Notification.objects.filter(user=admin).count() == 3
    assert Notification.objects.count() == 6  # the bystander hears nothing


def test_the_reminder_window_is_today_to_thirty_days_for_active_jobs_only(people):
    today = dt.date(2026, 3, 9)
    JobFactory(name="ends today", end_date=today)
    JobFactory(name="ends in 30", end_date=today + dt.timedelta(days=30))
    JobFactory(name="ends in 31", end_date=today + dt.timedelta(days=31))
    JobFactory(name="ended", end_date=today - dt.timedelta(days=1), is_active=False)
    JobFactory(name="paused", end_date=today + dt.timedelta(days=3), is_active=False)

    assert jobs_send_end_date_reminders(today=today) == 2

    notes = Notification.objects.filter(user=people[1], title="Job ending soon")
    assert sorted(n.message for n in notes) == [
        'Job "ends in 30" ends on 2026-04-08 JST (30 day(s) left). PIC Team: platform-qa',
        'Job "ends today" ends on 2026-03-09 JST (0 day(s) left). PIC Team: platform-qa',
    ]
    assert {n.type for n in notes} == {"warning"}


def test_a_creator_who_is_an_admin_gets_one_reminder():
    admin = AdminFactory()
    JobFactory(created_by=admin, end_date=dt.date(2026, 3, 10))

    jobs_send_end_date_reminders(today=dt.date(2026, 3, 9))

    assert Notification.objects.filter(user=admin).count() == 1


def test_reminders_are_posted_to_slack_with_the_pic_team_mention(slack_server):
    slack_server.enable(channel="#qa-alerts")
    PicTeamFactory(slug="platform-qa", name="Platform QA", slack_handle="<!subteam^S0123ABCD>")
    job = JobFactory(name="Nightly API regression", pic_team="platform-qa", end_date=dt.date(2026, 3, 15))

    jobs_send_end_date_reminders(today=dt.date(2026, 3, 9))

    assert slack_server.messages == [{
        "text": f":warning: <!subteam^S0123ABCD> Job ending soon (6d): "
                f"<http://localhost:5173/jobs/{job.pk}/edit|Nightly API regression> "
                "(end_date 2026-03-15 JST)",
        "channel": "#qa-alerts",
    }]


def test_a_job_is_auto_paused_only_once_its_end_date_has_passed_in_tokyo(people, slack_server):
    slack_server.enable()
    creator, admin = people
    job = JobFactory(name="Nightly", created_by=creator, pic_team="qa-team", end_date=dt.date(2026, 3, 8))
    PicTeamFactory(slug="qa-team", slack_handle="@qa-team")

    assert jobs_auto_pause_expired(today=scheduler_today(SUNDAY_LAST_SECOND)) == []
    assert Job.objects.get(pk=job.pk).is_active is True

    assert jobs_auto_pause_expired(today=scheduler_today(MONDAY_MIDNIGHT)) == [job]
    assert Job.objects.get(pk=job.pk).is_active is False
    assert jobs_auto_pause_expired(today=dt.date(2026, 3, 9)) == []  # nothing left to pause

    notes = Notification.objects.filter(title="Job auto-paused (end date passed)")
    assert {n.user for n in notes} == {creator, admin}
    assert {n.message for n in notes} == {
        'Job "Nightly" passed its end_date (2026-03-08 JST) and was auto-paused. PIC Team: qa-team'}
    assert slack_server.messages == [{"text": (
        f":warning: @qa-team Job auto-paused (end date passed): "
        f"<http://localhost:5173/jobs/{job.pk}/edit|Nightly> (end_date 2026-03-08 JST)")}]


def test_a_silent_auto_pause_notifies_nobody(people, slack_server):
    slack_server.enable()
    job = JobFactory(end_date=dt.date(2026, 3, 1))

    assert jobs_auto_pause_expired(today=dt.date(2026, 3, 9), silent=True) == [job]

    assert not Notification.objects.exists() and slack_server.requests == []


def test_slack_is_not_used_while_disabled(people, slack_server):
    slack = slack_server.enable()
    slack.is_enabled = False
    slack.save()
    JobFactory(end_date=dt.date(2026, 3, 10))

    jobs_send_end_date_reminders(today=dt.date(2026, 3, 9))

    assert slack_server.requests == [] and Notification.objects.exists()


def test_the_maintenance_run_pauses_then_reminds_and_summarises(people):
    JobFactory(name="expired", end_date=dt.date(2026, 3, 1))
    JobFactory(name="soon", end_date=dt.date(2026, 3, 12))
    JobFactory(name="later", end_date=dt.date(2026, 6, 1))

    summary = end_date_maintenance_run(today=dt.date(2026, 3, 9))

    assert summary["paused_expired_jobs"] == 1
    assert summary["ending_soon_jobs"] == 1
    assert summary["notifications_created"] == Notification.objects.count() == 4
    assert summary["today"] == "2026-03-09"
    assert summary["ran_at"].endswith("+09:00")


def test_the_command_runs_the_maintenance_and_is_safe_to_repeat(people):
    JobFactory(name="soon", end_date=dt.date(2026, 3, 12))
    out = StringIO()

    call_command("end_date_maintenance", "--today", "2026-03-09", stdout=out)
    call_command("end_date_maintenance", "--today", "2026-03-09", stdout=out)

    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["ending_soon_jobs"] == 1 and second["ending_soon_jobs"] == 0


def test_the_command_rejects_a_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--today: expected YYYY-MM-DD"):
        call_command("end_date_maintenance", "--today", "next monday")
