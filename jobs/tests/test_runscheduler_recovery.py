"""Runs a stopped scheduler left behind end in one true record: real ``runscheduler`` processes.

A leader is SIGKILLed (or stopped with too short a grace) while its call is in
flight at a real receiver; the next leader must send what was never sent,
re-send a webhook once with the same idempotency key, record a GitHub dispatch
whose answer was lost as ``unknown`` (never ``failed``), leave manual runs and
its own runs in flight alone. Shifted clock and shared database as in
test_runscheduler_multiprocess.py.
"""

import datetime as dt
import os

import pytest
from django.db import connections

from cronhub.testing.servers import FakeGitHub, RecordingServer, Reply
from jobs.models import ExecutionStatus, Job, JobExecution, TriggerType
from jobs.services import runs
from jobs.tests.scheduler_support import Clock, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DEAD = "gone-host:4242:0123456789abcdef"


class FirstCallHangs(RecordingServer):
    """Answers 200 at once, except the first call of each idempotency key, which hangs
    ``delay`` seconds (long enough for the test to kill the caller meanwhile)."""

    def __init__(self, delay: float = 60.0):
        super().__init__()
        self.delay = delay

    def choose(self, request):
        key = request.headers.get("idempotency-key")
        seen = sum(1 for r in self.requests if r.headers.get("idempotency-key") == key)
        return Reply(200, "ok", {}, self.delay if seen == 1 else 0.0)


@pytest.fixture
def receiver():
    with FirstCallHangs() as server:
        yield server


def executions(db):
    return JobExecution.objects.using(db.alias)


def new_job(db, name, **fields):
    fields.setdefault("end_date", dt.date.today() + dt.timedelta(days=30))
    fields.setdefault("cron_expression", "* * * * *")
    return Job.objects.using(db.alias).create(name=name, timezone="UTC", **fields)


def finished(db, **filters):
    rows = list(executions(db).filter(**filters))
    return rows if rows and all(r.status != ExecutionStatus.RUNNING for r in rows) else None


def backend_param(backend):
    marks = [pytest.mark.dbcompat, *([pytest.mark.server_db] if backend == "database" else [])]
    return pytest.param(backend, id=backend, marks=marks)


BACKENDS = [backend_param("file"), backend_param("database")]


def leader_and_standby(start_scheduler, clock, **env):
    leader = start_scheduler(clock=clock, **env)
    wait_until(lambda: "firing" in leader.log(), timeout=20, message="the leader firing")
    standby = start_scheduler(clock=clock, **env)
    wait_until(lambda: "standby:" in standby.log(), timeout=20, message="the standby waiting")
    return leader, standby


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_webhook_call_in_flight_when_the_leader_was_killed_is_resent_once_with_the_same_key(
        backend, db_shared, start_scheduler, receiver):
    job = new_job(db_shared, "hangs", target_url=receiver.url_for("/hangs"))
    clock = Clock(lead=15)
    leader, standby = leader_and_standby(start_scheduler, clock, SCHEDULER_LOCK_BACKEND=backend)
    wait_until(lambda: receiver.requests, timeout=30, message="the call to reach the receiver")
    assert len(receiver.requests) == 1
    leader.kill()  # its call is still waiting for the receiver's answer

    [row] = wait_until(lambda: finished(db_shared, job_id=job.pk), timeout=30, message="the run recorded")

    first, again = receiver.requests
    assert first.headers["idempotency-key"] == again.headers["idempotency-key"] == row.pk
    assert first.headers["x-cronhub-scheduled-for"] == again.headers["x-cronhub-scheduled-for"]
    assert row.scheduled_for == clock.fire_at
    assert row.status == ExecutionStatus.SUCCESS and row.response_status == 200
    assert row.note == runs.RESENT_NOTE and row.attempts == 2
    assert standby.terminate() == 0


def test_a_github_dispatch_in_flight_when_the_leader_was_killed_is_recorded_unknown_not_failed(
        db_shared, start_scheduler):
    with FakeGitHub() as github:
        github.reply(204, delay=60)
        job = new_job(db_shared, "workflow", github_owner="acme", github_repo="app",
                      github_workflow_name="ci.yml")
        clock = Clock(lead=15)
        env = {"GITHUB_API_URL": github.url, "GITHUB_TOKEN": FakeGitHub.TOKEN}
        leader, standby = leader_and_standby(start_scheduler, clock, **env)
        wait_until(lambda: github.dispatches, timeout=30, message="the dispatch to reach GitHub")
        leader.kill()

        [row] = wait_until(lambda: finished(db_shared, job_id=job.pk), timeout=30, message="the run recorded")

        assert row.status == ExecutionStatus.UNKNOWN
        assert row.error_message.startswith("outcome unknown:")
        assert len(github.dispatches) == 1  # never dispatched twice
        assert standby.terminate() == 0


def test_a_run_a_dead_leader_claimed_but_never_sent_is_sent_by_the_next_leader(
        db_shared, start_scheduler, receiver):
    job = new_job(db_shared, "claimed", target_url=receiver.url_for("/claimed"), cron_expression="0 0 1 1 *")
    receiver.delay = 0
    clock = Clock(lead=30)
    fire = (clock.now() - dt.timedelta(seconds=20)).replace(microsecond=0)
    row = executions(db_shared).create(
        job=job, status=ExecutionStatus.RUNNING, trigger_type=TriggerType.SCHEDULED, scheduled_for=fire,
        started_at=fire, claimed_by=DEAD, deadline_at=fire + dt.timedelta(seconds=100),
        execution_type="webhook", target=job.target_url,
    )
    scheduler = start_scheduler(clock=clock)

    [done] = wait_until(lambda: finished(db_shared, pk=row.pk), timeout=20, message="the claimed run sent")

    assert done.status == ExecutionStatus.SUCCESS and done.note == runs.SENT_BY_NEXT_LEADER_NOTE
    [request] = receiver.requests
    assert request.headers["idempotency-key"] == row.pk
    assert scheduler.terminate() == 0


def _take_the_lock_away(backend, db, tmp_path):
    if backend == "file":
        # The leader checks the lock file's identity: a new file there means it lost the lock.
        fresh = tmp_path / "scheduler.lock.new"
        fresh.write_text("")
        os.replace(fresh, tmp_path / "scheduler.lock")
        return
    with connections[db.alias].cursor() as cursor:
        if db.vendor == "postgresql":
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                           " AND granted AND database = (SELECT oid FROM pg_database"
                           " WHERE datname = current_database())")
        else:
            name = f"cronhub.scheduler.{connections[db.alias].settings_dict['NAME']}"[:64]
            cursor.execute("SELECT IS_USED_LOCK(%s)", [name])
            (session,) = cursor.fetchone()
            cursor.execute(f"KILL {int(session)}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_leader_that_lost_and_retook_its_lock_does_not_recover_its_own_run_in_flight(
        backend, tmp_path, db_shared, start_scheduler, receiver):
    receiver.delay = 8
    job = new_job(db_shared, "slow", target_url=receiver.url_for("/slow"))
    clock = Clock(lead=15)
    leader = start_scheduler(clock=clock, SCHEDULER_LOCK_BACKEND=backend, SCHEDULER_SHUTDOWN_GRACE_SECONDS=1)
    wait_until(lambda: receiver.requests, timeout=30, message="the call to reach the receiver")
    _take_the_lock_away(backend, db_shared, tmp_path)

    wait_until(lambda: leader.log().count("leader: acquired") >= 2, timeout=20,
               message="the leader stepping down and taking the lock again")
    [row] = wait_until(lambda: finished(db_shared, job_id=job.pk), timeout=30, message="the run recorded")

    assert "lost" in leader.log()
    assert row.status == ExecutionStatus.SUCCESS and row.attempts == 1 and row.note is None
    assert len(receiver.requests) == 1
    assert leader.terminate() == 0


def test_a_manual_run_in_flight_is_left_alone_by_a_standby_taking_over(db_shared, start_scheduler, receiver):
    receiver.delay = 0
    job = new_job(db_shared, "manual", target_url=receiver.url_for("/manual"), cron_expression="0 0 1 1 *")
    clock = Clock(lead=30)
    leader, standby = leader_and_standby(start_scheduler, clock)
    now = clock.now()
    manual = executions(db_shared).create(  # a web process is sending it right now
        job=job, status=ExecutionStatus.RUNNING, trigger_type=TriggerType.MANUAL, started_at=now,
        claimed_by="web-host:77:process-0123", sent_at=now, attempts=1,
        deadline_at=now + dt.timedelta(seconds=100), execution_type="webhook", target=job.target_url,
    )
    leader.kill()
    # Left by the killed leader too, so the test sees the standby's recovery has run.
    marker = executions(db_shared).create(
        job=job, status=ExecutionStatus.RUNNING, trigger_type=TriggerType.SCHEDULED,
        scheduled_for=now.replace(microsecond=0), started_at=now, claimed_by=DEAD,
        deadline_at=now + dt.timedelta(seconds=100), execution_type="webhook", target=job.target_url,
    )

    wait_until(lambda: finished(db_shared, pk=marker.pk), timeout=30, message="the standby's recovery")

    manual.refresh_from_db(using=db_shared.alias)
    assert manual.status == ExecutionStatus.RUNNING and manual.claimed_by == "web-host:77:process-0123"
    assert standby.terminate() == 0


def test_a_scheduler_stopped_with_a_call_still_running_exits_non_zero_and_the_next_leader_resends_it(
        db_shared, start_scheduler, receiver):
    job = new_job(db_shared, "abandoned", target_url=receiver.url_for("/abandoned"))
    clock = Clock(lead=15)
    first = start_scheduler(clock=clock, SCHEDULER_SHUTDOWN_GRACE_SECONDS=1)
    wait_until(lambda: receiver.requests, timeout=30, message="the call to reach the receiver")

    assert first.terminate() == 3  # it abandoned a call
    [left] = executions(db_shared).filter(job_id=job.pk)
    assert left.status == ExecutionStatus.RUNNING and left.sent_at is not None

    second = start_scheduler(clock=clock)
    [row] = wait_until(lambda: finished(db_shared, job_id=job.pk), timeout=30, message="the run recorded")
    assert row.status == ExecutionStatus.SUCCESS and row.note == runs.RESENT_NOTE
    assert [r.headers["idempotency-key"] for r in receiver.requests] == [row.pk, row.pk]
    assert "abandoning" in first.log()
    assert second.terminate() == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_burst_the_leader_claimed_and_died_before_sending_is_sent_once_by_the_next_leader(
        backend, db_shared, start_scheduler, receiver):
    receiver.delay = 0
    jobs = [new_job(db_shared, f"burst {i}", target_url=receiver.url_for(f"/burst-{i}")) for i in range(30)]
    clock = Clock(lead=15)
    leader = start_scheduler(clock=clock, SCHEDULER_LOCK_BACKEND=backend, CRONHUB_TEST_DIE_AFTER_CLAIM="1")
    wait_until(lambda: "firing" in leader.log(), timeout=20, message="the leader firing")
    standby = start_scheduler(clock=clock, SCHEDULER_LOCK_BACKEND=backend)
    wait_until(lambda: "standby:" in standby.log(), timeout=20, message="the standby waiting")
    wait_until(lambda: not leader.alive(), timeout=40, message="the leader to die after its claim")
    assert "dying after claiming 30 run(s)" in leader.log()  # all claimed in one batch, none sent

    rows = wait_until(lambda: (lambda r: r if len(r) == 30 else None)(
        finished(db_shared, scheduled_for=clock.fire_at) or []), timeout=60, message="the runs recorded")

    assert sorted(r.job_id for r in rows) == sorted(job.pk for job in jobs)
    assert {(r.status, r.note, r.attempts) for r in rows} == {
        (ExecutionStatus.SUCCESS, runs.SENT_BY_NEXT_LEADER_NOTE, 1)}
    keys = sorted(request.headers["idempotency-key"] for request in receiver.requests)
    assert keys == sorted(r.pk for r in rows)  # each sent once, under its run's key
    assert standby.terminate() == 0
