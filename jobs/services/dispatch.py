"""What one run sends: a job's configuration (with a manual run's overrides)
dispatched once to GitHub ``workflow_dispatch`` or a webhook, and the outcome.

Scheduled, manual and test runs all send through here, so they succeed and fail
alike; ``jobs.services.runs`` records and announces the outcome. Where the
historical paths disagreed, the choices are in docs/execution.md.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass, field

from django.conf import settings

from cronhub.errors import InvalidInput
from integrations import burst, github, webhook
from integrations import http as outbound
from jobs import rules
from jobs.models import OUTPUT_MAX_CHARS, ExecutionStatus, ExecutionType, Job, TriggerType

TEST_RUN_TIMEOUT_RANGE = (1.0, 30.0)
# Time after the end of a call's own bound to record its outcome (a database
# write, retried): a run still ``running`` later than that is not in flight any more.
RECORD_MARGIN_SECONDS = 60.0


def call_budget_seconds() -> float:
    """How long one run's outbound call may take at most: the outbound client's total deadline.

    A run's ``deadline_at`` follows it (``run_deadline``).
    """
    return outbound.call_deadline_seconds()


def run_deadline(started_at: dt.datetime) -> dt.datetime:
    """When a run started at ``started_at`` must have ended, its outcome recorded included."""
    return started_at + dt.timedelta(seconds=call_budget_seconds() + RECORD_MARGIN_SECONDS)


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


def _clip(text: str | None) -> str | None:
    return text[:OUTPUT_MAX_CHARS] if text is not None else None


def _network_failure(trigger: str, prefix: str, text: str) -> Outcome:
    # Clients match these texts per trigger, so they stay as they were: manual runs say
    # "Request failed: ..." and their notification drops that prefix.
    if trigger == TriggerType.MANUAL:
        return Outcome(ExecutionStatus.FAILED, error_message=f"Request failed: {text}", notify_error=text)
    return Outcome(ExecutionStatus.FAILED, error_message=f"{prefix}{text}")


def _dispatch_github(config: RunConfig, *, trigger: str, timeout=None) -> Outcome:
    token = config.github_token or settings.GITHUB_TOKEN
    if not token:
        return Outcome(ExecutionStatus.FAILED, target=config.target, error_message=(
            f"GitHub token not configured. Cannot trigger workflow for job '{config.job_name}'"))
    ref = config.ref
    result = github.workflow_dispatch(
        owner=config.github_owner, repo=config.github_repo, workflow=config.github_workflow_name,
        ref=ref, inputs=config.metadata, token=token, timeout=timeout,
    )
    target = f"{config.github_owner}/{config.github_repo}/{result.workflow}"
    if result.status is None:
        failure = _network_failure(trigger, "GitHub Actions request failed: ", result.error or "")
        failure.target = target
        return failure
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
                   output=_clip(result.body), error_message=message)


def _dispatch_webhook(config: RunConfig, *, trigger: str, timeout=None, headers=None) -> Outcome:
    try:
        response = webhook.webhook_call(url=config.target_url, metadata=config.metadata, timeout=timeout,
                                        headers=headers)
    except outbound.OutboundError as exc:
        return webhook_outcome(None, exc, trigger=trigger)
    return webhook_outcome(response, None, trigger=trigger)


def webhook_outcome(response: outbound.HttpResponse | None, error: outbound.OutboundError | None, *,
                    trigger: str) -> Outcome:
    """What a webhook call's answer (or its failure) means for the run: the one place for both clients."""
    if response is None:
        return _network_failure(trigger, "Webhook call failed: ", str(error))
    if response.ok:
        return Outcome(ExecutionStatus.SUCCESS, response_status=response.status, output=_clip(response.text))
    return Outcome(ExecutionStatus.FAILED, response_status=response.status, output=_clip(response.text),
                   error_message=f"Webhook returned status {response.status}")


def dispatch(config: RunConfig, *, trigger: str, headers: dict[str, str] | None = None) -> Outcome:
    """Send one run; ``headers`` (the run's idempotency headers) go on a webhook call."""
    mode = config.execution_type
    if mode == ExecutionType.GITHUB_ACTIONS:
        return _dispatch_github(config, trigger=trigger)
    if mode == ExecutionType.WEBHOOK:
        return _dispatch_webhook(config, trigger=trigger, headers=headers)
    if config.github_blank:
        return Outcome(ExecutionStatus.FAILED,
                       error_message=f"Missing GitHub configuration for job '{config.job_name}'")
    return Outcome(ExecutionStatus.FAILED, error_message=(
        f"Job '{config.job_name}' has invalid configuration (neither GitHub Actions nor webhook URL)"))


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
def webhook_request(job: Job, execution, attempt: int = 1, *,
                    config: RunConfig | None = None) -> burst.OutboundRequest:
    """The outbound call of one webhook run, fully described (immutable).

    Built like ``webhook.webhook_call`` sends it: POST of the metadata as JSON, GET
    when there is none; the run's idempotency headers (the same on every attempt);
    the call's total deadline and per-operation timeouts.
    """
    config = config or run_config(job=job)
    metadata = config.metadata
    headers = idempotency_headers(execution_id=execution.pk, job_id=job.pk,
                                  scheduled_for=execution.scheduled_for)
    return burst.OutboundRequest(
        method="POST" if metadata else "GET", url=config.target_url, headers=headers,
        body=burst.json_body(metadata) if metadata else None,
        deadline_seconds=outbound.call_deadline_seconds(),
        connect_timeout=float(settings.OUTBOUND_CONNECT_TIMEOUT),
        read_timeout=float(settings.OUTBOUND_READ_TIMEOUT),
    )
