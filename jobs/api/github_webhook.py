"""``POST /api/v2/github/webhook``: GitHub's ``workflow_run`` deliveries, the fast path of following runs.

GitHub cannot log in, so there is no JWT here; every delivery must carry
``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with ``GITHUB_WEBHOOK_SECRET``),
compared in constant time. Unsigned or wrongly signed: 401, nothing read or
recorded. No secret configured: 503 (the endpoint is off, never open).
``ping`` is answered 200; other events are acknowledged and ignored; a
``workflow_run`` delivery updates the running executions that follow that run
through the same service as polling (``jobs.services.github_runs``), which
stays the fallback.
"""

from __future__ import annotations

import json

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from cronhub.api.base import PublicApiView
from cronhub.api.errors import ApiError, DetailError, bad_request
from cronhub.api.schema import error_a, error_b
from integrations import github
from jobs.services import github_runs

GithubWebhookResult = inline_serializer("GithubWebhookResult", {
    "event": serializers.CharField(help_text="The X-GitHub-Event of the delivery"),
    "action": serializers.CharField(allow_null=True),
    "updated": serializers.IntegerField(help_text="Executions the delivery changed"),
    "message": serializers.CharField(),
})


class GithubWebhookView(PublicApiView):

    @extend_schema(
        tags=["github"], summary="GitHub workflow_run webhook (signed with GITHUB_WEBHOOK_SECRET)",
        operation_id="github_webhook", auth=[],
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter("X-Hub-Signature-256", location=OpenApiParameter.HEADER, required=True,
                             description="sha256=<hex HMAC-SHA256 of the raw body with the secret>"),
            OpenApiParameter("X-GitHub-Event", location=OpenApiParameter.HEADER, required=False,
                             description="workflow_run or ping; other events are ignored"),
        ],
        responses={
            200: GithubWebhookResult,
            400: error_a("A workflow_run delivery whose body is not a workflow run"),
            401: error_b("Missing or wrong X-Hub-Signature-256: nothing recorded"),
            503: error_a("No GITHUB_WEBHOOK_SECRET configured: deliveries are refused"),
        },
    )
    def post(self, request):
        secret = settings.GITHUB_WEBHOOK_SECRET
        if not secret:
            raise ApiError(status.HTTP_503_SERVICE_UNAVAILABLE, "GitHub webhook not configured",
                           "Set GITHUB_WEBHOOK_SECRET to the webhook's secret; deliveries are refused "
                           "until then.")
        body = request.body  # the raw bytes GitHub signed (never parsed before the check)
        if not github.signature_valid(body, request.headers.get(github.SIGNATURE_HEADER), secret):
            raise DetailError(status.HTTP_401_UNAUTHORIZED,
                              "Missing or invalid X-Hub-Signature-256 signature")
        event = request.headers.get("X-GitHub-Event", "")
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = None
        action = payload.get("action") if isinstance(payload, dict) else None
        action = action if isinstance(action, str) else None
        if event == "ping":
            return Response({"event": event, "action": action, "updated": 0, "message": "pong"})
        if event != "workflow_run":
            return Response({"event": event, "action": action, "updated": 0,
                             "message": "event ignored: only workflow_run deliveries are used"})
        run = github.RunSnapshot.from_json(payload.get("workflow_run") if isinstance(payload, dict) else None)
        if run is None:
            raise bad_request("Invalid payload", "A workflow_run delivery must carry a workflow_run object "
                                                 "with an integer id.")
        updated = github_runs.apply_webhook_run(run)
        message = "execution updated" if updated else "no running execution follows this run"
        return Response({"event": event, "action": action, "updated": updated, "message": message})
