"""A leader shares its bursts with dispatch processes (``SCHEDULER_DISPATCH_PROCESSES``): real processes.

The guarantees of one process hold across several: each fire time runs once (also with
two leaders by mistake, each with its own dispatch process), every call goes out under
its run's idempotency key, and a dispatch process SIGKILLed after claiming its share
leaves nothing unsent: the leader recovers its runs at once; one asked to stop (SIGTERM)
finishes what it claimed. Shifted clock and shared
database as in test_runscheduler_multiprocess.py; the dispatch processes are started on
the same clock (jobs/tests/clocked_scheduler.py).
"""

import ast
import collections
import datetime as dt
import os
import re
import signal
import socket
import urllib.request

import pytest

from cronhub.testing.servers import RecordingServer, Reply
from jobs.models import ExecutionStatus, Job, JobExecution
from jobs.services import runs
from jobs.tests.scheduler_support import Clock, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.dbcompat]

BURST = 240  # large enough to be shared out (pipeline.SHARE_MIN)


@pytest.fixture
def receiver():
    with RecordingServer() as server:
        yield server


def make_burst(db, receiver, count=BURST):
    end = dt.date.today() + dt.timedelta(days=30)
    return Job.objects.using(db.alias).bulk_create([
        Job(name=f"burst {index}", cron_expression="* * * * *", timezone="UTC", end_date=end,
            target_url=receiver.url_for(f"/burst-{index}"))
        for index in range(count)])


def recorded(db, fire_at, count):
    rows = list(JobExecution.objects.using(db.alias).filter(scheduled_for=fire_at))
    return rows if len(rows) == count and all(r.status != ExecutionStatus.RUNNING for r in rows) else None


def claimer_pid(claimer: str) -> int:
    return int(claimer.split(":")[1])


def assert_each_sent_once(receiver, rows):
    keys = collections.Counter(request.headers["idempotency-key"] for request in receiver.requests)
    assert keys == {row.pk: 1 for row in rows}


def test_two_leaders_with_a_dispatch_process_each_still_run_every_fire_time_once(
        tmp_path, db_shared, start_scheduler, receiver):
    # Split brain (two lock files by mistake), each leader sharing its burst with a
    # dispatch process: four processes send, the claim row still decides who has a fire time.
    jobs = make_burst(db_shared, receiver)
    clock = Clock(lead=15)
    leaders = [start_scheduler(clock=clock, SCHEDULER_LOCK_PATH=tmp_path / f"lock-{n}",
                               SCHEDULER_DISPATCH_PROCESSES=1) for n in range(2)]
    wait_until(lambda: all("dispatch process ready" in p.log() for p in leaders), timeout=30,
               message="both leaders and their dispatch processes ready")

    rows = wait_until(lambda: recorded(db_shared, clock.fire_at, len(jobs)), timeout=60,
                      message="one finished run per job")
    clock.sleep_until(clock.fire_at + dt.timedelta(seconds=2))  # give a duplicate time to show up

    assert JobExecution.objects.using(db_shared.alias).count() == len(jobs)
    assert {row.status for row in rows} == {ExecutionStatus.SUCCESS}
    assert_each_sent_once(receiver, rows)
    leader_pids = {leader.pid for leader in leaders}
    by_dispatch_process = [row for row in rows if claimer_pid(row.claimed_by) not in leader_pids]
    assert by_dispatch_process, "no run was sent by a dispatch process"
    assert all(process.terminate() == 0 for process in leaders)


def test_a_dispatch_process_killed_after_claiming_its_share_leaves_nothing_unsent(
        db_shared, start_scheduler, receiver):
    jobs = make_burst(db_shared, receiver)
    clock = Clock(lead=15)
    leader = start_scheduler(clock=clock, SCHEDULER_DISPATCH_PROCESSES=1,
                             CRONHUB_TEST_WORKER_DIE_AFTER_CLAIM="1")
    wait_until(lambda: "dispatch process ready" in leader.log(), timeout=30, message="the dispatch process")

    rows = wait_until(lambda: recorded(db_shared, clock.fire_at, len(jobs)), timeout=60,
                      message="one finished run per job")
    log = leader.log()
    assert "dying after claiming" in log  # the dispatch process claimed its share, sent none of it
    assert "recovering them" in log

    assert {row.status for row in rows} == {ExecutionStatus.SUCCESS}
    assert_each_sent_once(receiver, rows)
    recovered = [row for row in rows if row.note == runs.SENT_BY_NEXT_LEADER_NOTE]
    assert recovered, "the dispatch process's share was not among the runs"
    assert all(claimer_pid(row.claimed_by) == leader.pid for row in recovered)
    assert leader.alive()
    assert leader.terminate() == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def metric(port: int, name: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_a_dispatch_process_asked_to_stop_finishes_the_calls_it_has_under_way(db_shared, start_scheduler):
    port = free_port()
    with RecordingServer(Reply(200, "ok", {}, 3.0)) as slow:  # every call in flight for 3 s
        jobs = make_burst(db_shared, slow)
        clock = Clock(lead=15)
        leader = start_scheduler(clock=clock, SCHEDULER_DISPATCH_PROCESSES=1, SCHEDULER_METRICS_PORT=port)
        wait_until(lambda: "dispatch process ready" in leader.log(), timeout=30,
                   message="the dispatch process")

        def sent_by_dispatch_process():
            claimers = (JobExecution.objects.using(db_shared.alias)
                        .filter(scheduled_for=clock.fire_at, sent_at__isnull=False)
                        .values_list("claimed_by", flat=True))
            return next((claimer_pid(c) for c in claimers if claimer_pid(c) != leader.pid), None)

        wait_until(lambda: metric(port, "cronhub_dispatch_processes") == 1, timeout=10,
                   message="the leader counting its dispatch process ready")
        worker_pid = wait_until(sent_by_dispatch_process, timeout=40,
                                message="calls sent by the dispatch process")
        os.kill(worker_pid, signal.SIGTERM)

        rows = wait_until(lambda: recorded(db_shared, clock.fire_at, len(jobs)), timeout=60,
                          message="one finished run per job")
        log = leader.log()
        assert "dispatch process stopping: finishing what it has claimed" in log
        assert {row.status for row in rows} == {ExecutionStatus.SUCCESS}
        assert_each_sent_once(slow, rows)
        by_worker = [row for row in rows if claimer_pid(row.claimed_by) == worker_pid]
        assert by_worker
        assert all(row.note in (None, "") for row in by_worker)  # its own answers: none recovered
        # Each of its threads kept the one connection it opened, from batch to batch (as the
        # leader's do), instead of reconnecting for every statement. (Here, not with two leaders:
        # there a write retried after a database error rightly starts on a new connection.)
        reports = [ast.literal_eval(found)
                   for found in re.findall(r"dispatch process connections: (\{.*\})", log)]
        assert reports and max(max(report.values()) for report in reports) == 1, reports
        # The leader serves the metrics of every run, the dispatch process's included.
        successes = 'cronhub_executions_total{status="success"}'
        wait_until(lambda: metric(port, successes) == len(jobs), timeout=10,
                   message="every run counted in the leader's metrics")
        assert metric(port, "cronhub_dispatch_lateness_seconds_count") == len(jobs)
        wait_until(lambda: metric(port, "cronhub_dispatch_process_exits_total") == 1, timeout=10,
                   message="its exit counted")
        assert metric(port, "cronhub_dispatch_processes") == 0
        assert leader.alive()
        assert leader.terminate() == 0
