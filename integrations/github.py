"""GitHub Actions client: ``workflow_dispatch``, and looking up the run it started.

``POST {GITHUB_API_URL}/repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches``
with ``return_run_details: true``: GitHub answers 200 with the run id and URL
(or 204 where the flag is not supported yet). A workflow named without an
extension is retried as ``.yml`` then ``.yaml`` on 404.

Following a run (``get_run``): ``GET /repos/{owner}/{repo}/actions/runs/{id}``,
conditional on the ETag of the previous answer (``If-None-Match``; a 304 means
unchanged and costs no rate limit). Finding the run of a dispatch that answered
204 without one (``find_dispatched_run``): the workflow's ``workflow_dispatch``
runs on the branch created since the dispatch; only exactly one candidate counts.
``signature_valid`` checks a ``workflow_run`` webhook delivery's ``X-Hub-Signature-256``.
A pure client: it knows nothing of cronhub's records. Nothing here retries or
waits: the answer (its headers included) goes back to the caller, which keeps
to the token's budget (``integrations.github_budget``) and defers a run that
met a rate limit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from django.conf import settings

from integrations import http

SUCCESS_STATUSES = {200, 201, 204}
API_VERSION = "2022-11-28"
# A run is a few kilobytes of JSON, a page of runs can be several hundred: read enough of both.
LOOKUP_MAX_BODY_BYTES = 2 * 1024 * 1024
RUNS_PER_PAGE = 100

@dataclass
class DispatchResult:
    status: int | None  # HTTP status of the answer that counted; None when there was none
    body: str = ""  # response text (bounded)
    workflow: str = ""  # the workflow identifier that answered (after a .yml/.yaml fallback)
    error: str | None = None  # why there was no answer (network, timeout, refused)
    refused: bool = False  # no answer because the outbound-URL guard refused the address
    run_id: int | None = None
    run_url: str | None = None
    rate_limit_note: str | None = None  # "retry after 60 s" style hint on 429/403 rate limits
    headers: dict = field(default_factory=dict)  # of the answer that counted
    requests: int = 0  # requests made (fallbacks included)
    reached: bool = True  # False: no request can have reached GitHub (no connection was made)

    @property
    def ok(self) -> bool:
        return self.status in SUCCESS_STATUSES


def _headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
    }


def _repo_url(owner: str, repo: str) -> str:
    return f"{settings.GITHUB_API_URL.rstrip('/')}/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"


def _fallback_names(workflow: str) -> list[str]:
    if "." in workflow or workflow.isdigit():
        return [workflow]
    return [workflow, f"{workflow}.yml", f"{workflow}.yaml"]


def _rate_limit_note(response: http.HttpResponse) -> str | None:
    headers = {key.lower(): value for key, value in response.headers.items()}
    retry_after = headers.get("retry-after")
    exhausted = headers.get("x-ratelimit-remaining") == "0"
    limited = response.status == 429 or (
        response.status == 403 and (retry_after or exhausted or "rate limit" in response.text.lower())
    )
    if not limited:
        return None
    if retry_after:
        return f"rate limited by GitHub; retry after {retry_after} s"
    if exhausted and headers.get("x-ratelimit-reset"):
        return f"rate limited by GitHub; limit resets at epoch {headers['x-ratelimit-reset']}"
    return "rate limited by GitHub"


def _run_details(response: http.HttpResponse) -> tuple[int | None, str | None]:
    if response.status != 200:
        return None, None
    data = response.json()
    if not isinstance(data, dict):
        return None, None
    run_id = data.get("workflow_run_id")
    run_url = data.get("html_url") or data.get("run_url")
    return (run_id if isinstance(run_id, int) else None), (run_url if isinstance(run_url, str) else None)


def workflow_dispatch(*, owner: str, repo: str, workflow: str, ref: str, inputs: dict, token: str,
                      timeout: tuple[float, float] | None = None,
                      deadline: http.Deadline | float | None = None) -> DispatchResult:
    """Dispatch a workflow run; never raises for HTTP or network failures.

    One deadline (``http.call_deadline_seconds()`` when None) bounds every request
    this makes, the workflow-name fallbacks and the retry without run details included.
    """
    deadline = http.as_deadline(deadline)
    headers = _headers(token)
    payload = {"ref": ref, "inputs": inputs, "return_run_details": True}
    result = DispatchResult(status=None, workflow=workflow)
    made = 0
    for name in _fallback_names(workflow):
        url = f"{_repo_url(owner, repo)}/actions/workflows/{quote(name, safe='')}/dispatches"
        try:
            # A renamed repository answers 307 (same method): followed, each hop checked.
            made += 1
            response = http.request("POST", url, json=payload, headers=headers, timeout=timeout,
                                    deadline=deadline)
            if response.status == 422 and "return_run_details" in response.text:
                # A GitHub Enterprise Server that predates the flag: dispatch without it.
                payload = {"ref": ref, "inputs": inputs}
                made += 1
                response = http.request("POST", url, json=payload, headers=headers, timeout=timeout,
                                        deadline=deadline)
        except http.OutboundError as exc:
            return DispatchResult(status=None, workflow=name, error=str(exc), refused=exc.refused,
                                  requests=made, reached=exc.reached)
        run_id, run_url = _run_details(response)
        result = DispatchResult(
            status=response.status, body=response.text, workflow=name, run_id=run_id, run_url=run_url,
            rate_limit_note=_rate_limit_note(response), headers=dict(response.headers), requests=made,
        )
        if response.status != 404:
            break
    return result


# --- following a run ---------------------------------------------------------------------------------
def _timestamp(value) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class RunSnapshot:
    """What cronhub keeps of a workflow run (the REST resource or a ``workflow_run`` webhook's)."""

    id: int
    status: str | None  # queued, in_progress, completed, waiting, requested, pending
    conclusion: str | None  # success, failure, cancelled, timed_out, skipped, startup_failure, ...
    started_at: dt.datetime | None  # run_started_at (of the latest attempt)
    completed_at: dt.datetime | None  # updated_at once completed
    attempt: int | None
    html_url: str | None = None
    created_at: dt.datetime | None = None
    head_branch: str | None = None
    event: str | None = None

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    @classmethod
    def from_json(cls, data) -> RunSnapshot | None:
        """None when ``data`` is not a run (no integer id)."""
        if not isinstance(data, dict) or not isinstance(data.get("id"), int) or isinstance(data["id"], bool):
            return None
        status = _text(data.get("status"))
        attempt = data.get("run_attempt")
        return cls(
            id=data["id"], status=status, conclusion=_text(data.get("conclusion")),
            started_at=_timestamp(data.get("run_started_at")),
            completed_at=_timestamp(data.get("updated_at")) if status == "completed" else None,
            attempt=attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else None,
            html_url=_text(data.get("html_url")), created_at=_timestamp(data.get("created_at")),
            head_branch=_text(data.get("head_branch")), event=_text(data.get("event")),
        )


@dataclass
class RunLookup:
    """The answer to ``get_run``: 200 with the run, 304 (unchanged), another status, or none (``error``)."""

    status: int | None
    run: RunSnapshot | None = None
    etag: str | None = None
    error: str | None = None
    body: str = ""
    headers: dict = field(default_factory=dict)  # of the answer (its x-ratelimit-* for the budget)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def problem(self) -> str | None:
        """Why this answer told nothing about the run (None for a 200 with a run, or a 304)."""
        if self.error is not None:
            return self.error
        if self.not_modified or (self.status == 200 and self.run is not None):
            return None
        if self.status == 200:
            return "GitHub answered 200 without a workflow run"
        return f"GitHub answered {self.status}: {self.body[:200]}"


def get_run(*, owner: str, repo: str, run_id: int, token: str, etag: str | None = None,
            deadline: http.Deadline | float | None = None) -> RunLookup:
    """``GET .../actions/runs/{run_id}``, conditional when ``etag`` is known; never raises."""
    headers = _headers(token)
    if etag:
        headers["If-None-Match"] = etag
    url = f"{_repo_url(owner, repo)}/actions/runs/{int(run_id)}"
    try:
        response = http.request("GET", url, headers=headers, deadline=deadline,
                                max_body_bytes=LOOKUP_MAX_BODY_BYTES)
    except http.OutboundError as exc:
        return RunLookup(status=None, error=str(exc))
    answered_etag = {key.lower(): value for key, value in response.headers.items()}.get("etag")
    if response.status == 304:
        return RunLookup(status=304, etag=answered_etag or etag, headers=dict(response.headers))
    run = RunSnapshot.from_json(response.json()) if response.status == 200 else None
    return RunLookup(status=response.status, run=run, etag=answered_etag if run else None,
                     body=response.text, headers=dict(response.headers))


@dataclass
class RunSearch:
    """The answer to ``find_dispatched_run``: the one run identified, or how many could be it."""

    status: int | None
    run: RunSnapshot | None = None  # set only when exactly one run matched
    candidates: int = 0
    error: str | None = None
    headers: dict = field(default_factory=dict)  # of the answer (its x-ratelimit-* for the budget)

    @property
    def problem(self) -> str | None:
        if self.error is not None:
            return self.error
        if self.status != 200:
            return f"GitHub answered {self.status} to the list of workflow runs"
        return None


def find_dispatched_run(*, owner: str, repo: str, workflow: str, branch: str, created_from: dt.datetime,
                        token: str, created_until: dt.datetime | None = None,
                        exclude: set[int] | frozenset[int] = frozenset(),
                        deadline: http.Deadline | float | None = None) -> RunSearch:
    """The run a dispatch answered by 204 started, by listing the workflow's runs.

    ``GET .../actions/workflows/{workflow}/runs?event=workflow_dispatch&branch=...&created=>=...``:
    runs dispatched on ``branch`` created at or after ``created_from`` (the moment the
    dispatch was sent, to the second) and, with ``created_until``, not after it (when
    GitHub's answer came), minus ``exclude`` (runs other records already follow).
    ``run`` is set only when exactly one candidate is left; otherwise
    ``candidates`` says how many there were (0: not listed yet, or never; 2+: ambiguous).
    """
    since = created_from.astimezone(dt.UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"
    query = urlencode({"event": "workflow_dispatch", "branch": branch, "created": f">={since}",
                       "per_page": RUNS_PER_PAGE})
    url = f"{_repo_url(owner, repo)}/actions/workflows/{quote(workflow, safe='')}/runs?{query}"
    try:
        response = http.request("GET", url, headers=_headers(token), deadline=deadline,
                                max_body_bytes=LOOKUP_MAX_BODY_BYTES)
    except http.OutboundError as exc:
        return RunSearch(status=None, error=str(exc))
    data = response.json() if response.status == 200 else None
    if not isinstance(data, dict) or not isinstance(data.get("workflow_runs"), list):
        return RunSearch(status=response.status if response.status != 200 else None,
                         error=None if response.status != 200 else "unreadable list of workflow runs",
                         headers=dict(response.headers))
    floor = created_from.replace(microsecond=0)
    runs = [RunSnapshot.from_json(item) for item in data["workflow_runs"]]
    matching = [
        run for run in runs
        if run is not None and run.id not in exclude and run.event in (None, "workflow_dispatch")
        and run.head_branch in (None, branch) and (run.created_at is None or run.created_at >= floor)
        and (created_until is None or run.created_at is None or run.created_at <= created_until)
    ]
    unseen = max(0, int(data.get("total_count") or 0) - len(runs)) if isinstance(
        data.get("total_count"), int) else 0
    count = len(matching) + unseen
    return RunSearch(status=200, run=matching[0] if count == 1 else None, candidates=count,
                     headers=dict(response.headers))


# --- workflow_run webhook deliveries ----------------------------------------------------------------
SIGNATURE_HEADER = "X-Hub-Signature-256"


def webhook_signature(body: bytes, secret: str) -> str:
    """``sha256=<hex HMAC-SHA256 of the raw body>``, as GitHub signs a delivery."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, header: str | None, secret: str) -> bool:
    """True when ``header`` is the delivery's signature with ``secret`` (compared in constant time)."""
    if not secret or not header:
        return False
    return hmac.compare_digest(webhook_signature(body, secret).encode(), header.strip().encode())
