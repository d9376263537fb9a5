"""Runs due at one fire time read their jobs together, as they are at that fire time
(not as a snapshot up to one poll interval old)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cronhub.testing.factories import JobFactory
from jobs.models import ExecutionStatus, JobExecution
from jobs.scheduler.dispatcher import DueJobs
from jobs.services import job_execute

FIRE = dt.datetime(2025, 6, 15, 3, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


def test_the_first_run_of_a_fire_time_reads_every_job_due_then_in_one_query():
    jobs = JobFactory.create_batch(5)
    due = DueJobs()
    for job in jobs:
        due.expect(job.pk, FIRE)

    with CaptureQueriesContext(connection) as first:
        assert due.take(jobs[2].pk, FIRE).pk == jobs[2].pk
    with CaptureQueriesContext(connection) as others:
        taken = [due.take(job.pk, FIRE) for job in jobs if job is not jobs[2]]

    assert len(first) == 1
    assert len(others) == 0
    assert [job.pk for job in taken] == [job.pk for job in jobs if job is not jobs[2]]


def test_a_run_gets_its_job_as_it_was_at_the_read_not_a_stale_registration_copy():
    job = JobFactory(target_url="http://old.example.test/hook")
    due = DueJobs()
    due.expect(job.pk, FIRE)
    job.target_url = "http://new.example.test/hook"
    job.save()

    assert due.take(job.pk, FIRE).target_url == "http://new.example.test/hook"


def test_a_job_deleted_before_its_fire_time_is_taken_as_none():
    kept, deleted = JobFactory.create_batch(2)
    due = DueJobs()
    due.expect(kept.pk, FIRE)
    due.expect(deleted.pk, FIRE)
    deleted_pk = deleted.pk
    deleted.delete()

    assert due.take(kept.pk, FIRE).pk == kept.pk
    assert due.take(deleted_pk, FIRE) is None


def test_reads_are_chunked_and_other_fire_times_are_left_alone():
    jobs = JobFactory.create_batch(3)
    later = FIRE + dt.timedelta(minutes=1)
    due = DueJobs(chunk=2)
    for job in jobs:
        due.expect(job.pk, FIRE)
    due.expect(jobs[0].pk, later)

    with CaptureQueriesContext(connection) as queries:
        for job in jobs:
            due.take(job.pk, FIRE)
        due.take(jobs[0].pk, later)

    assert len(queries) == 3  # jobs 0+1 at FIRE, job 2 at FIRE, job 0 at the later fire time


def test_a_cancelled_run_leaves_nothing_behind():
    first, cancelled = JobFactory.create_batch(2)
    due = DueJobs()
    due.expect(first.pk, FIRE)
    due.expect(cancelled.pk, FIRE)
    due.take(first.pk, FIRE)

    due.forget(cancelled.pk, FIRE)

    assert due._read == {} and due._expected == {}


def test_a_scheduled_run_with_a_job_read_at_its_fire_time_does_not_read_it_again(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"))

    with CaptureQueriesContext(connection) as queries:
        execution = job_execute(job=job, trigger="scheduled", scheduled_for=FIRE, read_at_fire_time=True)

    assert execution.status == ExecutionStatus.SUCCESS
    assert JobExecution.objects.get(job=job, scheduled_for=FIRE).status == ExecutionStatus.SUCCESS
    assert not any('FROM "jobs"' in q["sql"] for q in queries.captured_queries)
