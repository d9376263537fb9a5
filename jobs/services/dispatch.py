"""What one run sends: a job's configuration (with a manual run's overrides)
dispatched once to GitHub ``workflow_dispatch`` or a webhook, and the outcome.

Scheduled, manual and test runs all send through here, so they succeed and fail
alike; ``jobs.services.runs`` records and announces the outcome. Where the
historical paths disagreed, the choices are in docs/execution.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
import random
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from cronhub.errors import InvalidInput
from integrations import burst, github, github_budget, webhook
from integrations import http as outbound
from jobs import rules
from jobs.models import OUTPUT_MAX_CHARS, ExecutionStatus, ExecutionType, Job, JobExecution, TriggerType

TEST_RUN_TIMEOUT_RANGE = (1.0, 30.0)
# Time after the end of a call's own bound to record its outcome (a database
# write, retried): a run still ``running`` later than that is not in flight any more.
RECORD_MARGIN_SECONDS = 60.0


def call_budget_seconds() -> float:
    """How long an outbound call may take at most when nothing more specific is known: the
    outbound client's total deadline (``OUTBOUND_TOTAL_TIMEOUT``)."""
    return outbound.call_deadline_seconds()


def call_timeout(job: Job, *, in_request: bool = False) -> float:
    """The total deadline of one call of ``job``'s runs: the job's ``timeout_seconds``.

    A call made inside a web request (the first call of a manual run) is also bounded by
    ``OUTBOUND_TOTAL_TIMEOUT``, which the web server's worker timeout is sized for; its
    retries, sent by the scheduler, get the job's whole timeout (docs/execution.md).
    """
    seconds = float(getattr(job, "timeout_seconds", None) or call_budget_seconds())
    return min(seconds, call_budget_seconds()) if in_request else seconds


def run_deadline(started_at: dt.datetime, seconds: float | None = None) -> dt.datetime:
    """When a call started at ``started_at`` (bounded by ``seconds``, default
    ``call_budget_seconds()``) must have ended, its outcome recorded included."""
    bound = call_budget_seconds() if seconds is None else seconds
    return started_at + dt.timedelta(seconds=bound + RECORD_MARGIN_SECONDS)


def idempotency_headers(*, execution_id, job_id, scheduled_for: dt.datetime | None) -> dict[str, str]:
    """The headers every webhook call of a run carries, identical when the call is re-sent.

    A receiver that sees the same ``Idempotency-Key`` twice got the same run twice
    (docs/execution.md, "For webhook receivers").
    """
    headers = {
        "Idempotency-Key": str(execution_id),
        "X-Cronhub-Execution-Id": str(execution_id),
        "X-Cronhub-Job-Id": str(job_id),
    }
    if scheduled_for is not None:
        moment = scheduled_for.astimezone(dt.UTC)
        spec = "seconds" if moment.microsecond == 0 else "microseconds"
        headers["X-Cronhub-Scheduled-For"] = moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"
    return headers


def _clean(value) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


@dataclass
class RunConfig:
    """The effective dispatch configuration of one run (job + manual overrides)."""

    job_name: str
    metadata: dict = field(default_factory=dict)
    target_url: str | None = None
    github_owner: str | None = None
    github_repo: str | None = None
    github_workflow_name: str | None = None
    github_token: str | None = None
    # All three GitHub fields were filled in, but some only with blanks.
    github_blank: bool = False
    # The job's webhook options (docs/execution.md, "Webhook options").
    webhook_method: str = ""
    webhook_headers: dict = field(default_factory=dict)
    webhook_signing_secret: str = ""

    @property
    def execution_type(self) -> str | None:
        """GitHub wins when all three fields are set, even next to a target URL."""
        if self.github_owner and self.github_repo and self.github_workflow_name:
            return ExecutionType.GITHUB_ACTIONS
        return ExecutionType.WEBHOOK if self.target_url else None

    @property
    def target(self) -> str | None:
        if self.execution_type == ExecutionType.GITHUB_ACTIONS:
            return f"{self.github_owner}/{self.github_repo}/{self.github_workflow_name}"
        return self.target_url

    @property
    def ref(self) -> str:
        return dispatch_ref(self.metadata)


def run_config(*, job: Job, overrides: dict | None = None) -> RunConfig:
    """The job's configuration with a manual run's overrides applied.

    Raises InvalidInput for an unparsable ``dispatch_url``; ``execution_type`` is
    None when the result has no usable target.
    """
    overrides = overrides or {}
    config = RunConfig(
        job_name=job.name,
        metadata=dict(job.metadata_dict),
        target_url=_clean(job.target_url),
        github_owner=_clean(job.github_owner),
        github_repo=_clean(job.github_repo),
        github_workflow_name=_clean(job.github_workflow_name),
        webhook_method=job.webhook_method or "",
        webhook_headers=dict(job.webhook_headers or {}),
        webhook_signing_secret=job.webhook_signing_secret or "",
    )
    if isinstance(overrides.get("metadata"), dict):
        config.metadata = dict(overrides["metadata"])
    if job.target_url:
        if _clean(overrides.get("target_url")):
            config.target_url = _clean(overrides["target_url"])
    elif _clean(overrides.get("dispatch_url")):
        parts = rules.dispatch_url(str(overrides["dispatch_url"]), error="Invalid payload")
        config.github_owner, config.github_repo, config.github_workflow_name = (_clean(p) for p in parts)
    # Each GitHub key present wins over dispatch_url; an empty value means "the job's".
    for key in ("github_owner", "github_repo", "github_workflow_name"):
        if key in overrides:
            setattr(config, key, _clean(overrides[key]) or _clean(getattr(job, key)))
    config.github_token = _clean(overrides.get("github_token"))
    config.github_blank = bool(
        job.github_owner and job.github_repo and job.github_workflow_name
        and not (config.github_owner and config.github_repo and config.github_workflow_name)
    )
    return config


def dispatch_ref(metadata: dict) -> str:
    """The branch a dispatch runs on: ``branchDetails``, then ``ref``, then ``branch``, else master."""
    for key in ("branchDetails", "ref", "branch"):
        value = metadata.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return "master"


OVERRIDE_TEXTS = ("target_url", "dispatch_url", "github_token", *rules.GITHUB_FIELDS)


def run_overrides(*, job: Job, body: dict) -> dict:
    """A manual run's overrides (never saved), checked: they must leave the run a target."""
    if body.get("metadata") is not None and not isinstance(body["metadata"], dict):
        raise InvalidInput("Invalid payload", '"metadata" must be a JSON object.', field="metadata")
    for key in OVERRIDE_TEXTS:
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            raise InvalidInput("Invalid payload", f'"{key}" must be a string.', field=key)
    if body.get("github_token"):
        rules.github_token(body["github_token"])
    overrides = {key: body[key] for key in ("metadata", *OVERRIDE_TEXTS) if key in body}
    if run_config(job=job, overrides=overrides).execution_type is None:
        raise InvalidInput("Missing target configuration",
                           "Job has no valid target configuration to execute.")
    return overrides


@dataclass
class Outcome:
    status: str
    response_status: int | None = None
    output: str | None = None
    error_message: str | None = None
    notify_error: str | None = None  # the text after 'failed: ' in "Job Failed" (defaults to error_message)
    target: str | None = None
    github_run_id: int | None = None
    github_run_url: str | None = None
    # Set when the dispatch was accepted and its workflow run is to be followed (the
    # execution stays ``running``): the branch dispatched on.
    follow_ref: str | None = None
    # Why there was no HTTP answer: "refused" (the outbound-URL guard), "unreached" (no
    # connection was made: nothing can have arrived), "network" (the connection broke or
    # timed out after the request may have arrived); None when there was an answer.
    failure: str | None = None
    execution_type: str | None = None
    # A rate-limit answer from GitHub: the moment it allows the next request.
    rate_limited_until: dt.datetime | None = None


# --- retries --------------------------------------------------------------------------------------
RETRYABLE_STATUSES = frozenset({408, 429})


def retryable(outcome: Outcome) -> bool:
    """Whether a failed call is worth another attempt (docs/execution.md, "Retries").

    Retried: no connection made, a timeout or a broken connection, 5xx, 408 and 429.
    Never: any other 4xx, a refusal by the outbound-URL guard, a configuration
    problem. A GitHub dispatch whose connection broke after it may have reached
    GitHub is not retried either: GitHub has no idempotency key, so a second
    dispatch could start the workflow twice.
    """
    if outcome.status != ExecutionStatus.FAILED:
        return False
    if outcome.response_status is not None:
        return outcome.response_status >= 500 or outcome.response_status in RETRYABLE_STATUSES
    if outcome.failure == "unreached":
        return True
    if outcome.failure == "network":
        return outcome.execution_type == ExecutionType.WEBHOOK
    return False


def backoff_seconds(base: float, attempt: int, *, rng: random.Random | None = None) -> float:
    """The wait after call number ``attempt`` failed: ``base`` doubled per earlier retry, at most
    ``RETRY_BACKOFF_MAX_SECONDS``, the upper half of it drawn at random (jitter)."""
    ceiling = float(settings.RETRY_BACKOFF_MAX_SECONDS)
    delay = min(ceiling, float(base) * (2 ** max(0, attempt - 1)))
    return delay / 2 + (rng or random).uniform(0, delay / 2)


# --- webhook requests ------------------------------------------------------------------------------
SIGNATURE_HEADER = "X-Cronhub-Signature-256"
TIMESTAMP_HEADER = "X-Cronhub-Timestamp"
ATTEMPT_HEADER = "X-Cronhub-Attempt"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 over ``"<timestamp>.<body>"`` with the job's signing secret."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def webhook_method(method: str, metadata: dict) -> str:
    """The job's method, or by default POST when there is metadata to send and GET without."""
    return method or ("POST" if metadata else "GET")


@dataclass(frozen=True)
class WebhookRequest:
    """One webhook call, complete: what any sender (this thread, an async pipeline) puts on the wire."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    timeout: float  # the call's total deadline, in seconds
    block_private: bool = False

    @property
    def header_dict(self) -> dict[str, str]:
        return dict(self.headers)


def webhook_request(job: Job, execution: JobExecution, attempt: int, *, config: RunConfig | None = None,
                    timeout: float | None = None, now: dt.datetime | None = None) -> WebhookRequest:
    """The request of call number ``attempt`` of ``execution`` (pure: nothing is read or written).

    POST/PUT/PATCH carry the metadata as JSON (``{}`` when there is none), GET and
    DELETE no body. Headers: the job's extra headers, then the run's idempotency
    headers (the same on every attempt), ``X-Cronhub-Attempt`` and, with a signing
    secret, ``X-Cronhub-Timestamp`` and ``X-Cronhub-Signature-256``.
    """
    if config is None:
        config = run_config(job=job, overrides=execution.run_overrides or None)
    method = webhook_method(config.webhook_method, config.metadata)
    body = b""
    if method in BODY_METHODS:
        body = json.dumps(config.metadata or {}, allow_nan=False).encode("utf-8")
    headers = {str(k): str(v) for k, v in (config.webhook_headers or {}).items()}
    if body and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json"
    headers.update(idempotency_headers(execution_id=execution.pk, job_id=job.pk,
                                       scheduled_for=execution.scheduled_for))
    headers[ATTEMPT_HEADER] = str(attempt)
    if config.webhook_signing_secret:
        stamp = str(int((now or timezone.now()).timestamp()))
        headers[TIMESTAMP_HEADER] = stamp
        headers[SIGNATURE_HEADER] = signature(config.webhook_signing_secret, stamp, body)
    return WebhookRequest(method=method, url=config.target_url or "", headers=tuple(headers.items()),
                          body=body, timeout=call_timeout(job) if timeout is None else float(timeout),
                          block_private=settings.WEBHOOK_BLOCK_PRIVATE)


def webhook_outcome(*, status: int | None = None, text: str = "", error: outbound.OutboundError | None = None,
                    trigger: str = TriggerType.SCHEDULED) -> Outcome:
    """The outcome of a webhook call from its answer (``status``, ``text``) or its ``error``."""
    if error is not None:
        outcome = _network_failure(trigger, "Webhook call failed: ", str(error))
        outcome.failure = "refused" if error.refused else ("network" if error.reached else "unreached")
    elif 200 <= (status or 0) < 300:
        outcome = Outcome(ExecutionStatus.SUCCESS, response_status=status, output=_clip(text))
    else:
        outcome = Outcome(ExecutionStatus.FAILED, response_status=status, output=_clip(text),
                          error_message=f"Webhook returned status {status}")
    outcome.execution_type = ExecutionType.WEBHOOK
    return outcome


def send_webhook(request: WebhookRequest, *, trigger: str = TriggerType.SCHEDULED) -> Outcome:
    """Send ``request`` in this thread (``integrations.http``) and read its outcome."""
    timeout = (min(float(settings.OUTBOUND_CONNECT_TIMEOUT), request.timeout),
               min(float(settings.OUTBOUND_READ_TIMEOUT), request.timeout))
    try:
        response = outbound.request(request.method, request.url, data=request.body or None,
                                    headers=request.header_dict, timeout=timeout, deadline=request.timeout,
                                    block_private=request.block_private)
    except outbound.OutboundError as exc:
        return webhook_outcome(error=exc, trigger=trigger)
    return webhook_outcome(status=response.status, text=response.text, trigger=trigger)


def _clip(text: str | None) -> str | None:
    return text[:OUTPUT_MAX_CHARS] if text is not None else None


def _network_failure(trigger: str, prefix: str, text: str) -> Outcome:
    # Clients match these texts per trigger, so they stay as they were: manual runs say
    # "Request failed: ..." and their notification drops that prefix.
    if trigger == TriggerType.MANUAL:
        return Outcome(ExecutionStatus.FAILED, error_message=f"Request failed: {text}", notify_error=text)
    return Outcome(ExecutionStatus.FAILED, error_message=f"{prefix}{text}")


# --- GitHub ------------------------------------------------------------------------------------------
def github_token_for(config: RunConfig) -> str:
    return config.github_token or settings.GITHUB_TOKEN


def github_grant(config: RunConfig) -> github_budget.Grant | None:
    """Take one dispatch from the token's budget (None when there is no token: the dispatch fails)."""
    token = github_token_for(config)
    if config.execution_type != ExecutionType.GITHUB_ACTIONS or not token:
        return None
    return github_budget.acquire(token=token, kind=github_budget.WRITE)


def _dispatch_github(config: RunConfig, *, trigger: str, timeout: float | None = None) -> Outcome:
    token = github_token_for(config)
    if not token:
        return Outcome(ExecutionStatus.FAILED, target=config.target, error_message=(
            f"GitHub token not configured. Cannot trigger workflow for job '{config.job_name}'"))
    ref = config.ref
    seconds = call_budget_seconds() if timeout is None else timeout
    result = github.workflow_dispatch(
        owner=config.github_owner, repo=config.github_repo, workflow=config.github_workflow_name,
        ref=ref, inputs=config.metadata, token=token,
        timeout=(min(float(settings.OUTBOUND_CONNECT_TIMEOUT), seconds),
                 min(float(settings.OUTBOUND_READ_TIMEOUT), seconds)),
        deadline=seconds,
    )
    target = f"{config.github_owner}/{config.github_repo}/{result.workflow}"
    if result.requests > 1:  # workflow-name fallbacks went out on the one grant
        for _ in range(result.requests - 1):
            github_budget.charge(token=token)
    if result.status is None:
        failure = _network_failure(trigger, "GitHub Actions request failed: ", result.error or "")
        failure.target = target
        failure.failure = "refused" if result.refused else ("network" if result.reached else "unreached")
        return failure
    limited_until = github_budget.observe(token=token, status=result.status, headers=result.headers,
                                          body=result.body)
    if result.ok:
        # Followed with the configured token (a manual run's one-off token is never stored);
        # without one, or with following switched off, an accepted dispatch is the success.
        follow = settings.GITHUB_FOLLOW_RUNS and bool(settings.GITHUB_TOKEN)
        return Outcome(ExecutionStatus.RUNNING if follow else ExecutionStatus.SUCCESS,
                       response_status=result.status, target=target,
                       output=f"Workflow triggered successfully on branch {ref}",
                       github_run_id=result.run_id, github_run_url=result.run_url,
                       follow_ref=ref if follow else None)
    message = f"GitHub Actions dispatch failed. Status: {result.status}, Response: {_clip(result.body)}"
    if result.rate_limit_note:
        message += f" ({result.rate_limit_note})"
    return Outcome(ExecutionStatus.FAILED, response_status=result.status, target=target,
                   output=_clip(result.body), error_message=message, rate_limited_until=limited_until)


def dispatch(config: RunConfig, *, trigger: str, webhook: WebhookRequest | None = None,
             timeout: float | None = None) -> Outcome:
    """Send one call of a run: GitHub's ``workflow_dispatch`` (within ``timeout`` seconds), or
    ``webhook`` (built by :func:`webhook_request`)."""
    mode = config.execution_type
    if mode == ExecutionType.GITHUB_ACTIONS:
        outcome = _dispatch_github(config, trigger=trigger, timeout=timeout)
    elif mode == ExecutionType.WEBHOOK:
        if webhook is None:
            raise ValueError("a webhook run needs its request (webhook_request)")
        outcome = send_webhook(webhook, trigger=trigger)
    elif config.github_blank:
        outcome = Outcome(ExecutionStatus.FAILED,
                          error_message=f"Missing GitHub configuration for job '{config.job_name}'")
    else:
        outcome = Outcome(ExecutionStatus.FAILED, error_message=(
            f"Job '{config.job_name}' has invalid configuration (neither GitHub Actions nor webhook URL)"))
    outcome.execution_type = mode
    return outcome


# --- test runs ----------------------------------------------------------------------------------
@dataclass
class TestRunResult:
    """Outcome of an unsaved test run; ``as_response()`` is the API's 200 body."""

    __test__ = False  # not a pytest test class

    ok: bool
    type: str  # "webhook" | "github"
    message: str
    status_code: int | None = None
    error: str | None = None
    github_run_id: int | None = None
    github_run_url: str | None = None
    workflow: str | None = None  # the workflow file that answered (after a .yml/.yaml fallback)

    def as_response(self) -> dict:
        body: dict = {"ok": self.ok, "type": self.type}
        if self.error is not None:
            body["error"] = self.error
        else:
            body["status_code"] = self.status_code
        body["message"] = self.message
        if self.github_run_id is not None:  # additive fields
            body["github_run_id"] = self.github_run_id
        if self.github_run_url is not None:
            body["github_run_url"] = self.github_run_url
        return body


def test_run_target(body: dict) -> dict:
    """An unsaved target to test-run, checked like a job's (plus the call's timeout)."""
    metadata = rules.metadata(body.get("metadata"))
    values = rules.targets({key: body.get(key) for key in rules.TARGET_FIELDS}, op=rules.Op.TEST_RUN)
    rules.complete_targets(values, op=rules.Op.TEST_RUN)
    timeout = body.get("timeout_seconds")
    if timeout is None:
        timeout = 10
    try:
        if isinstance(timeout, bool) or not isinstance(timeout, int | float | str):
            raise ValueError
        timeout = float(timeout)
        if not math.isfinite(timeout):
            raise ValueError
    except ValueError:
        raise InvalidInput("Invalid payload", '"timeout_seconds" must be a number.',
                           field="timeout_seconds") from None
    return {**values, "metadata": metadata, "timeout_seconds": timeout}


def _test_run_timeout(timeout_seconds) -> tuple[float, float]:
    # The second value is also the whole call's deadline (job_test_run passes it).
    low, high = TEST_RUN_TIMEOUT_RANGE
    seconds = min(high, max(low, float(timeout_seconds if timeout_seconds is not None else 10)))
    return (min(float(settings.OUTBOUND_CONNECT_TIMEOUT), seconds), seconds)


def _request_failed(kind: str, text: str, *, refused: bool) -> TestRunResult:
    # A refusal by the guard is policy, not an internal detail: always say why.
    shown = text if (refused or settings.EXPOSE_ERROR_DETAILS) else "Request failed"
    return TestRunResult(ok=False, type=kind, error="Request failed", message=shown)


def job_test_run(*, target_url: str | None = None, github_owner: str | None = None,
                 github_repo: str | None = None, github_workflow_name: str | None = None,
                 metadata: dict | None = None, timeout_seconds: float | None = 10,
                 github_token: str | None = None) -> TestRunResult:
    """Dispatch an unsaved configuration once, exactly as a real run would; nothing is recorded.

    ``target_url`` wins over the GitHub fields. Raises ValueError when neither a
    URL nor all three GitHub fields are given (the API answers 400 before that).
    """
    metadata = metadata if isinstance(metadata, dict) else {}
    timeout = _test_run_timeout(timeout_seconds)
    if _clean(target_url):
        try:
            # Each test run is a call of its own: a fresh key, so a receiver never drops one as a repeat.
            response = webhook.webhook_call(url=_clean(target_url), metadata=metadata, timeout=timeout,
                                            deadline=timeout[1],
                                            headers={"Idempotency-Key": str(uuid.uuid4())})
        except outbound.OutboundError as exc:
            return _request_failed("webhook", str(exc), refused=exc.refused)
        return TestRunResult(
            ok=response.ok, type="webhook", status_code=response.status,
            message="Webhook test run succeeded." if response.ok else "Webhook test run failed.",
        )
    owner, repo, workflow = _clean(github_owner), _clean(github_repo), _clean(github_workflow_name)
    if not (owner and repo and workflow):
        raise ValueError(
            "Provide target_url or GitHub config (github_owner, github_repo, github_workflow_name).")
    token = _clean(github_token) or settings.GITHUB_TOKEN
    if not token:
        return TestRunResult(ok=False, type="github", error="GitHub token not configured",
                             message="Set GITHUB_TOKEN in backend .env to test-run GitHub workflows.")
    result = github.workflow_dispatch(owner=owner, repo=repo, workflow=workflow,
                                      ref=dispatch_ref(metadata), inputs=metadata, token=token,
                                      timeout=timeout, deadline=timeout[1])
    if result.status is None:
        return _request_failed("github", result.error or "", refused=result.refused)
    return TestRunResult(
        ok=result.ok, type="github", status_code=result.status,
        message="GitHub workflow dispatch triggered." if result.ok else "GitHub workflow dispatch failed.",
        github_run_id=result.run_id, github_run_url=result.run_url, workflow=result.workflow,
    )


# --- the burst pipeline's seam ------------------------------------------------------------------
def burst_request(request: WebhookRequest) -> burst.OutboundRequest:
    """``request`` (built by :func:`webhook_request`, the one place a webhook call is made up)
    as the burst pipeline's asynchronous client sends it: the same method, URL, headers,
    body and total deadline."""
    return burst.OutboundRequest(
        method=request.method, url=request.url, headers=request.header_dict, body=request.body or None,
        deadline_seconds=request.timeout,
        connect_timeout=min(float(settings.OUTBOUND_CONNECT_TIMEOUT), request.timeout),
        read_timeout=min(float(settings.OUTBOUND_READ_TIMEOUT), request.timeout),
    )
