"""Retries and waiting runs in a real ``runscheduler`` process: the leader sends a waiting
retry when it is due, and a retry left waiting by a stopped scheduler is sent by the next one."""

import datetime as dt

import pytest

from cronhub.testing.servers import Reply
from jobs.models import Job, JobExecution
from jobs.tests.delivery_support import ScriptedServer
from jobs.tests.scheduler_support import Clock, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_retry_waiting_when_the_scheduler_stops_is_sent_by_the_next_one(db_shared, start_scheduler):
    with ScriptedServer(Reply(503, "busy"), Reply(503, "busy"), default=Reply(200, "done")) as receiver:
        job = Job.objects.using(db_shared.alias).create(
            name="flaky", cron_expression="* * * * *", timezone="UTC", target_url=receiver.url_for("/hook"),
            end_date=dt.date.today() + dt.timedelta(days=30), max_attempts=3, retry_backoff_seconds=6)
        clock = Clock(lead=8)
        first = start_scheduler(clock=clock)

        rows = JobExecution.objects.using(db_shared.alias).filter(job=job, scheduled_for=clock.fire_at)

        def run():
            return rows.first()

        waiting = wait_until(lambda: (r := run()) is not None and r.wait_reason == "retry" and r,
                             timeout=30, message="the first call to fail and the run to wait for its retry")
        assert waiting.attempts == 1 and len(receiver.requests) == 1
        assert first.terminate() == 0  # stops while the retry waits: nothing in flight, nothing lost

        start_scheduler(clock=clock)
        done = wait_until(lambda: (r := run()) is not None and r.status != "running" and r,
                          timeout=60, message="the next scheduler to finish the run")

        assert (done.status, done.attempts, done.output) == ("success", 3, "done")
        assert [e["status"] for e in done.attempt_log] == [503, 503, 200]
        assert len({r.headers["idempotency-key"] for r in receiver.requests}) == 1
        assert rows.count() == 1
