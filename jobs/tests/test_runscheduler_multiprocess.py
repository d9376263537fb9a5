"""Several ``runscheduler`` processes on one database: each fire time runs exactly once.

Real subprocesses, a real webhook receiver, a real lock. The processes run on a
shifted clock (``Clock``; jobs/tests/clocked_scheduler.py) so an every-minute job's
next fire time is seconds away instead of up to a minute.
"""

import collections
import datetime as dt

import pytest
from django.db import connections

from jobs.models import Job, JobExecution, SchedulerState
from jobs.tests.scheduler_support import Clock, WebhookReceiver, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


def make_jobs(db, receiver, count, cron="* * * * *"):
    return [
        Job.objects.using(db.alias).create(
            name=f"every minute {index}", cron_expression=cron, timezone="UTC",
            target_url=receiver.url(f"job-{index}"), end_date=dt.date.today() + dt.timedelta(days=30),
        )
        for index in range(count)
    ]


def leader_pid(db):
    state = SchedulerState.objects.using(db.alias).filter(pk=SchedulerState.SINGLETON_ID).first()
    return state.pid if state and state.stopped_at is None else None


def runs_for(db, fire_at):
    return list(JobExecution.objects.using(db.alias).filter(scheduled_for=fire_at)
                .values_list("job_id", "status"))


def backend_param(backend):
    marks = [pytest.mark.dbcompat, *([pytest.mark.server_db] if backend == "database" else [])]
    return pytest.param(backend, id=backend, marks=marks)


@pytest.mark.parametrize("backend", [backend_param("file"), backend_param("database")])
def test_three_schedulers_fire_once_and_a_standby_takes_over_from_a_killed_leader(
        backend, db_shared, start_scheduler, receiver):
    jobs = make_jobs(db_shared, receiver, 4)
    clock = Clock(lead=10)
    processes = [start_scheduler(clock=clock, SCHEDULER_LOCK_BACKEND=backend) for _ in range(3)]
    pids = {p.pid: p for p in processes}

    first_leader = wait_until(lambda: leader_pid(db_shared) in pids and leader_pid(db_shared),
                              timeout=20, message="a leader")
    wait_until(lambda: sum("standby:" in p.log() for p in processes) == 2, timeout=10,
               message="two standbys saying they wait")
    # Kill the leader just before the fire time: a standby must take over, and the
    # fire time must still run exactly once (on time, or as the catch-up run).
    clock.sleep_until(clock.fire_at - dt.timedelta(seconds=1.5))
    pids[first_leader].kill()

    wait_until(lambda: len(runs_for(db_shared, clock.fire_at)) == len(jobs)
               and all(status != "running" for _, status in runs_for(db_shared, clock.fire_at)),
               timeout=25, message="one finished run per job for the fire time")
    new_leader = wait_until(
        lambda: leader_pid(db_shared) not in (None, first_leader) and leader_pid(db_shared),
        timeout=10, message="the new leader's heartbeat")

    runs = runs_for(db_shared, clock.fire_at)
    assert sorted(job_id for job_id, _ in runs) == sorted(str(job.pk) for job in jobs)
    assert {status for _, status in runs} == {"success"}
    hits = collections.Counter(receiver.paths())
    assert hits == {f"/job-{index}": 1 for index in range(len(jobs))}
    assert new_leader in pids and pids[new_leader].alive()
    for process in processes:
        if process.alive():
            assert process.terminate() == 0


@pytest.mark.dbcompat
def test_two_processes_that_both_think_they_lead_still_fire_each_time_once(
        tmp_path, db_shared, start_scheduler, receiver):
    # Split brain (e.g. two lock files by mistake): the unique (job, scheduled_for)
    # row is what keeps a fire time from running twice.
    jobs = make_jobs(db_shared, receiver, 5)
    clock = Clock(lead=10)
    leaders = [start_scheduler(clock=clock, SCHEDULER_LOCK_PATH=tmp_path / f"lock-{n}") for n in range(2)]
    wait_until(lambda: all("leader: acquired" in p.log() for p in leaders), timeout=20, message="two leaders")
    standby = start_scheduler(clock=clock, SCHEDULER_LOCK_PATH=tmp_path / "lock-0")

    wait_until(lambda: len(runs_for(db_shared, clock.fire_at)) == len(jobs)
               and all(status == "success" for _, status in runs_for(db_shared, clock.fire_at)),
               timeout=25, message="one successful run per job")
    clock.sleep_until(clock.fire_at + dt.timedelta(seconds=2))  # give a duplicate time to show up

    assert JobExecution.objects.using(db_shared.alias).count() == len(jobs)
    assert collections.Counter(receiver.paths()) == {f"/job-{index}": 1 for index in range(len(jobs))}
    assert "standby:" in standby.log()
    assert all(process.terminate() == 0 for process in [*leaders, standby])


def _terminate_other_sessions(db):
    with connections[db.alias].cursor() as cursor:
        if db.vendor == "postgresql":
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        else:
            cursor.execute(
                "SELECT id FROM information_schema.processlist"
                " WHERE db = DATABASE() AND id <> CONNECTION_ID()"
            )
            for (session,) in cursor.fetchall():
                try:
                    cursor.execute(f"KILL {int(session)}")
                except Exception:  # the session may have ended meanwhile
                    pass


@pytest.mark.dbcompat
@pytest.mark.server_db  # it terminates PostgreSQL/MariaDB sessions
@pytest.mark.parametrize("backend", ["file", "database"])
def test_the_scheduler_survives_its_database_connections_being_killed(
        backend, db_shared, start_scheduler, receiver):
    jobs = make_jobs(db_shared, receiver, 2)
    clock = Clock(lead=12)
    process = start_scheduler(clock=clock, SCHEDULER_LOCK_BACKEND=backend)
    wait_until(lambda: leader_pid(db_shared) == process.pid, timeout=20, message="the leader")
    wait_until(lambda: "firing" in process.log(), timeout=10, message="the leader firing")

    clock.sleep_until(clock.fire_at - dt.timedelta(seconds=7))
    _terminate_other_sessions(db_shared)  # every connection of the scheduler, the lock's included

    wait_until(lambda: len(runs_for(db_shared, clock.fire_at)) == len(jobs)
               and all(status == "success" for _, status in runs_for(db_shared, clock.fire_at)),
               timeout=30, message="the fire time run after the connections were killed")
    assert process.alive()
    assert collections.Counter(receiver.paths()) == {"/job-0": 1, "/job-1": 1}
    if backend == "database":
        assert "lost" in process.log()  # it stepped down and took the lock again
    assert process.terminate() == 0
