"""Two schedulers firing the same job and fire time at once dispatch it exactly once.

Runs on separate database connections (one per thread); CI repeats it on
PostgreSQL and MariaDB where the unique (job, scheduled_for) index is the fence.
"""

import datetime as dt
import threading

import pytest
from django.db import connection

from cronhub.testing.factories import JobFactory
from jobs.models import JobExecution, TriggerType
from jobs.services import job_execute

FIRE = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)


@pytest.mark.dbcompat
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_of_one_fire_time_dispatch_once(webhook_server):
    webhook_server.reply(status=200, body="ok", delay=0.2)  # keep the winner busy while the loser inserts
    job = JobFactory(target_url=webhook_server.url_for("/hook"))
    start = threading.Barrier(2)
    results, errors = [], []

    def fire():
        try:
            start.wait(timeout=5)
            results.append(job_execute(job=job, trigger=TriggerType.SCHEDULED, scheduled_for=FIRE))
        except Exception as exc:  # surfaced below with the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=fire) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(result is None for result in results) == [False, True]
    assert len(webhook_server.requests) == 1
    assert JobExecution.objects.filter(job=job, scheduled_for=FIRE).count() == 1
