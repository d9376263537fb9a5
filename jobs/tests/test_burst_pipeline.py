"""The scheduler's burst pipeline keeps every guarantee of a run (in-process, real servers and database).

Fires are handed to ``BurstPipeline`` as APScheduler hands them: claimed in one
statement, sent concurrently, recorded and announced in batches.
"""

import datetime as dt
import threading
import time
from collections import Counter

import pytest
from django.utils import timezone

from cronhub.testing.factories import JobFactory, UserFactory
from cronhub.testing.servers import DripServer, RecordingServer
from jobs.models import ExecutionStatus, JobExecution
from jobs.scheduler.dispatcher import Dispatcher, DueJobs
from jobs.scheduler.pipeline import BurstPipeline
from jobs.services import runs
from jobs.services.dispatch import Outcome
from notifications.models import Notification

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.dbcompat]


class Harness:
    def __init__(self, *, grace=300):
        self.dispatcher = Dispatcher(grace_seconds=grace, due=DueJobs(), stop=threading.Event())
        self.pooled = []
        self.done = []
        self.pipeline = BurstPipeline(self.dispatcher, fallback=lambda fire, job: self.pooled.append(fire))

    def fire(self, jobs, at):
        for job in jobs:
            assert self.pipeline.submit(job.pk, [at], done=lambda j=job.pk: self.done.append(j))

    def finish(self, timeout=20):
        assert self.pipeline.wait_idle(timeout)
        assert self.pipeline.drain(timeout)
        self.pipeline.close()


def fire_time():
    return timezone.now().replace(microsecond=0)


def test_a_burst_is_claimed_sent_and_recorded_once_each_with_its_idempotency_headers(settings):
    users = [UserFactory() for _ in range(3)]
    with RecordingServer() as server:
        jobs = [JobFactory(target_url=server.url_for(f"/hook-{i}"), metadata={"i": i}, created_by=users[0])
                for i in range(30)]
        at = fire_time()
        harness = Harness()
        harness.fire(jobs, at)
        harness.finish()
        rows = list(JobExecution.objects.filter(scheduled_for=at))
        assert sorted(row.job_id for row in rows) == sorted(job.pk for job in jobs)
        assert {row.status for row in rows} == {"success"}
        assert all(row.attempts == 1 and row.sent_at and row.completed_at for row in rows)
        by_path = {request.path: request for request in server.requests}
        assert len(server.requests) == len(by_path) == 30
        for row in rows:
            index = next(i for i, job in enumerate(jobs) if job.pk == row.job_id)
            request = by_path[f"/hook-{index}"]
            assert request.method == "POST"
            assert request.headers["idempotency-key"] == row.pk
            assert request.headers["x-cronhub-execution-id"] == row.pk
            assert request.headers["x-cronhub-job-id"] == row.job_id
            assert request.headers["x-cronhub-scheduled-for"] == at.replace(tzinfo=None).isoformat() + "Z"
        assert sorted(harness.done) == sorted(job.pk for job in jobs)
        assert not runs.in_flight_ids()
    # Notified once per run and user (every user sees run results).
    for row in rows:
        told = list(Notification.objects.filter(related_execution=row).values_list("user_id", flat=True))
        assert sorted(told) == sorted(u.pk for u in users)


def test_two_pipelines_on_the_same_fires_record_and_deliver_each_once():
    with RecordingServer() as server:
        jobs = [JobFactory(target_url=server.url_for(f"/hook-{i}")) for i in range(40)]
        at = fire_time()
        first, second = Harness(), Harness()
        first.fire(jobs, at)
        second.fire(list(reversed(jobs)), at)
        first.finish()
        second.finish()
        rows = list(JobExecution.objects.filter(scheduled_for=at).values_list("job_id", "status"))
        assert sorted(job_id for job_id, _ in rows) == sorted(job.pk for job in jobs)
        assert {status for _, status in rows} == {"success"}
        assert sorted(r.path for r in server.requests) == sorted(f"/hook-{i}" for i in range(40))


def test_the_outbound_guard_and_the_total_deadline_apply_to_every_call(settings):
    settings.OUTBOUND_TOTAL_TIMEOUT = 1
    settings.OUTBOUND_READ_TIMEOUT = 30
    with DripServer(interval=0.2, length=200) as drip, RecordingServer() as server:
        metadata_job = JobFactory(target_url="http://169.254.169.254/latest/meta-data")
        scheme_job = JobFactory(target_url="http://[fe80::1]/x")
        drip_job = JobFactory(target_url=drip.url_for("/drip"), timeout_seconds=1)  # the call's deadline
        normal = JobFactory(target_url=server.url_for("/ok"))
        at = fire_time()
        harness = Harness()
        harness.fire([metadata_job, scheme_job, drip_job, normal], at)
        harness.finish()
        rows = {row.job_id: row for row in JobExecution.objects.filter(scheduled_for=at)}
        for refused in (metadata_job, scheme_job):
            assert rows[refused.pk].status == "failed"
            assert "link-local or cloud metadata address" in rows[refused.pk].error_message
        assert rows[drip_job.pk].status == "failed"
        assert rows[drip_job.pk].error_message.endswith("within 1 s (total timeout)")
        assert rows[drip_job.pk].duration_seconds < 10  # the drip would take 40 s
        assert rows[normal.pk].status == "success"
        assert rows[normal.pk].completed_at < rows[drip_job.pk].completed_at


def test_a_private_target_is_refused_when_private_targets_are_blocked(settings):
    settings.WEBHOOK_BLOCK_PRIVATE = True
    with RecordingServer() as server:
        job = JobFactory(target_url=server.url_for("/hook"))
        at = fire_time()
        harness = Harness()
        harness.fire([job], at)
        harness.finish()
        row = JobExecution.objects.get(scheduled_for=at)
        assert row.status == "failed" and "private or loopback" in row.error_message
        assert server.requests == []


def test_what_is_not_a_plain_webhook_fire_goes_to_the_dispatch_pool():
    github = JobFactory(github=True)
    paused = JobFactory(is_active=False)
    late = JobFactory()
    at = fire_time()
    harness = Harness(grace=5)
    harness.fire([github, paused], at)
    assert harness.pipeline.submit(late.pk, [at - dt.timedelta(seconds=60)], done=lambda: None)
    harness.finish()
    assert sorted(fire.job_id for fire in harness.pooled) == sorted([github.pk, paused.pk, late.pk])
    assert not JobExecution.objects.exists()


def test_a_burst_delivers_each_run_once_even_when_receivers_hang_up_after_reading():
    # 320 jobs without metadata (GET: the method HTTP clients re-send by themselves on a
    # broken connection); every 8th path reads the request and closes without an answer.
    # Each run must reach the receiver exactly once, under its own Idempotency-Key, and be
    # recorded once: the hung-up ones failed (the receiver may have them), never re-sent.
    with RecordingServer() as server:
        jobs = [JobFactory(target_url=server.url_for(f"/hook-{i}"), metadata={}) for i in range(320)]
        hung_up = {f"/hook-{i}" for i in range(0, 320, 8)}
        for path in hung_up:
            server.reply(path=path, hang_up=True)
        at = fire_time()
        harness = Harness()
        harness.fire(jobs, at)
        harness.finish(timeout=120)
        time.sleep(0.5)  # a re-send would have arrived by now
        rows = {row.pk: row for row in JobExecution.objects.filter(scheduled_for=at)}
        assert len(rows) == 320 and len({row.job_id for row in rows.values()}) == 320
        keys = Counter(request.headers.get("idempotency-key") for request in server.requests)
        assert set(keys) <= set(rows)  # every call carried its run's key
        assert max(keys.values()) == 1, [key for key, n in keys.items() if n > 1][:5]
        # A busy machine may refuse some connections (the test server's short accept queue):
        # those runs never reached it and are recorded failed, never sent a second time.
        assert len(keys) > 160
        assert {rows[pk].status for pk in set(rows) - set(keys)} <= {"failed"}
        assert {request.method for request in server.requests} == {"GET"}
        for request in server.requests:
            row = rows[request.headers["idempotency-key"]]
            if request.path in hung_up:
                assert row.status == "failed" and "may have been received" in row.error_message
            else:
                assert row.status == "success"


def _claims(jobs, at, claimer):
    return [JobExecution(job=job, status="running", trigger_type="scheduled", scheduled_for=at,
                         execution_type="webhook", target=job.target_url, claimed_by=claimer) for job in jobs]


def test_each_batch_write_repeated_after_a_lost_answer_recognises_its_own_rows_and_values():
    # The writer repeats a write whose answer was lost: the repeat must find the rows the first
    # attempt wrote (with that attempt's times), and a row held by another owner is never ours.
    jobs = [JobFactory() for _ in range(6)]
    at = fire_time()
    other = runs.claim_many(_claims(jobs[:2], at, "host:1:other"))
    assert len(other) == 2
    first = _claims(jobs, at, "host:2:me")
    claimed = runs.claim_many(first)
    assert sorted(e.job_id for e in claimed) == sorted(job.pk for job in jobs[2:])
    started = {e.pk: (e.started_at, e.deadline_at) for e in claimed}
    again = _claims(jobs[2:], at, "host:2:me")
    for copy, original in zip(again, claimed, strict=True):
        copy.pk = original.pk
    reclaimed = runs.claim_many(again)  # every row conflicts: all found as ours, with the first times
    assert {e.pk: (e.started_at, e.deadline_at) for e in reclaimed} == started
    sent = runs.mark_sent_many(claimed)
    assert len(sent) == 4 and {e.attempts for e in sent} == {1}
    first_sent = {e.pk: (e.sent_at, e.deadline_at) for e in sent}
    for e in again:
        e.attempts = 0
    resent = runs.mark_sent_many(again)  # the first update's answer lost: nothing changes twice
    assert {e.pk: (e.sent_at, e.deadline_at) for e in resent} == first_sent
    assert set(JobExecution.objects.filter(claimed_by="host:2:me").values_list("attempts", flat=True)) == {1}
    theirs = _claims(jobs[:1], at, "host:2:me")
    theirs[0].pk = other[0].pk
    assert runs.mark_sent_many(theirs) == []  # another owner's row: neither marked nor ours
    assert JobExecution.objects.get(pk=other[0].pk).attempts == 0
    answered = timezone.now()
    outcome = Outcome(ExecutionStatus.SUCCESS, response_status=200, output="ok")
    recorded = runs.finish_many([(e, outcome, answered) for e in sent] + [(theirs[0], outcome, answered)])
    assert sorted(e.pk for e in recorded) == sorted(first_sent)
    assert JobExecution.objects.get(pk=other[0].pk).status == "running"


def _wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("defer", [60.0, 0.3])
def test_announcing_gives_way_while_runs_of_the_burst_are_still_out_up_to_its_limit(monkeypatch, defer):
    monkeypatch.setattr("jobs.scheduler.pipeline.ANNOUNCE_DEFER_SECONDS", defer)
    user = UserFactory()  # the one person told
    with RecordingServer() as server:
        server.reply(path="/slow", delay=60)  # never answers: the call ends at its deadline, 8 s
        jobs = [JobFactory(target_url=server.url_for(f"/hook-{i}"), created_by=user) for i in range(10)]
        slow = JobFactory(target_url=server.url_for("/slow"), created_by=user, timeout_seconds=8)
        at = fire_time()
        harness = Harness()
        harness.fire([*jobs, slow], at)
        _wait_for(lambda: JobExecution.objects.filter(scheduled_for=at, status="success").count() == 10)
        if defer > 1:  # the slow run is still out: nobody has been told yet
            time.sleep(1.0)
            assert JobExecution.objects.get(job=slow).status == "running"
            assert not Notification.objects.exists()
        else:  # the limit passed: what was recorded is told, the slow run still out
            _wait_for(lambda: Notification.objects.count() == 10)
            assert JobExecution.objects.get(job=slow).status == "running"
        harness.finish()
    assert JobExecution.objects.get(job=slow).status == "failed"
    told = Counter(Notification.objects.values_list("related_execution__job_id", flat=True))
    assert told == Counter(job.pk for job in [*jobs, slow])


@pytest.mark.server_db  # row locks of concurrent inserts: PostgreSQL and MariaDB
def test_overlapping_claims_in_opposite_orders_each_win_or_skip_without_deadlocking():
    from django.db import connection

    jobs = [JobFactory() for _ in range(400)]
    at = fire_time()
    for attempt in range(3):
        when = at + dt.timedelta(minutes=attempt)
        start = threading.Barrier(2)
        won, failed = {}, []

        def claim(claimer, order, when=when, start=start, won=won, failed=failed):
            try:
                batch = _claims(order, when, claimer)
                start.wait()
                won[claimer] = {execution.job_id for execution in runs.claim_many(batch)}
            except Exception as exc:  # a deadlock, if claims locked rows in opposite orders
                failed.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=claim, args=("one", jobs)),
                   threading.Thread(target=claim, args=("two", jobs[::-1]))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not failed, failed
        assert won["one"].isdisjoint(won["two"]) and len(won["one"] | won["two"]) == 400
        assert JobExecution.objects.filter(scheduled_for=when).count() == 400
