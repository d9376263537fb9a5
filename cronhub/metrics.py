"""Prometheus metrics of the web app: requests by route, method and status, and their latency.

``RequestMetricsMiddleware`` counts every answer under its URL pattern (``api/v2/jobs/<str:job_id>``,
never the raw path, so the number of series stays bounded; static files are ``static``,
anything unrouted ``unmatched``). The same middleware answers ``METRICS_PATH`` (default
``/metrics``) with the text exposition, but only to ``Authorization: Bearer METRICS_TOKEN``:
without a token configured the path is a plain 404, with a wrong one 401.

Under gunicorn every worker is a process with its own counters. With
``PROMETHEUS_MULTIPROC_DIR`` set (an empty directory, fresh at each start: the systemd unit's
``RuntimeDirectory``) prometheus_client writes them to files there and the endpoint adds up
every worker's (docs/deploy.md); ``deploy/gunicorn.conf.py`` tells it when a worker exits.
"""

from __future__ import annotations

import hmac
import os
import time

from django.conf import settings
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "cronhub_http_requests", "HTTP requests answered, by route (URL pattern), method and status.",
    ["route", "method", "status"], registry=REGISTRY,
)
LATENCY = Histogram(
    "cronhub_http_request_duration_seconds", "Time to answer an HTTP request, by route and method.",
    ["route", "method"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


def route_of(request) -> str:
    static = "/" + settings.STATIC_URL.lstrip("/")
    if request.path.startswith(static):
        return "static"
    match = getattr(request, "resolver_match", None)
    if match is None:  # answered before the view (HTTPS redirect, 405, preflight...): resolve it here
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return "unmatched"
    return match.route or "unmatched"


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def _metrics_response(request) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse("Not Found\n", status=404, content_type="text/plain")
    scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if request.method not in ("GET", "HEAD"):
        response = HttpResponse("Method Not Allowed\n", status=405, content_type="text/plain")
        response["Allow"] = "GET, HEAD"
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == settings.METRICS_PATH:
            return _metrics_response(request)  # not counted: scrapes would drown the rest
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        route = route_of(request)
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(route=route, method=method, status=str(response.status_code)).inc()
        LATENCY.labels(route=route, method=method).observe(elapsed)
        return response
