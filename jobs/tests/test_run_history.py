"""A job's run history: the last 90 runs as chart data and SVG on the job page; success rate and
mean duration per job in the list."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from cronhub.testing.factories import JobExecutionFactory, JobFactory
from jobs import run_history
from jobs.models import Job

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)


def make_runs(job, statuses, *, start=START):
    runs = []
    for index, status in enumerate(statuses):
        fire = start + dt.timedelta(hours=index)
        runs.append(JobExecutionFactory(
            job=job, status=status, trigger_type="scheduled", scheduled_for=fire,
            started_at=fire + dt.timedelta(seconds=index), duration_seconds=float(index + 1),
            response_status=500 if status == "failed" else 200,
            error_message="HTTP 500 from target\nmore" if status == "failed" else None))
    return runs


def test_the_last_90_runs_oldest_first_with_duration_lateness_and_conclusion():
    job = JobFactory()
    make_runs(job, ["success"] * 95)
    make_runs(JobFactory(), ["failed"])  # another job's run is not in this history

    points = run_history.run_history(job)

    assert len(points) == 90
    assert [p.started_at for p in points] == sorted(p.started_at for p in points)
    assert points[-1].duration == 95.0 and points[-1].lateness == 94.0
    assert points[0].duration == 6.0  # the five oldest are beyond the 90


def test_the_conclusion_reads_the_outcome_the_run_recorded():
    job = JobFactory()
    failed, ok = make_runs(job, ["failed", "success"])
    manual = JobExecutionFactory(job=job, status="unknown", response_status=None,
                                 error_message="scheduler stopped")
    assert run_history.conclusion(failed) == "Failed · HTTP 500 · HTTP 500 from target"
    assert run_history.conclusion(ok) == "Success · HTTP 200"
    assert run_history.conclusion(manual) == "Unknown · scheduler stopped"
    assert run_history.run_history(job)[-1].lateness is None  # manual runs have no fire time


def test_summary_counts_outcomes_only():
    job = JobFactory()
    make_runs(job, ["success", "success", "failed", "skipped", "running", "missed"])
    summary = run_history.history_summary(run_history.run_history(job))
    assert summary["runs"] == 6 and summary["finished"] == 4
    assert summary["success_rate"] == 0.5
    assert summary["mean_duration"] == (1 + 2 + 3 + 6) / 4


def test_the_chart_has_one_bar_per_run_in_its_status_colour_and_a_dot_per_late_run():
    job = JobFactory()
    make_runs(job, ["success", "failed", "missed"])
    svg = run_history.history_svg(run_history.run_history(job))
    bars = re.findall(r'<g class="run run-(\w+)"[^>]*><title>[^<]*</title><rect [^>]*fill="(#\w+)"', svg)
    assert bars == [("success", "#2e7d32"), ("failed", "#c62828"), ("missed", "#ef6c00")]
    assert svg.count('class="late"') == 3
    assert "2026-11-30 10:00:00 JST" in svg  # tooltips in the viewer's zone


def test_the_job_page_shows_the_chart_and_the_list_its_rates(staff):
    job = JobFactory(name="charted")
    recent = timezone.now() - dt.timedelta(days=1)
    make_runs(job, ["success", "success", "success", "failed"], start=recent)
    make_runs(job, ["failed"] * 5, start=timezone.now() - dt.timedelta(days=40))  # outside 30 days
    JobFactory(name="never-ran")

    page = staff.get(reverse("admin:jobs_job_change", args=[job.pk])).content.decode()
    assert 'id="run-history"' in page and "cronhub-history-chart" in page
    assert page.count('<g class="run run-') == 9

    listing = staff.get(reverse("admin:jobs_job_changelist")).content.decode()
    assert "75% (3/4)" in listing
    annotated = Job.objects.annotate(**run_history.stats_annotations(now=timezone.now()))
    row = annotated.get(pk=job.pk)
    assert (row.stats_finished, row.stats_succeeded) == (4, 3)
    assert row.stats_mean_duration == pytest.approx(2.5)
    assert annotated.get(name="never-ran").stats_finished == 0


def test_a_job_without_runs_says_so(staff):
    job = JobFactory()
    page = staff.get(reverse("admin:jobs_job_change", args=[job.pk])).content.decode()
    assert "This job has not run yet." in page
