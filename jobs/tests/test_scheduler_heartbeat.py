"""The heartbeat row and the resync handshake the web app relies on."""

import datetime as dt
import os
import urllib.request

import pytest
from django.utils import timezone

from cronhub.testing.factories import JobFactory
from jobs.models import SchedulerState
from jobs.scheduler import heartbeat, metrics
from jobs.scheduler.engine import Engine, Entry
from jobs.scheduler.trigger import CronHubTrigger

pytestmark = pytest.mark.django_db


def test_a_new_leader_claims_the_row_and_gets_the_previous_leaders_heartbeat():
    before = timezone.now() - dt.timedelta(minutes=3)
    SchedulerState.objects.create(pid=1, host="old-host", heartbeat_at=before, leader_since=before)
    since = timezone.now()

    previous = heartbeat.leadership_started(since=since)

    assert (previous.host, previous.pid, previous.heartbeat_at) == ("old-host", 1, before)
    state = SchedulerState.load()
    assert state.pid == os.getpid()
    assert state.leader_since == since and state.heartbeat_at == since
    assert state.stopped_at is None
    assert state.is_alive()


def test_a_beat_publishes_count_next_runs_and_last_reconcile():
    heartbeat.leadership_started(since=timezone.now())
    reconciled = timezone.now()
    runs = [{"job_id": "j1", "name": "Nightly", "fire_at": "2025-06-15T00:00:00+00:00"}]

    heartbeat.beat(scheduled_jobs_count=12, next_runs=runs, last_reconcile_at=reconciled)

    state = SchedulerState.load()
    assert state.scheduled_jobs_count == 12
    assert state.next_runs == runs
    assert state.last_reconcile_at == reconciled


def test_the_leader_publishes_the_next_twenty_fire_times_in_order():
    jobs = [JobFactory(cron_expression=f"{minute} * * * *", timezone="UTC") for minute in range(25)]
    engine = Engine(max_workers=1)
    engine.start()
    try:
        now = timezone.now()
        for job in jobs:
            engine.add(Entry(str(job.pk), job.name, job.cron_expression, "UTC"),
                       CronHubTrigger(job.cron_expression, "UTC"), now=now)
        runs = engine.next_runs()
    finally:
        engine.shutdown()

    assert len(runs) == 20
    assert set(runs[0]) == {"job_id", "name", "fire_at"}
    instants = [dt.datetime.fromisoformat(run["fire_at"]) for run in runs]
    assert instants == sorted(instants)
    assert all(instant.utcoffset() == dt.timedelta(0) and instant > now for instant in instants)


def test_a_resync_request_is_pending_until_the_leader_answers_it():
    heartbeat.leadership_started(since=timezone.now())
    assert not heartbeat.resync_requested()

    SchedulerState.objects.update(resync_requested_at=timezone.now())
    assert heartbeat.resync_requested()

    heartbeat.resync_completed({"message": "Scheduler resync completed", "scheduled_now": 3})
    state = SchedulerState.load()
    assert not heartbeat.resync_requested()
    assert state.resync_completed_at >= state.resync_requested_at
    assert state.last_resync_result == {"message": "Scheduler resync completed", "scheduled_now": 3}


def test_a_request_stamped_by_a_clock_ahead_of_ours_is_still_answered_once():
    heartbeat.leadership_started(since=timezone.now())
    SchedulerState.objects.update(resync_requested_at=timezone.now() + dt.timedelta(seconds=30))

    heartbeat.resync_completed({"message": "Scheduler resync completed"})

    assert not heartbeat.resync_requested()


def test_a_clean_exit_marks_the_row_stopped_only_if_it_is_still_ours():
    heartbeat.leadership_started(since=timezone.now())
    heartbeat.leadership_ended()
    state = SchedulerState.load()
    assert state.stopped_at is not None and not state.is_alive()

    heartbeat.leadership_started(since=timezone.now())
    SchedulerState.objects.update(pid=os.getpid() + 1)  # another process leads now
    heartbeat.leadership_ended()
    assert SchedulerState.load().stopped_at is None


def test_metrics_are_served_as_prometheus_text_on_localhost():
    server = metrics.serve(0)
    try:
        metrics.DISPATCH_LATENESS.observe(0.3)
        metrics.EXECUTIONS.labels(status="success").inc()
        metrics.LEADER.set(1)
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        body = urllib.request.urlopen(url, timeout=5).read().decode()
    finally:
        server.shutdown()
        server.server_close()

    assert 'cronhub_dispatch_lateness_seconds_bucket{le="0.5"}' in body
    assert "cronhub_dispatch_lateness_seconds_count" in body
    assert 'cronhub_executions_total{status="success"}' in body
    assert "cronhub_missed_runs_total" in body
    assert "cronhub_scheduler_leader 1.0" in body
    assert "cronhub_reconcile_duration_seconds_bucket" in body
