"""GitHub Actions ``workflow_dispatch`` client.

``POST {GITHUB_API_URL}/repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches``
with ``return_run_details: true``: GitHub answers 200 with the run id and URL
(or 204 where the flag is not supported yet). A workflow named without an
extension is retried as ``.yml`` then ``.yaml`` on 404. Nothing here retries or
waits: the answer (its headers included) goes back to the caller, which keeps
to the token's budget (``integrations.github_budget``) and defers a run that
met a rate limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from django.conf import settings

from integrations import http

SUCCESS_STATUSES = {200, 201, 204}
API_VERSION = "2022-11-28"

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
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
    }
    payload = {"ref": ref, "inputs": inputs, "return_run_details": True}
    base = settings.GITHUB_API_URL.rstrip("/")
    result = DispatchResult(status=None, workflow=workflow)
    made = 0
    for name in _fallback_names(workflow):
        url = (f"{base}/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"
               f"/actions/workflows/{quote(name, safe='')}/dispatches")
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
