"""What the database itself guarantees: run on SQLite, PostgreSQL and MariaDB."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import NotificationPreferences, UiPreferences
from cronhub.testing.factories import (
    JobCategoryFactory,
    JobExecutionFactory,
    JobFactory,
    NotificationFactory,
    PicTeamFactory,
    UserFactory,
)
from jobs.models import Job, JobExecution, TriggerType
from notifications.models import Notification
from taxonomy.models import DEFAULT_CATEGORIES, JobCategory

pytestmark = [pytest.mark.django_db, pytest.mark.dbcompat]


def test_migrations_are_in_sync_with_the_models():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_migrations_seed_the_default_categories():
    assert set(JobCategory.objects.values_list("slug", "name")) >= set(DEFAULT_CATEGORIES)


def test_job_names_are_unique():
    JobFactory(name="Nightly")
    with pytest.raises(IntegrityError), transaction.atomic():
        JobFactory(name="Nightly")


def test_job_names_differing_only_in_case_may_coexist():
    JobFactory(name="Nightly")
    JobFactory(name="nightly")
    assert Job.objects.filter(name__in=["Nightly", "nightly"]).count() == 2


def test_category_and_team_slugs_are_unique():
    JobCategoryFactory(slug="smoke", name="Smoke")
    with pytest.raises(IntegrityError), transaction.atomic():
        JobCategory.objects.create(slug="smoke", name="Another smoke")
    PicTeamFactory(slug="qa", name="QA")
    with pytest.raises(IntegrityError), transaction.atomic():
        PicTeamFactory._meta.model.objects.create(slug="qa", name="QA again")


def test_one_execution_per_job_and_fire_time():
    job = JobFactory()
    fire = timezone.now().replace(microsecond=0)
    JobExecutionFactory(job=job, trigger_type=TriggerType.SCHEDULED, scheduled_for=fire)
    with pytest.raises(IntegrityError), transaction.atomic():
        JobExecutionFactory(job=job, trigger_type=TriggerType.SCHEDULED, scheduled_for=fire)
    # Another fire time, another job, and any number of manual runs are fine.
    later = fire + dt.timedelta(minutes=1)
    JobExecutionFactory(job=job, trigger_type=TriggerType.SCHEDULED, scheduled_for=later)
    JobExecutionFactory(trigger_type=TriggerType.SCHEDULED, scheduled_for=fire)
    JobExecutionFactory.create_batch(3, job=job, scheduled_for=None)
    assert JobExecution.objects.filter(job=job).count() == 5


def test_deleting_a_job_removes_its_executions_and_keeps_its_notifications():
    execution = JobExecutionFactory()
    note = NotificationFactory(related_job=execution.job, related_execution=execution)
    execution.job.delete()
    assert not JobExecution.objects.filter(pk=execution.pk).exists()
    note.refresh_from_db()
    assert note.related_job_id is None and note.related_execution_id is None


def test_deleting_an_execution_keeps_its_notification():
    execution = JobExecutionFactory()
    note = NotificationFactory(related_execution=execution)
    execution.delete()
    note.refresh_from_db()
    assert note.related_execution_id is None


def test_deleting_a_user_keeps_their_jobs_and_removes_their_own_rows():
    user = UserFactory()
    job = JobFactory(created_by=user)
    NotificationFactory(user=user)
    NotificationPreferences.objects.create(user=user)
    UiPreferences.objects.create(user=user, jobs_table_columns={"pic_team": False})
    user.delete()
    job.refresh_from_db()
    assert job.created_by_id is None
    assert not Notification.objects.filter(user_id=user.pk).exists()
    assert not NotificationPreferences.objects.filter(user_id=user.pk).exists()
    assert not UiPreferences.objects.filter(user_id=user.pk).exists()


def test_timestamps_round_trip_with_microseconds_in_utc():
    moment = dt.datetime(2025, 12, 18, 6, 49, 31, 105845, tzinfo=dt.UTC)
    execution = JobExecutionFactory(started_at=moment)
    execution.refresh_from_db()
    assert execution.started_at == moment


def test_job_metadata_and_email_lists_round_trip():
    job = JobFactory(metadata={"branchDetails": "main", "nested": {"a": [1, 2]}})
    job.notification_email_list = [" a@x.com", "", "b@x.com "]
    job.save()
    job.refresh_from_db()
    assert job.metadata_dict == {"branchDetails": "main", "nested": {"a": [1, 2]}}
    assert job.notification_emails == "a@x.com,b@x.com"
    assert job.notification_email_list == ["a@x.com", "b@x.com"]
