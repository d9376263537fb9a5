"""What happens before anything is dispatched: active/expiry guards and the fire-time claim."""

import datetime as dt

import pytest

from cronhub.testing.factories import AdminFactory, JobFactory, UserFactory
from jobs.models import ExecutionStatus, Job, JobExecution, TriggerType, scheduler_today
from jobs.services import JobExpired, job_execute
from notifications.models import Notification

pytestmark = pytest.mark.django_db

FIRE = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)


def yesterday():
    return scheduler_today() - dt.timedelta(days=1)


def test_a_scheduled_fire_of_an_inactive_job_does_nothing(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"), is_active=False)

    assert job_execute(job=job, trigger=TriggerType.SCHEDULED, scheduled_for=FIRE) is None

    assert webhook_server.requests == []
    assert not JobExecution.objects.exists() and not Notification.objects.exists()


def test_a_scheduled_fire_reads_the_job_as_it_is_now(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/old"))
    Job.objects.filter(pk=job.pk).update(target_url=webhook_server.url_for("/new"))

    job_execute(job=job, trigger=TriggerType.SCHEDULED, scheduled_for=FIRE)

    assert [r.path for r in webhook_server.requests] == ["/new"]


def test_a_scheduled_fire_of_a_deleted_job_does_nothing(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"))
    Job.objects.filter(pk=job.pk).delete()

    assert job_execute(job=job, trigger=TriggerType.SCHEDULED, scheduled_for=FIRE) is None
    assert webhook_server.requests == []


def test_a_scheduled_fire_of_an_expired_job_pauses_it_and_tells_creator_and_admins(webhook_server):
    creator = UserFactory(username="creator")
    admin = AdminFactory(username="boss")
    AdminFactory(username="retired_admin", is_active=False)
    bystander = UserFactory(username="bystander")
    job = JobFactory(name="Nightly", created_by=creator, end_date=yesterday(),
                     target_url=webhook_server.url_for("/hook"))

    assert job_execute(job=job, trigger=TriggerType.SCHEDULED, scheduled_for=FIRE) is None

    job.refresh_from_db()
    assert job.is_active is False
    assert webhook_server.requests == [] and not JobExecution.objects.exists()
    notes = Notification.objects.order_by("user__username")
    assert [n.user for n in notes] == [admin, creator]
    assert not Notification.objects.filter(user=bystander).exists()
    note = notes[0]
    assert note.title == "Job auto-paused (end date passed)"
    assert note.type == "warning"
    assert note.message == (
        f'Job "Nightly" passed its end_date ({yesterday():%Y-%m-%d} JST) and was auto-paused.')
    assert note.related_job == job


def test_a_job_is_still_valid_on_its_end_date(webhook_server):
    job = JobFactory(end_date=scheduler_today(), target_url=webhook_server.url_for("/hook"))

    execution = job_execute(job=job, trigger=TriggerType.SCHEDULED, scheduled_for=FIRE)

    assert execution.status == ExecutionStatus.SUCCESS


def test_a_manual_run_of_an_expired_job_pauses_it_silently_and_raises(webhook_server):
    job = JobFactory(end_date=yesterday(), target_url=webhook_server.url_for("/hook"))

    with pytest.raises(JobExpired, match="passed its end_date and was auto-paused"):
        job_execute(job=job, trigger=TriggerType.MANUAL)

    assert Job.objects.get(pk=job.pk).is_active is False
    assert webhook_server.requests == []
    assert not JobExecution.objects.exists() and not Notification.objects.exists()


def test_a_manual_run_executes_an_inactive_job(webhook_server):
    job = JobFactory(is_active=False, target_url=webhook_server.url_for("/hook"))

    execution = job_execute(job=job, trigger=TriggerType.MANUAL)

    assert execution.status == ExecutionStatus.SUCCESS and len(webhook_server.requests) == 1


def test_a_fire_time_already_claimed_is_not_dispatched_again(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"))

    first = job_execute(job=job, trigger=TriggerType.SCHEDULED, scheduled_for=FIRE)
    second = job_execute(job=job, trigger=TriggerType.SCHEDULED, scheduled_for=FIRE)
    later = job_execute(job=job, trigger=TriggerType.SCHEDULED, scheduled_for=FIRE + dt.timedelta(minutes=1))

    assert first is not None and second is None and later is not None
    assert len(webhook_server.requests) == 2
    assert JobExecution.objects.filter(job=job).count() == 2


def test_scheduled_runs_must_name_their_fire_time():
    with pytest.raises(ValueError, match="scheduled_for"):
        job_execute(job=JobFactory(), trigger=TriggerType.SCHEDULED)


def test_an_unknown_trigger_is_rejected():
    with pytest.raises(ValueError, match="unknown trigger"):
        job_execute(job=JobFactory(), trigger="cron")
