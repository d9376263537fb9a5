"""GitHub's rate limits absorbed: the per-token budget, deferred dispatches, rate-limit answers
(against the local fake GitHub; docs/execution.md, "GitHub's rate limits")."""

import datetime as dt
import time

import pytest
from django.utils import timezone

from cronhub.testing.factories import JobFactory
from integrations import github_budget
from integrations.models import GitHubRateBudget
from jobs.models import JobExecution
from jobs.scheduler import metrics
from jobs.services.runs import job_execute as run_job
from jobs.tests.delivery_support import LEADER, finished, in_pool, leader, pooled, send_waiting_until
from notifications.models import Notification

TOKEN = "ghs_budget_test"


@pytest.fixture(autouse=True)
def dispatches_end_the_run(settings):
    """These tests are about the budget: an accepted dispatch ends the run (no following)."""
    settings.GITHUB_FOLLOW_RUNS = False



def histogram_count(histogram) -> float:
    return next(s.value for m in histogram.collect() for s in m.samples if s.name.endswith("_count"))


# --- the budget itself --------------------------------------------------------------------------------
@pytest.mark.dbcompat
@pytest.mark.django_db
def test_the_secondary_budget_grants_up_to_the_limit_per_sliding_window_then_says_when(settings):
    settings.GITHUB_SECONDARY_PER_MINUTE = 3
    settings.GITHUB_RATE_LIMITS = {"ghe.example": (1, 10)}
    start = timezone.now()

    grants = [github_budget.acquire(token=TOKEN, host="api.github.com", now=start + dt.timedelta(seconds=i))
              for i in range(4)]

    assert [g.granted for g in grants] == [True, True, True, False]
    # Free again when the oldest grant leaves the window (60 s plus a margin of 1 s).
    assert grants[3].wait_until == start + dt.timedelta(seconds=61)
    assert "secondary rate limit (3 per-minute)" in grants[3].reason
    later = github_budget.acquire(token=TOKEN, host="api.github.com", now=start + dt.timedelta(seconds=61.5))
    assert later.granted
    # Reads (run lookups) count only against the primary limit; other tokens and hosts have their own.
    assert github_budget.acquire(token=TOKEN, kind="read", host="api.github.com", now=start).granted
    assert github_budget.acquire(token="another", host="api.github.com", now=start).granted
    assert github_budget.acquire(token=TOKEN, host="ghe.example", now=start).granted
    assert not github_budget.acquire(token=TOKEN, host="ghe.example", now=start).granted  # 1 a minute there
    assert GitHubRateBudget.objects.count() == 3
    assert not GitHubRateBudget.objects.filter(token_hash=TOKEN).exists()  # only the hash is stored


@pytest.mark.dbcompat
@pytest.mark.django_db
def test_a_rate_limit_answer_blocks_the_token_until_it_says(settings):
    now = timezone.now()
    until = github_budget.observe(token=TOKEN, status=429, headers={"Retry-After": "30"}, host="h", now=now)
    assert until == now + dt.timedelta(seconds=30)
    refused = github_budget.acquire(token=TOKEN, kind="read", host="h", now=now + dt.timedelta(seconds=29))
    assert (refused.granted, refused.wait_until) == (False, until)

    reset = int(now.timestamp()) + 120
    until = github_budget.observe(token="t2", status=403, host="h", now=now, headers={
        "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)})
    assert until == dt.datetime.fromtimestamp(reset, dt.UTC)
    assert github_budget.observe(token="t3", status=403, headers={}, body="Resource not accessible",
                                 host="h", now=now) is None  # a permission 403 is no rate limit


@pytest.mark.dbcompat
@pytest.mark.django_db(transaction=True)
def test_concurrent_takers_never_get_more_than_the_budget(settings):
    """Ten threads (each with its own connection, as the scheduler's pool and web workers) race
    for 30 places: exactly 30 are granted, whatever the interleaving."""
    settings.GITHUB_SECONDARY_PER_MINUTE = 30
    results = in_pool([lambda: [github_budget.acquire(token=TOKEN, host="race").granted for _ in range(6)]
                       for _ in range(10)])

    assert sum(sum(granted) for granted in results) == 30
    [row] = GitHubRateBudget.objects.filter(host="race")
    assert len(row.write_times) == 30


# --- dispatches through the budget ---------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("window", [15.0, pytest.param(60.0, marks=pytest.mark.slow)])
def test_100_jobs_due_at_once_on_one_token_all_go_out_within_the_secondary_limit(
        fake_github, settings, window):
    """The 10:00 burst: 100 GitHub jobs, one token, a secondary limit of 80 per window.

    With ``window=60`` this is GitHub's real minute (about 65 s, marked slow); the fast
    variant shortens the window and nothing else (to 15 s: firing 100 runs must fit in it, which
    takes several seconds on MariaDB)."""
    settings.GITHUB_RATE_WINDOWS = (window, 3600.0)
    settings.GITHUB_SECONDARY_PER_MINUTE = 80
    fake_github.secondary_limit(80, window=window)
    jobs = [JobFactory(github=True, name=f"launcher {i:03}") for i in range(100)]
    waits_before = histogram_count(metrics.RATE_LIMIT_WAIT)
    dispatcher = leader()
    fire_time = timezone.now()

    for job in jobs:  # as the pool would, minus a database connection per run (slow on PostgreSQL)
        run_job(job=job, trigger="scheduled", scheduled_for=fire_time, claimer=LEADER)
    assert time.time() - fake_github.accepted_dispatch_times[0] < window, "firing outlasted the window"

    runs = list(JobExecution.objects.filter(scheduled_for=fire_time))
    assert len(runs) == 100 and len(fake_github.dispatches) == 80
    waiting = [r for r in runs if r.status == "running"]
    assert len(waiting) == 20 and {r.wait_reason for r in waiting} == {"rate_limit"}
    assert all(r.sent_at is None and r.attempts == 0 for r in waiting)  # held back, never sent

    done = send_waiting_until(finished(*runs), dispatcher=dispatcher, timeout=window * 2 + 30)

    assert {r.status for r in done} == {"success"} and len(done) == 100
    assert fake_github.beyond_budget == 0 and len(fake_github.dispatches) == 100
    arrivals = fake_github.accepted_dispatch_times
    reopened = arrivals[0] + window
    last_20 = arrivals[80:]
    assert all(t >= reopened for t in last_20)
    # "Within about a minute of the budget reopening" at GitHub's scale: within one window of it,
    # not a window later still (each went out as soon as the budget had a place for it).
    assert max(last_20) - reopened <= window
    delayed = [r for r in done if r.rate_limit_wait_seconds is not None]
    assert len(delayed) == 20 and all(0 < r.rate_limit_wait_seconds <= window + 3 for r in delayed)
    assert histogram_count(metrics.RATE_LIMIT_WAIT) - waits_before == 20
    assert not Notification.objects.filter(title="Job Failed").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("retry_after", [2, pytest.param(30, marks=pytest.mark.slow)])
def test_a_429_with_retry_after_defers_the_dispatch_and_it_then_succeeds(fake_github, owner, retry_after):
    fake_github.rate_limit_next(1, status=429, retry_after=retry_after)
    job = JobFactory(github=True, created_by=owner)
    other = JobFactory(github=True, name="same token, meanwhile")
    dispatcher = leader()

    pooled(dispatcher.dispatch, job.pk, fire_times=[timezone.now()])
    [run] = JobExecution.objects.filter(job=job)
    assert (run.status, run.wait_reason, run.attempts) == ("running", "rate_limit", 1)
    assert run.attempt_log[0]["outcome"] == "rate_limited" and run.attempt_log[0]["status"] == 429
    # Another job on the same token waits as well, without a request GitHub would refuse.
    pooled(dispatcher.dispatch, other.pk, fire_times=[timezone.now()])
    assert JobExecution.objects.get(job=other).wait_reason == "rate_limit"
    assert len(fake_github.dispatches) == 1
    assert Notification.objects.count() == 0

    [done, done_other] = send_waiting_until(finished(run, JobExecution.objects.get(job=other)),
                                            dispatcher=dispatcher, timeout=retry_after + 30)

    assert (done.status, done.attempts, done.response_status) == ("success", 2, 204)
    assert done_other.status == "success" and done_other.attempts == 1
    first, second = fake_github.dispatches[:2]
    refused_at, resent_at = fake_github.dispatch_times[:2]
    assert resent_at - refused_at >= retry_after - 0.05
    assert retry_after - 0.5 <= done.rate_limit_wait_seconds <= retry_after + 5
    assert [n.title for n in Notification.objects.filter(related_execution=done, user=owner)] == [
        "Job Completed"]
    assert second.json()["ref"] == first.json()["ref"]


@pytest.mark.django_db(transaction=True)
def test_the_primary_limit_is_kept_from_the_headers_and_waits_for_the_reset(fake_github):
    fake_github.primary_limit(2, reset_in=3)
    jobs = [JobFactory(github=True) for _ in range(3)]
    dispatcher = leader()

    for job in jobs:
        pooled(dispatcher.dispatch, job.pk, fire_times=[timezone.now()])

    assert len(fake_github.dispatches) == 2  # the third never asked: the budget knew
    [waiting] = JobExecution.objects.filter(status="running")
    assert waiting.wait_reason == "rate_limit" and waiting.attempt_log[0]["outcome"] == "budget"
    started = time.monotonic()
    done = send_waiting_until(finished(*JobExecution.objects.all()), dispatcher=dispatcher, timeout=20)
    assert {r.status for r in done} == {"success"} and fake_github.beyond_budget == 0
    assert time.monotonic() - started >= 1.5
