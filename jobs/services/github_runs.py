"""Following GitHub workflow runs to their conclusion.

A GitHub dispatch GitHub accepted leaves its execution ``running`` with follow
state (``JobExecution.start_following``): the branch dispatched on, when the
following began, when the run is looked up next. From then on the row belongs
to this module, not to run recovery (``runs.executions_needing_recovery``
leaves followed rows alone):

- ``poll(execution_id)``, called by the scheduler's follower for each row due
  (``due_runs``), first moves the row's next lookup forward with a conditional
  UPDATE (so one lookup per run per interval, whoever else is polling), then
  asks GitHub: a conditional ``GET`` of the run (``If-None-Match`` with the
  last ETag; a 304 changes nothing), or, for a dispatch answered 204 without a
  run, the list of the workflow's runs in the dispatch window.
- ``apply_run(snapshot)`` (the poll and the ``workflow_run`` webhook) records the
  run's status, conclusion, start, completion and attempt; a ``completed`` run
  closes the execution: ``success`` for the conclusion ``success``, else
  ``failed`` with "workflow run concluded: <conclusion>". Closing is one UPDATE
  conditional on ``status='running'``, so of a poll and a webhook delivery
  racing, exactly one closes the row and only that one notifies.
- A run not completed ``GITHUB_FOLLOW_LIMIT_SECONDS`` after the dispatch is
  recorded ``failed`` with that reason; a 204 dispatch whose run cannot be told
  apart from others (or is not listed) within ``GITHUB_FOLLOW_LOCATE_SECONDS``
  is recorded ``unknown`` with the reason, never guessed.

Intervals back off from ``GITHUB_FOLLOW_MIN_SECONDS`` by half again per lookup
up to ``GITHUB_FOLLOW_MAX_SECONDS``. All state is in the row, so a new leader
carries on where the last one stopped.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from integrations import github, github_budget
from jobs.models import ExecutionStatus, JobExecution
from notifications.services import Event, notify

log = logging.getLogger(__name__)

BACKOFF_FACTOR = 1.5
# A run's created_at (GitHub's clock, whole seconds) may read a little before our sent_at.
LOCATE_CLOCK_SKEW = dt.timedelta(seconds=2)
CONCLUDED_PREFIX = "workflow run concluded: "


def poll_interval(polls: int) -> float:
    """Seconds until the lookup after the ``polls``-th one (0: the first after the dispatch)."""
    low = float(settings.GITHUB_FOLLOW_MIN_SECONDS)
    high = max(low, float(settings.GITHUB_FOLLOW_MAX_SECONDS))
    return min(high, low * BACKOFF_FACTOR ** min(polls, 64))


def first_poll_at(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(seconds=poll_interval(0))


def follow_limit() -> dt.timedelta:
    return dt.timedelta(seconds=settings.GITHUB_FOLLOW_LIMIT_SECONDS)


def _followed():
    return JobExecution.objects.filter(status=ExecutionStatus.RUNNING, github_follow_next_at__isnull=False)


def due_runs(*, now: dt.datetime | None = None, limit: int = 200) -> list[str]:
    """Followed executions whose next lookup is due, the most overdue first."""
    now = now or timezone.now()
    rows = _followed().filter(github_follow_next_at__lte=now).order_by("github_follow_next_at")
    return list(rows.values_list("pk", flat=True)[:limit])


def next_due_at() -> dt.datetime | None:
    """When the next lookup of any followed run is due (None: nothing is followed)."""
    rows = _followed().order_by("github_follow_next_at")
    return rows.values_list("github_follow_next_at", flat=True).first()


def _split_target(target: str | None) -> tuple[str, str, str] | None:
    parts = (target or "").split("/", 2)
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 and all(parts) else None


# --- recording what GitHub says ---------------------------------------------------------------------
def _snapshot_fields(run: github.RunSnapshot) -> dict:
    return {
        "github_run_status": (run.status or "")[:32] or None,
        "github_run_conclusion": (run.conclusion or "")[:32] or None,
        "github_run_started_at": run.started_at,
        "github_run_completed_at": run.completed_at,
        "github_run_attempt": run.attempt,
        "github_follow_error": None,
    }


def _announce(execution: JobExecution) -> None:
    if execution.status == ExecutionStatus.SUCCESS:
        notify(event=Event.EXECUTION_SUCCEEDED, job=execution.job, execution=execution)
    elif execution.status == ExecutionStatus.FAILED:
        notify(event=Event.EXECUTION_FAILED, job=execution.job, execution=execution,
               error=execution.error_message)
    elif execution.status == ExecutionStatus.UNKNOWN:
        notify(event=Event.EXECUTION_UNKNOWN, job=execution.job, execution=execution,
               error=execution.error_message)


def _close(execution_id: str, *, status: str, error_message: str | None, extra: dict | None = None,
           completed_at: dt.datetime | None = None) -> JobExecution | None:
    """Close a followed execution once: the UPDATE is conditional on it still running.

    Returns the closed row (for the caller to announce) or None when someone else closed it first.
    """
    row = JobExecution.objects.filter(pk=execution_id).values("started_at").first()
    if row is None:
        return None
    now = timezone.now()
    completed_at = completed_at if completed_at is not None and completed_at >= row["started_at"] else now
    closed = _followed().filter(pk=execution_id).update(
        status=status, error_message=error_message, completed_at=completed_at,
        duration_seconds=max(0.0, (completed_at - row["started_at"]).total_seconds()),
        github_follow_next_at=None, **(extra or {}))
    if not closed:
        return None
    return JobExecution.objects.select_related("job").get(pk=execution_id)


def apply_run(execution_id: str, run: github.RunSnapshot, *, etag: str | None = None) -> str:
    """Record a snapshot of the execution's run; close and announce it when the run completed.

    Returns ``concluded`` (this call closed it), ``updated``, or ``not-followed`` (the
    row is closed already, is not followed, or follows another run).
    """
    fields = _snapshot_fields(run)
    if etag:
        fields["github_run_etag"] = etag[:200]
    mine = _followed().filter(pk=execution_id, github_run_id=run.id)
    if not run.completed:
        return "updated" if mine.update(**fields) else "not-followed"
    if not mine.exists():
        return "not-followed"
    if run.conclusion == "success":
        status, error = ExecutionStatus.SUCCESS, None
    else:
        status, error = ExecutionStatus.FAILED, CONCLUDED_PREFIX + (run.conclusion or "unknown")
    closed = _close(execution_id, status=status, error_message=error, extra=fields,
                    completed_at=run.completed_at)
    if closed is None:
        return "not-followed"
    log.info("github run %s of execution %s concluded %s: execution %s",
             run.id, execution_id, run.conclusion, status)
    _announce(closed)
    return "concluded"


def apply_webhook_run(run: github.RunSnapshot) -> int:
    """A ``workflow_run`` delivery: apply it to every running execution following that run.

    Returns how many executions it changed.
    """
    ids = list(_followed().filter(github_run_id=run.id).values_list("pk", flat=True))
    return sum(apply_run(pk, run) != "not-followed" for pk in ids)


def _give_up(execution: JobExecution, reason: str, *, status: str = ExecutionStatus.FAILED) -> str:
    closed = _close(execution.pk, status=status, error_message=reason)
    if closed is None:
        return "not-followed"
    log.warning("execution %s: %s", execution.pk, reason)
    _announce(closed)
    return "failed" if status == ExecutionStatus.FAILED else status


def _note_problem(execution: JobExecution, problem: str) -> None:
    _followed().filter(pk=execution.pk).update(github_follow_error=problem[:500])


# --- polling ------------------------------------------------------------------------------------------
def _take_poll(execution_id: str, now: dt.datetime) -> JobExecution | None:
    """Claim this interval's lookup of a run: move its next lookup forward, if nobody did meanwhile."""
    row = _followed().select_related("job").filter(pk=execution_id).first()
    if row is None or row.github_follow_next_at > now:
        return None
    next_at = now + dt.timedelta(seconds=poll_interval(row.github_follow_polls + 1))
    taken = _followed().filter(
        pk=row.pk, github_follow_next_at=row.github_follow_next_at,
        github_follow_polls=row.github_follow_polls,
    ).update(github_follow_next_at=next_at, github_follow_polls=F("github_follow_polls") + 1)
    if not taken:
        return None
    row.github_follow_next_at, row.github_follow_polls = next_at, row.github_follow_polls + 1
    return row


def _limit_reason(execution: JobExecution) -> str:
    hours = settings.GITHUB_FOLLOW_LIMIT_SECONDS / 3600
    limit = f"{hours:g} h" if hours >= 1 else f"{settings.GITHUB_FOLLOW_LIMIT_SECONDS} s"
    seen = execution.github_run_status or "never looked up successfully"
    reason = (f"workflow run not completed within {limit} of the dispatch (the follow limit); "
              f"last status: {seen}")
    if execution.github_follow_error:
        reason += f"; last lookup problem: {execution.github_follow_error}"
    return reason + "; no longer followed"


def poll(execution_id: str, *, now: dt.datetime | None = None) -> str:
    """One lookup of a followed run, if it is due and no one else took it. Returns what happened:
    ``not-due``, ``unchanged`` (304), ``updated``, ``concluded``, ``located``, ``searching``,
    ``problem`` (no usable answer; looked up again later), ``failed`` (follow limit) or ``unknown``
    (a 204 dispatch whose run could not be identified)."""
    now = now or timezone.now()
    execution = _take_poll(execution_id, now)
    if execution is None:
        return "not-due"
    past_limit = now >= execution.github_follow_started_at + follow_limit()
    where = _split_target(execution.target)
    token = settings.GITHUB_TOKEN
    if where is None or not token:
        problem = ("no GITHUB_TOKEN configured to look the run up" if where
                   else f"cannot read the repository from the target {execution.target!r}")
        _note_problem(execution, problem)
        execution.github_follow_error = problem
        return _give_up(execution, _limit_reason(execution)) if past_limit else "problem"
    owner, repo, workflow = where
    # Lookups draw on the token's budget like dispatches (the primary limit only: they
    # create nothing); beyond it the lookup waits for the budget, the follow limit still counts.
    grant = github_budget.acquire(token=token, kind=github_budget.READ)
    if not grant.granted:
        if past_limit:
            return _give_up(execution, _limit_reason(execution))
        _followed().filter(pk=execution.pk, github_follow_next_at__lt=grant.wait_until).update(
            github_follow_next_at=grant.wait_until)
        return "rate-limited"
    if execution.github_run_id is None:
        return _locate(execution, owner, repo, workflow, token, now=now, past_limit=past_limit)
    lookup = github.get_run(owner=owner, repo=repo, run_id=execution.github_run_id, token=token,
                            etag=execution.github_run_etag)
    github_budget.observe(token=token, status=lookup.status, headers=lookup.headers, body=lookup.body)
    outcome = "unchanged" if lookup.not_modified else "problem"
    if lookup.run is not None:
        outcome = apply_run(execution.pk, lookup.run, etag=lookup.etag)
        if outcome == "concluded" or outcome == "not-followed":
            return outcome
        execution.github_run_status = lookup.run.status
    elif lookup.problem:
        _note_problem(execution, lookup.problem)
        execution.github_follow_error = lookup.problem
    if past_limit:
        return _give_up(execution, _limit_reason(execution))
    return outcome


def _locate(execution: JobExecution, owner: str, repo: str, workflow: str, token: str, *,
            now: dt.datetime, past_limit: bool) -> str:
    """A dispatch answered 204 without its run: find the one run it started, or say it cannot be told."""
    sent = execution.sent_at or execution.started_at
    window_end = execution.github_follow_started_at + LOCATE_CLOCK_SKEW
    followed_elsewhere = set(
        JobExecution.objects.filter(target=execution.target, github_run_id__isnull=False,
                                    started_at__gte=sent - dt.timedelta(days=1))
        .exclude(pk=execution.pk).values_list("github_run_id", flat=True))
    search = github.find_dispatched_run(
        owner=owner, repo=repo, workflow=workflow, branch=execution.github_ref or "master",
        created_from=sent - LOCATE_CLOCK_SKEW, created_until=window_end, token=token,
        exclude=followed_elsewhere)
    github_budget.observe(token=token, status=search.status, headers=search.headers)
    if search.run is not None:
        run = search.run
        located = _followed().filter(pk=execution.pk, github_run_id__isnull=True).update(
            github_run_id=run.id, github_run_url=(run.html_url or "")[:500] or None, github_follow_error=None)
        if not located:
            return "not-followed"
        log.info("execution %s: dispatch answered without a run; found run %s in the workflow's list",
                 execution.pk, run.id)
        outcome = apply_run(execution.pk, run)
        return "concluded" if outcome == "concluded" else "located"
    if search.problem:
        _note_problem(execution, search.problem)
        execution.github_follow_error = search.problem
        if past_limit:
            return _give_up(execution, _limit_reason(execution))
        return "problem"
    window = dt.timedelta(seconds=settings.GITHUB_FOLLOW_LOCATE_SECONDS)
    if now < execution.github_follow_started_at + window and not past_limit:
        return "searching"
    branch = execution.github_ref or "master"
    if search.candidates == 0:
        what = f"no workflow_dispatch run of {workflow} on {branch} was listed"
    else:
        what = (f"{search.candidates} workflow_dispatch runs of {workflow} on {branch} were created in the "
                f"dispatch window and cannot be told apart")
    reason = (f"workflow run not identified: GitHub accepted the dispatch without naming its run, and {what} "
              f"within {settings.GITHUB_FOLLOW_LOCATE_SECONDS} s; its outcome is not followed")
    return _give_up(execution, reason, status=ExecutionStatus.UNKNOWN)
