"""Rows that never dispatch (missed / skipped) and retention (recovery: test_run_recovery.py)."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from cronhub.testing.factories import JobExecutionFactory, JobFactory, NotificationFactory
from jobs.models import ExecutionStatus, JobExecution, TriggerType
from jobs.services import (
    execution_record_missed,
    execution_record_skipped,
    executions_prune,
    job_execute,
)

pytestmark = pytest.mark.django_db

FIRE = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)


def test_a_missed_fire_is_recorded_as_a_finished_row_without_dispatching(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"))

    row = execution_record_missed(job=job, scheduled_for=FIRE, reason="missed by 900 s (grace 300 s)")

    row.refresh_from_db()
    assert (row.status, row.trigger_type, row.scheduled_for) == (ExecutionStatus.MISSED, "scheduled", FIRE)
    assert row.error_message == "missed by 900 s (grace 300 s)"
    assert row.completed_at is not None and row.target == job.target_url
    assert webhook_server.requests == []


def test_a_recorded_fire_time_cannot_be_claimed_again(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"))

    assert execution_record_skipped(job=job, scheduled_for=FIRE, reason="previous run still busy") is not None
    assert execution_record_missed(job=job, scheduled_for=FIRE, reason="late") is None
    assert job_execute(job=job, trigger=TriggerType.SCHEDULED, scheduled_for=FIRE) is None

    assert webhook_server.requests == []
    assert list(JobExecution.objects.values_list("status", flat=True)) == [ExecutionStatus.SKIPPED]


def test_a_fire_time_that_already_ran_is_not_recorded_as_missed(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"))
    job_execute(job=job, trigger=TriggerType.SCHEDULED, scheduled_for=FIRE)

    assert execution_record_missed(job=job, scheduled_for=FIRE, reason="late") is None


def test_pruning_deletes_old_executions_in_batches_and_keeps_their_notifications(settings):
    settings.EXECUTION_RETENTION_DAYS = 30
    now = timezone.now()
    old = [JobExecutionFactory(started_at=now - dt.timedelta(days=31 + i)) for i in range(5)]
    recent = JobExecutionFactory(started_at=now - dt.timedelta(days=29))
    note = NotificationFactory(related_execution=old[0])

    assert executions_prune(batch_size=2) == 5

    assert list(JobExecution.objects.values_list("pk", flat=True)) == [recent.pk]
    note.refresh_from_db()
    assert note.related_execution_id is None


def test_the_prune_command_takes_an_explicit_age():
    now = timezone.now()
    JobExecutionFactory(started_at=now - dt.timedelta(days=8))
    keep = JobExecutionFactory(started_at=now - dt.timedelta(days=6))
    out = StringIO()

    call_command("prune_executions", "--older-than-days", "7", "--batch-size", "1", stdout=out)

    assert out.getvalue().strip() == "Deleted 1 execution(s)."
    assert list(JobExecution.objects.values_list("pk", flat=True)) == [keep.pk]
