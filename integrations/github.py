"""GitHub Actions ``workflow_dispatch`` client, and the dispatch-URL parser of BEHAVIOR §11.

``POST {GITHUB_API_URL}/repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches``
with ``return_run_details: true``: GitHub answers 200 with the run id and URL
(or 204 where the flag is not supported yet). A workflow named without an
extension is retried as ``.yml`` then ``.yaml`` on 404. Rate limits fail the
run with the advertised wait; nothing here ever retries on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from django.conf import settings

from integrations import http

SUCCESS_STATUSES = {200, 201, 204}
API_VERSION = "2022-11-28"

DISPATCH_URL_FORMAT_ERROR = (
    "Invalid dispatch URL format. Expected one of: <owner>/<repo>/<workflow>, "
    "/<owner>/<repo>/actions/workflows/<workflow>, or https://github.com/<owner>/<repo>/actions/workflows/<workflow>."
)


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

    @property
    def ok(self) -> bool:
        return self.status in SUCCESS_STATUSES


def dispatch_ref(metadata: dict) -> str:
    """The branch a dispatch runs on: ``branchDetails``, then ``ref``, then ``branch``, else master."""
    for key in ("branchDetails", "ref", "branch"):
        value = metadata.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return "master"


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
                      timeout: tuple[float, float] | None = None) -> DispatchResult:
    """Dispatch a workflow run; never raises for HTTP or network failures."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
    }
    payload = {"ref": ref, "inputs": inputs, "return_run_details": True}
    base = settings.GITHUB_API_URL.rstrip("/")
    result = DispatchResult(status=None, workflow=workflow)
    for name in _fallback_names(workflow):
        url = (f"{base}/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"
               f"/actions/workflows/{quote(name, safe='')}/dispatches")
        try:
            # A renamed repository answers 307 (same method): followed, each hop checked.
            response = http.request("POST", url, json=payload, headers=headers, timeout=timeout)
            if response.status == 422 and "return_run_details" in response.text:
                # A GitHub Enterprise Server that predates the flag: dispatch without it.
                payload = {"ref": ref, "inputs": inputs}
                response = http.request("POST", url, json=payload, headers=headers, timeout=timeout)
        except http.OutboundError as exc:
            return DispatchResult(status=None, workflow=name, error=str(exc), refused=exc.refused)
        run_id, run_url = _run_details(response)
        result = DispatchResult(
            status=response.status, body=response.text, workflow=name, run_id=run_id, run_url=run_url,
            rate_limit_note=_rate_limit_note(response),
        )
        if response.status != 404:
            break
    return result


def parse_dispatch_url(value: str) -> tuple[str, str, str]:
    """(owner, repo, workflow) from any form BEHAVIOR §11 accepts; ValueError with the contract's text.

    The path-only form ``/<owner>/<repo>/actions/workflows/<workflow>`` that the
    error message advertises is accepted (Q-B18).
    """
    text = (value or "").strip()
    if "://" in text:
        path = urlsplit(text).path
    elif text.startswith("/"):
        path = text
    else:
        path = urlsplit("https://" + text).path
    segments = [s for s in path.split("/") if s]
    if segments[:1] == ["repos"]:
        segments = segments[1:]
    if len(segments) >= 5 and segments[2:4] == ["actions", "workflows"]:
        return segments[0], segments[1], segments[4]
    if "://" not in text:
        parts = [s for s in text.split("/") if s]
        if len(parts) == 3:
            return parts[0], parts[1], parts[2]
    raise ValueError(DISPATCH_URL_FORMAT_ERROR)


def is_shorthand(value: str) -> bool:
    """``owner/repo/workflow`` typed into target_url (BEHAVIOR §11)."""
    text = (value or "").strip()
    if "://" in text:
        return False
    segments = [s for s in text.split("/") if s]
    return len(segments) == 3 and "." not in segments[0]
