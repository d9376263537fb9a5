"""Run now from the admin: the execution service runs in a background thread,
never inside the request, and the execution shows up in the admin."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.urls import reverse

from cronhub.testing.factories import JobFactory
from jobs.models import Job, JobExecution, scheduler_today

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for_run_now_threads(timeout: float = 15) -> None:
    for thread in threading.enumerate():
        if thread.name.startswith("run-now-"):
            thread.join(timeout)
            assert not thread.is_alive(), "run-now did not finish"


def test_run_now_action_dispatches_in_the_background_and_records_a_manual_execution(staff, webhook_server):
    job = JobFactory(name="ping", target_url=webhook_server.url_for("/hook"), metadata={"env": "stg"})

    response = staff.post(
        reverse("admin:jobs_job_changelist"), {"action": "run_now", "_selected_action": [job.pk]}, follow=True
    )

    assert "Started 1 run(s) in the background: ping" in response.content.decode()
    wait_for_run_now_threads()
    execution = JobExecution.objects.get(job=job)
    assert (execution.status, execution.trigger_type, execution.response_status) == ("success", "manual", 200)
    assert [request.path for request in webhook_server.requests] == ["/hook"]

    detail = staff.get(reverse("admin:jobs_job_change", args=[job.pk])).content.decode()
    assert reverse("admin:jobs_jobexecution_change", args=[execution.pk]) in detail
    assert "cronhub-status-success" in detail


def test_the_run_now_button_on_the_job_page_runs_that_job(staff, webhook_server):
    webhook_server.reply(status=500, body="boom")
    job = JobFactory(name="breaks", target_url=webhook_server.url_for("/hook"))

    response = staff.post(reverse("admin:jobs_job_run_now", args=[job.pk]))

    assert response.status_code == 302
    wait_for_run_now_threads()
    assert JobExecution.objects.get(job=job).status == "failed"


def test_run_now_only_answers_post(staff):
    job = JobFactory()

    assert staff.get(reverse("admin:jobs_job_run_now", args=[job.pk])).status_code == 405
    assert not JobExecution.objects.exists()


def test_an_expired_job_is_not_run_and_is_paused(staff, webhook_server):
    job = JobFactory(
        name="old",
        target_url=webhook_server.url_for("/hook"),
        end_date=scheduler_today() - dt.timedelta(days=1),
    )

    response = staff.post(
        reverse("admin:jobs_job_changelist"), {"action": "run_now", "_selected_action": [job.pk]}, follow=True
    )

    assert "Not run (past end date, now paused): old" in response.content.decode()
    wait_for_run_now_threads()
    assert not JobExecution.objects.exists()
    assert Job.objects.get(pk=job.pk).is_active is False
    assert webhook_server.requests == []
