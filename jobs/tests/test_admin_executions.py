"""Executions in the admin are history: listed, filtered, shown, never edited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cronhub.testing.factories import JobExecutionFactory, JobFactory
from jobs.models import JobExecution

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:jobs_jobexecution_changelist")


def test_the_list_shows_status_trigger_duration_lateness_target_and_github_link(staff):
    job = JobFactory(name="gh-nightly", github=True)
    scheduled = timezone.now() - dt.timedelta(minutes=5)
    JobExecutionFactory(
        job=job,
        status="success",
        trigger_type="scheduled",
        scheduled_for=scheduled,
        started_at=scheduled + dt.timedelta(seconds=2.5),
        duration_seconds=4.25,
        target="acme/api-tests/nightly.yml",
        github_run_id=987654,
        github_run_url="https://github.com/acme/api-tests/actions/runs/987654",
    )

    body = staff.get(CHANGELIST).content.decode()

    assert "gh-nightly" in body
    assert "cronhub-status-success" in body
    assert "4.25 s" in body
    assert "2.5 s" in body
    assert 'href="https://github.com/acme/api-tests/actions/runs/987654"' in body
    assert reverse("admin:jobs_job_change", args=[job.pk]) in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status__exact": "failed"}, {"old-failed"}),
        ({"trigger_type__exact": "scheduled"}, {"new-scheduled"}),
        ({"started": "24h"}, {"new-scheduled"}),
        ({"started": "30d"}, {"new-scheduled", "old-failed"}),
    ],
)
def test_filters_by_status_trigger_and_date(staff, query, expected):
    JobExecutionFactory(
        job=JobFactory(name="new-scheduled"),
        status="success",
        trigger_type="scheduled",
        scheduled_for=timezone.now(),
    )
    JobExecutionFactory(
        job=JobFactory(name="old-failed"),
        status="failed",
        trigger_type="manual",
        started_at=timezone.now() - dt.timedelta(days=3),
    )

    response = staff.get(CHANGELIST, query)

    assert {e.job.name for e in response.context["cl"].result_list} == expected


def test_the_detail_page_shows_output_and_error_without_inputs(staff):
    execution = JobExecutionFactory(
        status="failed", output="HTTP 500 body", error_message="Webhook answered 500"
    )

    response = staff.get(reverse("admin:jobs_jobexecution_change", args=[execution.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "HTTP 500 body" in body and "Webhook answered 500" in body
    assert 'name="status"' not in body
    assert 'type="submit" value="Save"' not in body


def test_executions_cannot_be_added_or_changed(staff):
    execution = JobExecutionFactory(status="failed")

    assert staff.get(reverse("admin:jobs_jobexecution_add")).status_code == 403
    response = staff.post(
        reverse("admin:jobs_jobexecution_change", args=[execution.pk]), {"status": "success"}
    )
    assert response.status_code == 403
    assert JobExecution.objects.get(pk=execution.pk).status == "failed"
