"""Request-level answers the views never see: trailing-slash redirects and unknown methods
under /api/, 503 for any page whose database cannot be reached, and the API's input guard
(body size, NUL in query strings)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.urls import Resolver404, resolve

from cronhub.api.errors import (
    DATABASE_RETRY_AFTER_SECONDS,
    DATABASE_UNAVAILABLE_BODY,
    database_unavailable,
    validation_error,
)

log = logging.getLogger("cronhub.api")

DATABASE_UNAVAILABLE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Service unavailable</title></head>
<body><h1>Service unavailable</h1><p>The database is unavailable; try again shortly.</p></body></html>
"""


class DatabaseUnavailableMiddleware:
    """A view that fails because the database cannot be reached answers 503 with ``Retry-After``.

    The API's views answer that themselves (the DRF exception handler); this covers the
    rest: the admin and any other page get a plain 503 page, an ``/api/`` path outside DRF
    the API's JSON shape. Never Django's 500 page, which with DEBUG on would show the
    database settings and host.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not database_unavailable(exception):
            return None
        log.warning("Database unavailable in %s: %s", request.path, exception)
        if request.path.startswith("/api/"):
            response = JsonResponse(DATABASE_UNAVAILABLE_BODY, status=503)
        else:
            response = HttpResponse(DATABASE_UNAVAILABLE_PAGE, status=503,
                                    content_type="text/html; charset=utf-8")
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response


class ApiTrailingSlashRedirectMiddleware:
    """307 keeps the method and body, so clients that follow redirects still work.
    No body and no auth check, exactly as the previous server answered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if path.startswith("/api/") and path.endswith("/") and path.rstrip("/") not in ("/api", "/api/v2"):
            location = request.build_absolute_uri(path.rstrip("/"))
            query = request.META.get("QUERY_STRING")
            if query:
                location = f"{location}?{query}"
            response = HttpResponse(status=307)
            response["Location"] = location
            return response
        return self.get_response(request)


class ApiMethodNotAllowedMiddleware:
    """A known API route called with a method it lacks is 405 before any auth check.

    DRF would authenticate first (401) and Django would answer ``HEAD`` with the GET
    view; the contract resolves the route, then the method, then authenticates.
    ``HEAD`` and a plain ``OPTIONS`` are therefore 405 too (CORS preflights never
    get here: the CORS middleware answers them). An unknown ``/api/`` path is the
    JSON 404 here too.
    """

    HANDLED = ("get", "post", "put", "patch", "delete")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            # Answered here rather than by handler404, which Django skips when DEBUG is on.
            return JsonResponse({"detail": "Not Found"}, status=404)
        view_class = getattr(match.func, "view_class", None)
        if view_class is None:
            return self.get_response(request)
        allowed = [m for m in self.HANDLED if hasattr(view_class, m)]
        if request.method.lower() not in allowed:
            response = JsonResponse({"detail": "Method Not Allowed"}, status=405)
            response["Allow"] = ", ".join(m.upper() for m in allowed)
            return response
        return self.get_response(request)


class ApiInputGuardMiddleware:
    """What no API view should have to read: bodies over the size limit and NUL characters
    in the query string.

    - A body whose ``Content-Length`` exceeds ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is 413
      ``Request body too large`` before anything reads it (DRF's parsers read the
      stream whole, without Django's limit). A view that bounds its own body (the
      CSV upload) says so with ``max_body_bytes = None``.
    - A query parameter holding a NUL character is a 400 validation error naming the
      parameter: PostgreSQL cannot compare text with a NUL, and no stored value has one.
      (Query strings are decoded with replacement characters, so they never carry an
      unpaired surrogate.)
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        limit = self._body_limit(request)
        if limit is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return JsonResponse({"error": "Request body too large",
                                     "message": f"The request body must be at most {limit} bytes."},
                                    status=413)
        for name, items in request.GET.lists():
            if "\x00" in name or any("\x00" in item for item in items):
                error = validation_error(["query", name.replace("\x00", "\\x00")],
                                         "Query values must not contain NUL characters",
                                         type="string_nul")
                return JsonResponse(error.body, status=error.status_code)
        return self.get_response(request)

    @staticmethod
    def _body_limit(request) -> int | None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            view_class = getattr(resolve(request.path_info).func, "view_class", None)
        except Resolver404:
            return limit
        return getattr(view_class, "max_body_bytes", limit)
