"""Run results reach each user by their choice (all / mine / failures), inactive users nothing,
e-mail follows the same choice; old notifications are pruned (real SMTP, real maintenance entry)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cronhub.testing.factories import (
    JobFactory,
    NotificationFactory,
    NotificationPreferencesFactory,
    PicTeamFactory,
    UserFactory,
)
from jobs.scheduler import maintenance
from notifications.models import Notification
from notifications.services import Event, notify

pytestmark = [pytest.mark.django_db, pytest.mark.dbcompat]


@pytest.fixture
def people():
    team = PicTeamFactory(slug="platform-qa", name="Platform QA")
    other_team = PicTeamFactory(slug="payments-qa", name="Payments QA")
    everyone = UserFactory(username="eve_all")  # no preferences saved: the default, all
    creator = UserFactory(username="carl_creator")
    member = UserFactory(username="mia_member")
    outsider = UserFactory(username="otto_outsider")
    failures = UserFactory(username="fay_failures")
    gone = UserFactory(username="ina_inactive", is_active=False)
    member.pic_teams.add(team)
    outsider.pic_teams.add(other_team)
    for user in (creator, member, outsider):
        NotificationPreferencesFactory(user=user, run_notifications="mine")
    NotificationPreferencesFactory(user=failures, run_notifications="failures")
    NotificationPreferencesFactory(user=gone, run_notifications="all")
    job = JobFactory(name="Nightly", created_by=creator, pic_team=team.slug, notify_on_success=True,
                     enable_email_notifications=True,
                     notification_emails=",".join(u.email for u in (everyone, creator, member, outsider,
                                                                      failures, gone)) + ",team@example.com")
    return {"team": team, "everyone": everyone, "creator": creator, "member": member, "outsider": outsider,
            "failures": failures, "gone": gone, "job": job}


def names(rows) -> set[str]:
    return {row.user.username for row in rows}


def test_a_success_reaches_all_and_mine_but_not_failures_only_or_inactive(people):
    rows = notify(event=Event.EXECUTION_SUCCEEDED, job=people["job"], email=False)
    assert names(rows) == {"eve_all", "carl_creator", "mia_member"}


@pytest.mark.parametrize("event", [Event.EXECUTION_FAILED, Event.EXECUTION_UNKNOWN])
def test_a_failure_reaches_failures_only_too(people, event):
    rows = notify(event=event, job=people["job"], error="HTTP 500", email=False)
    assert names(rows) == {"eve_all", "carl_creator", "mia_member", "fay_failures"}


def test_mine_is_the_jobs_created_and_the_teams_jobs(people):
    other_job = JobFactory(name="Payments", created_by=None, pic_team="payments-qa")
    rows = notify(event=Event.EXECUTION_SUCCEEDED, job=other_job, email=False)
    assert names(rows) == {"eve_all", "otto_outsider"}
    people["member"].pic_teams.clear()  # left the team: no longer theirs
    rows = notify(event=Event.EXECUTION_SUCCEEDED, job=people["job"], email=False)
    assert names(rows) == {"eve_all", "carl_creator"}


def test_job_events_ignore_the_run_choice_but_not_inactivity(people):
    rows = notify(event=Event.JOB_UPDATED, job=people["job"], actor=people["creator"])
    assert names(rows) == {"eve_all", "carl_creator", "mia_member", "otto_outsider", "fay_failures"}


def test_email_follows_the_same_choice(people, smtp_server):
    notify(event=Event.EXECUTION_SUCCEEDED, job=people["job"], slack=False)
    notify(event=Event.EXECUTION_FAILED, job=people["job"], error="HTTP 500", slack=False)
    success, failure = smtp_server.messages
    # Addresses of no user (team@) keep receiving; inactive users' and excluded users' do not.
    assert set(success["To"].split(", ")) == {
        people["everyone"].email, people["creator"].email, people["member"].email, "team@example.com"}
    assert set(failure["To"].split(", ")) == {
        people["everyone"].email, people["creator"].email, people["member"].email, people["failures"].email,
        "team@example.com"}


def test_the_api_sets_the_choice_and_admins_set_teams(api, owner, admin_user):
    PicTeamFactory(slug="platform-qa", name="Platform QA")
    url = f"/api/v2/auth/users/{owner.pk}"
    response = api(owner).put(url + "/preferences", {"run_notifications": "failures"}, format="json")
    assert response.status_code == 200 and response.json()["preferences"]["run_notifications"] == "failures"
    refused = api(owner).put(url + "/preferences", {"run_notifications": "everything"}, format="json")
    assert refused.status_code == 400
    assert api(owner).put(url, {"pic_teams": ["platform-qa"]}, format="json").status_code == 403
    response = api(admin_user).put(url, {"pic_teams": ["Platform QA"]}, format="json")
    assert response.status_code == 200 and response.json()["user"]["pic_teams"] == ["platform-qa"]
    unknown = api(admin_user).put(url, {"pic_teams": ["nope"]}, format="json")
    assert unknown.status_code == 400 and "nope" in unknown.json()["message"]
    assert list(owner.pic_teams.values_list("slug", flat=True)) == ["platform-qa"]


def test_maintenance_prunes_notifications_past_the_retention(settings, owner):
    settings.NOTIFICATION_RETENTION_DAYS = 90
    now = timezone.now()
    old = NotificationFactory(user=owner, created_at=now - dt.timedelta(days=91))
    edge = NotificationFactory(user=owner, created_at=now - dt.timedelta(days=89))
    fresh = NotificationFactory(user=owner)

    assert "cronhub.prune_notifications" in maintenance.internal_jobs()
    maintenance.prune_notifications()

    assert set(Notification.objects.values_list("pk", flat=True)) == {edge.pk, fresh.pk}
    assert not Notification.objects.filter(pk=old.pk).exists()
    settings.NOTIFICATION_RETENTION_DAYS = 30
    maintenance.prune_notifications()
    assert set(Notification.objects.values_list("pk", flat=True)) == {fresh.pk}
