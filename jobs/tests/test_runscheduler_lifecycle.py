"""One ``runscheduler`` process through its life: edits, restarts, missed runs, shutdown.

Real subprocesses on a shared database, a real webhook receiver, and the
shifted test clock (jobs/tests/clocked_scheduler.py) so fire times come in seconds.
"""

import datetime as dt
import time
import zoneinfo

import pytest
from django.conf import settings
from django.utils import timezone

from jobs.models import Job, JobExecution, SchedulerState
from jobs.scheduler.lock import FileLock
from jobs.tests.scheduler_support import Clock, WebhookReceiver, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RESYNC_KEYS = {
    "message", "ran_at", "db_jobs_total", "db_jobs_active", "scheduled_now", "scheduled_added",
    "scheduled_removed", "expired_auto_paused", "orphaned_removed", "invalid_cron",
}


def new_job(db, receiver, name, cron="* * * * *", **fields):
    fields.setdefault("end_date", dt.date.today() + dt.timedelta(days=30))
    return Job.objects.using(db.alias).create(
        name=name, cron_expression=cron, timezone="UTC", target_url=receiver.url(name), **fields)


def runs(db, **filters):
    return list(JobExecution.objects.using(db.alias).filter(**filters))


def state(db):
    return SchedulerState.objects.using(db.alias).filter(pk=SchedulerState.SINGLETON_ID).first()


def wait_firing(process):
    wait_until(lambda: "firing" in process.log(), timeout=20, message="the leader to start firing")


def test_edits_deletes_expiry_and_resync_requests_take_effect_while_it_runs(db_shared, start_scheduler):
    with WebhookReceiver() as receiver:
        scheduler_today = timezone.now().astimezone(zoneinfo.ZoneInfo(settings.SCHEDULER_TIMEZONE)).date()
        edited = new_job(db_shared, receiver, "edited", cron="0 0 1 1 *")
        deleted = new_job(db_shared, receiver, "deleted")
        expired = new_job(db_shared, receiver, "expired", end_date=scheduler_today - dt.timedelta(days=1))
        control = new_job(db_shared, receiver, "control")
        clock = Clock(lead=11)
        process = start_scheduler(clock=clock)
        wait_firing(process)

        expired.refresh_from_db(using=db_shared.alias)
        assert expired.is_active is False  # auto-paused by the first pass

        clock.sleep_until(clock.fire_at - dt.timedelta(seconds=4))
        edited.cron_expression = "* * * * *"  # what PUT /jobs/{id} or the admin does
        edited.save(using=db_shared.alias)
        deleted_id = deleted.pk
        deleted.delete(using=db_shared.alias)
        SchedulerState.objects.using(db_shared.alias).update(resync_requested_at=timezone.now())

        def successful_runs():
            done = runs(db_shared, scheduled_for=clock.fire_at, status="success")
            return done if len(done) == 2 else None

        fired = wait_until(successful_runs, timeout=20, message="the edited and the control job to run")
        clock.sleep_until(clock.fire_at + dt.timedelta(seconds=1.5))

        assert {r.job_id for r in fired} == {str(edited.pk), str(control.pk)}
        assert not runs(db_shared, job_id=deleted_id)
        assert not runs(db_shared, job_id=expired.pk)
        assert sorted(receiver.paths()) == ["/control", "/edited"]

        row = state(db_shared)
        assert row.resync_completed_at >= row.resync_requested_at
        assert set(row.last_resync_result) == RESYNC_KEYS
        assert row.last_resync_result["db_jobs_total"] == 3
        assert row.last_resync_result["db_jobs_active"] == 2
        assert row.last_resync_result["scheduled_now"] == 2 + 5  # two jobs + the five maintenance entries
        assert {run["job_id"] for run in row.next_runs} == {str(edited.pk), str(control.pk)}
        assert process.terminate() == 0


@pytest.mark.parametrize(("grace", "expected"), [(30, "success"), (2, "missed")])
def test_a_fire_time_missed_while_no_leader_was_up_runs_once_within_the_grace_else_is_recorded_missed(
        grace, expected, db_shared, start_scheduler):
    with WebhookReceiver() as receiver:
        job = new_job(db_shared, receiver, "every-minute")
        other = new_job(db_shared, receiver, "other", cron="0 0 1 1 *")
        clock = Clock(lead=8)
        first = start_scheduler(clock=clock, SCHEDULER_MISFIRE_GRACE_SECONDS=grace)
        wait_firing(first)
        clock.sleep_until(clock.fire_at - dt.timedelta(seconds=2))
        first.kill()
        # A run of another job left running by a scheduler that did not record its phases.
        interrupted = JobExecution.objects.using(db_shared.alias).create(
            job=other, status="running", trigger_type="scheduled",
            scheduled_for=clock.fire_at - dt.timedelta(minutes=5),
            started_at=clock.now() - dt.timedelta(seconds=30),
        )

        clock.sleep_until(clock.fire_at + dt.timedelta(seconds=3))
        second = start_scheduler(clock=clock, SCHEDULER_MISFIRE_GRACE_SECONDS=grace)
        row = wait_until(lambda: next((r for r in runs(db_shared, job=job, scheduled_for=clock.fire_at)
                                       if r.status != "running"), None),
                         timeout=20, message="the missed fire time to be dealt with")

        assert row.status == expected
        assert row.trigger_type == "scheduled"
        assert len(runs(db_shared, job=job)) == 1
        assert receiver.paths() == (["/every-minute"] if expected == "success" else [])
        if expected == "missed":
            assert "misfire grace" in row.error_message
        executions = JobExecution.objects.using(db_shared.alias)
        wait_until(lambda: executions.get(pk=interrupted.pk).status != "running",
                   timeout=10, message="the interrupted run to be recovered")
        interrupted.refresh_from_db(using=db_shared.alias)
        # Whether its call went out is not known: never recorded as a failure.
        assert interrupted.status == "unknown"
        assert interrupted.error_message.startswith("outcome unknown:")
        assert second.terminate() == 0


def test_sigterm_lets_the_running_dispatch_finish_then_releases_the_lock_and_exits_zero(
        tmp_path, db_shared, start_scheduler):
    with WebhookReceiver(delay_seconds=4) as receiver:
        job = new_job(db_shared, receiver, "slow")
        clock = Clock(lead=8)
        process = start_scheduler(clock=clock)
        wait_firing(process)
        wait_until(lambda: receiver.calls, timeout=15, message="the dispatch to reach the receiver")

        signalled = time.monotonic()
        code = process.terminate(timeout=30)
        took = time.monotonic() - signalled

        assert code == 0
        assert took >= 2  # it waited for the 4-second call instead of dying mid-dispatch
        [run] = runs(db_shared, job=job)
        assert run.status == "success" and run.response_status == 200
        assert state(db_shared).stopped_at is not None
        assert "waiting up to 10 s for 1 running dispatch" in process.log()
        lock = FileLock(tmp_path / "scheduler.lock")
        assert lock.try_acquire()  # released on the way out
        lock.release()
