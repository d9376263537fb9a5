"""Webhook client: POST the job's metadata as JSON, or GET when there is none.

User-supplied URLs, so private/loopback targets are refused when
``WEBHOOK_BLOCK_PRIVATE=true`` (link-local and metadata addresses always are).
``headers`` are added to the request (the caller's idempotency headers).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings

from integrations import http


def webhook_call(*, url: str, metadata: dict | None, timeout: tuple[float, float] | None = None,
                 deadline: http.Deadline | float | None = None,
                 headers: Mapping[str, str] | None = None) -> http.HttpResponse:
    """Call the webhook; raises ``http.OutboundError`` when there is no HTTP answer.

    ``deadline`` bounds the whole call (``http.call_deadline_seconds()`` when None).
    """
    if metadata:
        return http.request("POST", url, json=metadata, headers=headers, timeout=timeout, deadline=deadline,
                            block_private=settings.WEBHOOK_BLOCK_PRIVATE)
    return http.request("GET", url, headers=headers, timeout=timeout, deadline=deadline,
                        block_private=settings.WEBHOOK_BLOCK_PRIVATE)
