"""A run's phases and their recovery, in one process: real HTTP servers, the real database.

Rows are put in the state a stopped process leaves behind (claimed but never
sent, sent but never recorded) and recovered the way a new leader does; the
database outages are real (another connection holds SQLite's write lock, so
those tests run in the default SQLite run). The same situations with real
scheduler processes: test_runscheduler_recovery.py.
"""

import contextlib
import datetime as dt
import sqlite3
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from cronhub.testing.factories import JobFactory
from jobs.models import ExecutionStatus, JobExecution, TriggerType
from jobs.scheduler.db import retrying_writer
from jobs.scheduler.dispatcher import Dispatcher, DueJobs
from jobs.services import dispatch, runs
from jobs.tests.scheduler_support import wait_until
from notifications.models import Notification

DEAD = "gone-host:4242:0123456789abcdef"  # the leadership that claimed the rows and died
ME = "this-host:1:fedcba9876543210"
GRACE = 300.0


def left_running(job, *, sent: bool, trigger=TriggerType.SCHEDULED, late_by: float = 5.0,
                 claimed_by: str | None = DEAD, deadline_in: float = 60.0, **fields) -> JobExecution:
    now = timezone.now()
    return JobExecution.objects.create(
        job=job, status=ExecutionStatus.RUNNING, trigger_type=trigger,
        scheduled_for=(now - dt.timedelta(seconds=late_by)).replace(microsecond=0)
        if trigger == TriggerType.SCHEDULED else None,
        started_at=now - dt.timedelta(seconds=late_by), claimed_by=claimed_by,
        sent_at=now - dt.timedelta(seconds=late_by) if sent else None, attempts=1 if sent else 0,
        deadline_at=now + dt.timedelta(seconds=deadline_in), execution_type=job.execution_type,
        target=job.target_display, **fields,
    )


def recover(execution, **kwargs):
    return runs.execution_recover(execution.pk, claimer=ME, grace_seconds=GRACE, **kwargs)


# --- idempotency headers ------------------------------------------------------------------------------
@pytest.mark.django_db
def test_every_webhook_call_of_a_run_carries_its_idempotency_headers(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"))
    fire = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)

    scheduled = runs.job_execute(job=job, trigger=TriggerType.SCHEDULED, scheduled_for=fire)
    manual = runs.job_execute(job=job, trigger=TriggerType.MANUAL)

    first, second = webhook_server.requests
    assert first.headers["idempotency-key"] == first.headers["x-cronhub-execution-id"] == scheduled.pk
    assert first.headers["x-cronhub-job-id"] == job.pk
    assert first.headers["x-cronhub-scheduled-for"] == "2026-03-02T00:00:00Z"
    assert second.headers["idempotency-key"] == manual.pk != scheduled.pk
    assert "x-cronhub-scheduled-for" not in second.headers  # a manual run has no fire time


def test_each_test_run_sends_a_fresh_idempotency_key(webhook_server):
    for _ in range(2):
        dispatch.job_test_run(target_url=webhook_server.url_for("/hook"))

    keys = [request.headers["idempotency-key"] for request in webhook_server.requests]
    assert len(set(keys)) == 2 and all(keys)


# --- phases -------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_run_records_its_owner_when_it_was_sent_and_its_deadline(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"))

    run = runs.job_execute(job=job, trigger=TriggerType.SCHEDULED, scheduled_for=timezone.now(), claimer=ME)

    run.refresh_from_db()
    assert run.status == ExecutionStatus.SUCCESS and run.claimed_by == ME and run.attempts == 1
    assert run.started_at <= run.sent_at < run.deadline_at
    assert run.deadline_at - run.sent_at == dt.timedelta(
        seconds=dispatch.call_budget_seconds() + dispatch.RECORD_MARGIN_SECONDS)


@pytest.mark.django_db
def test_a_retried_claim_recognises_its_own_row_instead_of_giving_up(webhook_server):
    # The first INSERT committed but its answer was lost (the connection broke): the
    # retry hits the unique constraint and must see that the row is its own.
    job = JobFactory(target_url=webhook_server.url_for("/hook"))
    execution = JobExecution(job=job, status=ExecutionStatus.RUNNING, trigger_type=TriggerType.SCHEDULED,
                             scheduled_for=timezone.now(), claimed_by=ME)
    assert runs._claim(execution)

    assert runs._claim(execution)  # the retry
    stranger = JobExecution(job=job, status=ExecutionStatus.RUNNING, trigger_type=TriggerType.SCHEDULED,
                            scheduled_for=execution.scheduled_for, claimed_by=DEAD)
    assert not runs._claim(stranger)  # another claimer still loses
    assert JobExecution.objects.count() == 1


@pytest.mark.django_db
def test_a_run_taken_over_before_it_was_sent_is_not_sent_by_its_first_owner(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"))
    execution = left_running(job, sent=False, claimed_by=ME)
    JobExecution.objects.filter(pk=execution.pk).update(claimed_by=DEAD)  # a recovery took it

    result = runs._send_and_finish(job, execution, dispatch.run_config(job=job), write=runs.write_once)

    assert result is None
    assert webhook_server.requests == []
    assert JobExecution.objects.get(pk=execution.pk).status == ExecutionStatus.RUNNING


# --- recovery of a dead leader's runs -----------------------------------------------------------------
@pytest.mark.django_db
def test_a_run_claimed_but_never_sent_by_a_dead_leader_is_sent_within_the_misfire_grace(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"))
    row = left_running(job, sent=False)

    assert runs.executions_needing_recovery(now=timezone.now(), leadership_start=True) == [row.pk]
    assert recover(row) == "sent"

    row.refresh_from_db()
    assert row.status == ExecutionStatus.SUCCESS and row.response_status == 200
    assert row.claimed_by == ME and row.attempts == 1
    assert row.note == runs.SENT_BY_NEXT_LEADER_NOTE
    [request] = webhook_server.requests
    assert request.headers["idempotency-key"] == row.pk


@pytest.mark.django_db
def test_a_run_claimed_but_never_sent_beyond_the_misfire_grace_is_recorded_missed_on_the_same_row(
        webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"))
    row = left_running(job, sent=False, late_by=GRACE + 60)

    assert recover(row) == "missed"

    row.refresh_from_db()
    assert row.status == ExecutionStatus.MISSED
    assert "stopped before sending it" in row.error_message and "misfire grace" in row.error_message
    assert webhook_server.requests == []
    assert JobExecution.objects.count() == 1


@pytest.mark.django_db
def test_a_sent_webhook_run_of_a_dead_leader_is_resent_with_the_same_key_and_recorded_by_its_answer(
        webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"))
    row = left_running(job, sent=True)
    webhook_server.reply(503, "busy")

    assert recover(row) == "re-sent"

    row.refresh_from_db()
    assert row.status == ExecutionStatus.FAILED  # the receiver's real answer, not a guess
    assert row.response_status == 503 and row.error_message == "Webhook returned status 503"
    assert row.note == runs.RESENT_NOTE and row.attempts == 2
    [request] = webhook_server.requests
    assert request.headers["idempotency-key"] == row.pk
    assert request.headers["x-cronhub-scheduled-for"] == row.scheduled_for.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.django_db
def test_a_sent_github_run_of_a_dead_leader_is_recorded_unknown_never_failed(fake_github):
    job = JobFactory(target_url=None, github_owner="acme", github_repo="app", github_workflow_name="ci.yml")
    row = left_running(job, sent=True)

    assert recover(row) == "unknown"

    row.refresh_from_db()
    assert row.status == ExecutionStatus.UNKNOWN
    assert row.error_message.startswith("outcome unknown:")
    assert fake_github.dispatches == []  # never dispatched twice
    titles = set(Notification.objects.filter(related_execution=row).values_list("title", flat=True))
    assert titles == {"Job outcome unknown"}


@pytest.mark.django_db
def test_a_webhook_run_already_resent_once_is_not_sent_a_third_time(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"))
    row = left_running(job, sent=True)
    JobExecution.objects.filter(pk=row.pk).update(attempts=2)

    assert recover(row) == "unknown"
    assert webhook_server.requests == []


@pytest.mark.django_db
def test_a_run_taken_over_by_someone_else_between_reading_and_taking_it_is_left_to_them(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"))
    row = left_running(job, sent=False)  # read while DEAD owned it
    JobExecution.objects.filter(pk=row.pk).update(claimed_by="another-leader:7:aaaa")

    assert not runs._take_over(row, ME)
    assert JobExecution.objects.get(pk=row.pk).claimed_by == "another-leader:7:aaaa"


# --- what recovery never touches -----------------------------------------------------------------------
@pytest.mark.django_db
def test_a_manual_run_is_never_recovered_by_a_new_leader_before_its_deadline(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"))
    manual = left_running(job, sent=True, trigger=TriggerType.MANUAL, claimed_by="web-host:77:process-x")

    assert runs.executions_needing_recovery(now=timezone.now(), leadership_start=True) == []
    JobExecution.objects.filter(pk=manual.pk).update(deadline_at=timezone.now() - dt.timedelta(seconds=1))
    [past] = runs.executions_needing_recovery(now=timezone.now(), leadership_start=False)
    assert recover(manual) == "unknown"  # past its deadline: it cannot still be in flight

    manual.refresh_from_db()
    assert past == manual.pk and manual.status == ExecutionStatus.UNKNOWN
    assert webhook_server.requests == []  # a manual run's overrides are not kept: never re-sent


@pytest.mark.django_db(transaction=True)
def test_a_run_this_process_is_still_sending_is_never_recovered_by_its_own_next_leadership(webhook_server):
    # A leader that lost its lock and re-took it starts a new leadership: the run
    # its previous leadership still has in flight must not look like a dead leader's.
    job = JobFactory(target_url=webhook_server.url_for("/hook"))
    webhook_server.reply(200, "ok", delay=1.5)
    done = threading.Event()

    def previous_leadership():
        try:
            runs.job_execute(job=job, trigger=TriggerType.SCHEDULED, scheduled_for=timezone.now(),
                             claimer=runs.claimer_id("previous-leadership"))
        finally:
            connections.close_all()
            done.set()

    thread = threading.Thread(target=previous_leadership)
    thread.start()
    webhook_server.wait_for(1)
    try:
        assert runs.executions_needing_recovery(now=timezone.now() + dt.timedelta(seconds=1),
                                                leadership_start=True) == []
    finally:
        thread.join(10)
    [row] = JobExecution.objects.all()
    assert row.status == ExecutionStatus.SUCCESS and len(webhook_server.requests) == 1


@pytest.mark.django_db
def test_a_run_of_a_dead_leader_past_its_deadline_is_recovered_during_a_leadership(webhook_server):
    job = JobFactory(target_url=webhook_server.url_for("/hook"))
    fresh = left_running(job, sent=True, deadline_in=60)
    stale = left_running(job, sent=True, late_by=200, deadline_in=-1)

    assert runs.executions_needing_recovery(now=timezone.now(), leadership_start=False) == [stale.pk]
    assert fresh.pk in runs.executions_needing_recovery(now=timezone.now(), leadership_start=True)


# --- record writes across a database outage ------------------------------------------------------------
@contextlib.contextmanager
def database_unavailable():
    """Writes fail until the block ends: another connection holds SQLite's write lock (and the
    writers' busy timeout is shortened, so each attempt fails quickly instead of waiting)."""
    if connection.vendor != "sqlite":
        raise RuntimeError("this outage needs SQLite")
    settings_dict = connection.settings_dict
    options = settings_dict.setdefault("OPTIONS", {})
    saved = options.get("timeout")
    options["timeout"] = 0.2
    holder = sqlite3.connect(settings_dict["NAME"], timeout=5, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        options["timeout"] = saved


def in_thread(func):
    result, errors = {}, []

    def run():
        try:
            result["value"] = func()
        except Exception as exc:  # shown by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result, errors


# SQLite only (the default test run): on PostgreSQL/MariaDB the outage is made by ending the
# scheduler's sessions (test_runscheduler_multiprocess.py) and by the outage script in benchmarks/.
def _scheduled_run(job):
    return runs.job_execute(job=job, trigger=TriggerType.SCHEDULED, scheduled_for=timezone.now(), claimer=ME,
                            write=retrying_writer())


def _manual_run(job):  # the API's execute and the admin's run-now: the default writer
    return runs.job_execute(job=job, trigger=TriggerType.MANUAL)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run", [_scheduled_run, _manual_run], ids=["scheduled", "manual"])
def test_the_outcome_of_a_run_is_recorded_once_the_database_is_back(webhook_server, caplog, run):
    # The webhook answers while the database is away: the finish is retried, not given up,
    # and the row never stays 'running' (a manual run's request thread retries it too).
    job = JobFactory(target_url=webhook_server.url_for("/hook"))
    webhook_server.reply(200, "ok", delay=1.0)
    thread, result, errors = in_thread(lambda: run(job))
    webhook_server.wait_for(1)
    with database_unavailable():
        # Wait (without timing anything) until the finish has failed at least once.
        wait_for_log(caplog, "record the outcome of run")
    thread.join(30)

    assert not errors
    [row] = JobExecution.objects.all()
    assert row.status == ExecutionStatus.SUCCESS and row.response_status == 200
    assert result["value"].pk == row.pk
    assert len(webhook_server.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_a_skipped_fire_time_is_recorded_once_the_database_is_back(caplog):
    job = JobFactory(target_url="http://127.0.0.1:9/never-called")
    fire = timezone.now().replace(microsecond=0)
    dispatcher = Dispatcher(grace_seconds=int(GRACE), due=DueJobs(), claimer=ME)
    with database_unavailable():
        thread, _result, errors = in_thread(lambda: dispatcher.record_overlap(job.pk, [fire]))
        wait_for_log(caplog, "record skipped run of job")
    thread.join(30)

    assert not errors
    [row] = JobExecution.objects.all()
    assert (row.status, row.scheduled_for) == (ExecutionStatus.SKIPPED, fire)


def wait_for_log(caplog, text: str, timeout: float = 30.0) -> None:
    caplog.set_level("WARNING", logger="cronhub.scheduler")
    wait_until(lambda: any(text in record.getMessage() for record in caplog.records), timeout=timeout,
               message=f"a log line containing {text!r}")
