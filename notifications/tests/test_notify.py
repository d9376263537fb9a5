"""notify(): the in-app notification of each event, its texts, and who receives it."""

import uuid

import pytest
from django.utils import timezone

from cronhub.testing.factories import (
    AdminFactory,
    JobExecutionFactory,
    JobFactory,
    NotificationPreferencesFactory,
    PicTeamFactory,
    UserFactory,
)
from notifications.models import Notification
from notifications.services import Announcement, Event, notify, notify_many

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("event", "title", "kind", "message"), [
    (Event.JOB_CREATED, "New Job Created", "info", 'Job "Nightly" was created by olivia@example.com.'),
    (Event.JOB_UPDATED, "Job Updated", "info", 'Job "Nightly" was updated by olivia@example.com.'),
    (Event.JOB_ENABLED, "Job Enabled", "info", 'Job "Nightly" was enabled by olivia@example.com.'),
    (Event.JOB_DISABLED, "Job Disabled", "warning", 'Job "Nightly" was disabled by olivia@example.com.'),
])
def test_job_events_are_broadcast_to_every_active_user(event, title, kind, message,
                                                       owner, other_user, inactive_user):
    job = JobFactory(name="Nightly", created_by=owner)

    rows = notify(event=event, job=job, actor=owner)

    assert {n.user for n in rows} == {owner, other_user}  # inactive users receive nothing
    stored = Notification.objects.filter(user=other_user).get()
    assert (stored.title, stored.type, stored.message, stored.related_job) == (title, kind, message, job)
    assert stored.is_read is False and stored.related_execution is None


def test_a_deleted_job_is_announced_without_a_link(owner, other_user):
    job = JobFactory(name="Nightly", created_by=owner)
    job.delete()

    notify(event=Event.JOB_DELETED, job=job, actor=owner)

    note = Notification.objects.get(user=other_user)
    assert note.message == 'Job "Nightly" was deleted by olivia@example.com.'
    assert note.related_job_id is None and note.type == "warning"


def test_the_actor_is_named_by_username_when_the_email_is_empty(other_user):
    actor = UserFactory.build(username="robot", email="")

    notify(event=Event.JOB_UPDATED, job=JobFactory(name="Nightly"), actor=actor)

    assert Notification.objects.filter(user=other_user).get().message == 'Job "Nightly" was updated by robot.'


def test_end_date_events_go_to_the_creator_and_active_admins_once_each(other_user):
    creator = UserFactory()
    admin = AdminFactory()
    AdminFactory(is_active=False)
    job = JobFactory(name="Nightly", created_by=creator, end_date="2026-03-01", pic_team=None)
    job.refresh_from_db()

    rows = notify(event=Event.JOB_EXPIRED_MAINTENANCE, job=job)

    assert sorted(n.user_id for n in rows) == sorted([creator.pk, admin.pk])
    creator.is_active = False  # a deactivated creator is told nothing
    creator.save()
    assert [n.user_id for n in notify(event=Event.JOB_EXPIRED_MAINTENANCE, job=job)] == [admin.pk]
    assert rows[0].message == (
        'Job "Nightly" passed its end_date (2026-03-01 JST) and was auto-paused. PIC Team: -')


def test_an_admin_creator_is_not_notified_twice():
    admin = AdminFactory()
    job = JobFactory(created_by=admin, end_date="2026-03-20")
    job.refresh_from_db()

    rows = notify(event=Event.JOB_ENDING_SOON, job=job, days_left=3)

    assert [n.user for n in rows] == [admin]


def test_event_names_may_be_passed_as_strings(owner):
    notify(event="job_created", job=JobFactory(name="Nightly"), actor=owner)

    assert Notification.objects.filter(title="New Job Created").exists()


def test_an_unknown_event_is_a_programming_error():
    with pytest.raises(ValueError):
        notify(event="job_exploded", job=JobFactory())


def _stored():
    return sorted(Notification.objects.values_list(
        "user_id", "title", "message", "type", "related_job_id", "related_execution_id", "is_read",
        "read_at"))


@pytest.mark.dbcompat  # written by COPY on PostgreSQL, by multi-row inserts elsewhere
def test_a_burst_of_run_results_stores_the_rows_one_notify_each_would(owner, other_user, inactive_user):
    NotificationPreferencesFactory(user=other_user, run_notifications="failures")
    member = UserFactory()
    member.pic_teams.add(PicTeamFactory(slug="platform-qa"))
    NotificationPreferencesFactory(user=member, run_notifications="mine")
    ours, theirs = JobFactory(name="Ours", created_by=owner), JobFactory(name="Theirs", pic_team="mobile-qa")
    burst = [
        Announcement(Event.EXECUTION_SUCCEEDED, ours, JobExecutionFactory(job=ours)),
        Announcement(Event.EXECUTION_FAILED, theirs, JobExecutionFactory(job=theirs, status="failed"),
                     "HTTP 500"),
        Announcement(Event.EXECUTION_UNKNOWN, ours, JobExecutionFactory(job=ours, status="unknown",
                                                                         error_message="no answer")),
        Announcement(Event.EXECUTION_SUCCEEDED, theirs, JobExecutionFactory(job=theirs)),
    ]
    for item in burst:
        notify(event=item.event, job=item.job, execution=item.execution, error=item.error)
    one_by_one = _stored()
    Notification.objects.all().delete()

    assert notify_many(burst) == len(one_by_one) == Notification.objects.count()

    assert _stored() == one_by_one
    assert {user for user, *_rest in one_by_one} == {owner.pk, other_user.pk, member.pk,
                                                      ours.created_by_id, theirs.created_by_id}
    rows = list(Notification.objects.values_list("id", "related_execution_id", "created_at"))
    assert len({uuid.UUID(pk, version=4) for pk, _run, _at in rows}) == len(rows)
    for item in burst:  # the rows of one run carry its time of announcement
        assert len({at for _pk, run, at in rows if run == item.execution.pk}) == 1
    assert notify_many([]) == 0


@pytest.mark.dbcompat
@pytest.mark.django_db(transaction=True)
def test_burst_rows_are_written_a_run_at_a_time_in_short_transactions_and_a_failed_one_loses_only_its_own():
    from notifications.services import _insert_rows

    users = [UserFactory() for _ in range(3)]
    runs = [JobExecutionFactory() for _ in range(5)]
    fields = ("Job Completed", "done", "success", None)

    def told(run, recipients):
        return ([user.pk for user in recipients], (*fields, run.pk, False, timezone.now()))

    burst = [told(runs[0], users), told(runs[1], users[:2]), told(runs[2], users[:1]),
             ([users[0].pk, "no-such-user"], (*fields, runs[3].pk, False, timezone.now())),
             told(runs[4], users)]

    assert _insert_rows(burst, per_transaction=3) == 9  # the fourth run's two rows refused together

    stored = sorted(Notification.objects.values_list("related_execution_id", "user_id"))
    assert stored == sorted([(run.pk, user.pk) for run, recipients in
                             [(runs[0], users), (runs[1], users[:2]), (runs[2], users[:1]), (runs[4], users)]
                             for user in recipients])
