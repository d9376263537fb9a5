"""The one place that builds the API's error bodies (see docs/api.md).

Services and rules raise the project's own errors (``cronhub.errors``); views
may raise :class:`ApiError` (``{"error", "message"}``) or :class:`DetailError`
(``{"detail"}``) for refusals that only exist on the wire; DRF's own exceptions
are mapped too. :func:`exception_handler` turns all of them into bodies.
Validation errors answer **400**, never 422 (the React client treats 422 as an
expired session), keeping the ``detail`` list and adding ``error`` and a
readable ``message``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from cronhub.errors import CronhubError, Kind

log = logging.getLogger("cronhub.api")


class ApiError(exceptions.APIException):
    """Shape A: ``{"error": ..., "message": ..., **extra}`` with any status."""

    def __init__(self, status_code: int, error: str, message: str | None = None, **extra: Any):
        self.status_code = status_code
        self.body: dict[str, Any] = {"error": error}
        if message is not None:
            self.body["message"] = message
        self.body.update(extra)
        super().__init__(detail=message or error)


class DetailError(exceptions.APIException):
    """Shape B: ``{"detail": "..."}`` (401s, role 403s, register/resync 409s)."""

    def __init__(self, status_code: int, detail: str, headers: dict[str, str] | None = None):
        self.status_code = status_code
        self.headers = headers or {}
        super().__init__(detail=detail)


def not_found(error: str, message: str | None = None) -> ApiError:
    return ApiError(status.HTTP_404_NOT_FOUND, error, message)


def bad_request(error: str, message: str | None = None, **extra: Any) -> ApiError:
    return ApiError(status.HTTP_400_BAD_REQUEST, error, message, **extra)


def validation_error(loc: list, msg: str, *, input: Any = None, type: str = "value_error",
                     ctx: dict | None = None) -> ApiError:
    """A 400 carrying one shape-C item, for hand-written checks of query or body fields."""
    item: dict[str, Any] = {"type": type, "loc": loc, "msg": msg, "input": input}
    if ctx:
        item["ctx"] = ctx
    return ApiError(status.HTTP_400_BAD_REQUEST, "Validation error", _describe([item]), detail=[item])


def _describe(items: list[dict]) -> str:
    parts = []
    for item in items:
        field = ".".join(str(p) for p in item.get("loc", [])[1:]) or "request"
        parts.append(f"{field}: {item.get('msg')}")
    return "; ".join(parts)


def _flatten(detail: Any, loc: list) -> list[dict]:
    """DRF's nested ValidationError detail → shape-C items."""
    if isinstance(detail, dict):
        items = []
        for key, value in detail.items():
            sub = loc if key == "non_field_errors" else [*loc, key]
            items.extend(_flatten(value, sub))
        return items
    if isinstance(detail, list):
        if all(not isinstance(v, dict | list) for v in detail):
            return [{"type": getattr(v, "code", "value_error"), "loc": loc, "msg": str(v), "input": None}
                    for v in detail]
        items = []
        for index, value in enumerate(detail):
            items.extend(_flatten(value, [*loc, index] if isinstance(value, dict | list) else loc))
        return items
    return [{"type": getattr(detail, "code", "value_error"), "loc": loc, "msg": str(detail), "input": None}]


def _body_for(exc: exceptions.APIException, request) -> dict[str, Any]:
    if isinstance(exc, ApiError):
        return exc.body
    if isinstance(exc, exceptions.ValidationError):
        where = "query" if request is not None and request.method in ("GET", "DELETE") else "body"
        items = _flatten(exc.detail, [where])
        return {"error": "Validation error", "message": _describe(items), "detail": items}
    if isinstance(exc, exceptions.ParseError):
        return {"error": "Invalid JSON"}
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return {"error": "Unsupported media type", "message": str(exc.detail)}
    if isinstance(exc, exceptions.NotAuthenticated):
        return {"detail": "Not authenticated"}
    if isinstance(exc, exceptions.MethodNotAllowed):
        return {"detail": "Method Not Allowed"}
    if isinstance(exc, exceptions.NotFound):
        return {"detail": "Not Found"}
    if isinstance(exc, exceptions.Throttled):
        wait = f" Try again in {int(exc.wait)} seconds." if exc.wait else ""
        return {"error": "Too many requests", "message": f"Too many attempts.{wait}",
                "detail": "Request was throttled."}
    return {"detail": str(exc.detail) if not isinstance(exc.detail, list | dict) else exc.detail}


STATUS_OF_KIND = {
    Kind.INVALID: status.HTTP_400_BAD_REQUEST,
    Kind.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    Kind.CONFLICT: status.HTTP_409_CONFLICT,
    Kind.FORBIDDEN: status.HTTP_403_FORBIDDEN,
    Kind.UNAUTHENTICATED: status.HTTP_401_UNAUTHORIZED,
    Kind.THROTTLED: status.HTTP_429_TOO_MANY_REQUESTS,
}


def from_domain(exc: CronhubError) -> exceptions.APIException:
    """The API exception that answers a domain error: its kind's status and the contract's shape."""
    code = STATUS_OF_KIND[exc.kind]
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
    if exc.detail_only:
        return DetailError(code, exc.text, headers=headers)
    error = ApiError(code, exc.error, exc.message, **exc.extra)
    if headers:
        error.headers = headers
    return error


# --- the database cannot be reached ------------------------------------------------------
DATABASE_RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE_BODY = {
    "error": "Service unavailable",
    "message": "The database is unavailable; try again shortly.",
}


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` means the database cannot be reached right now (stopped, restarting,
    network gone): an OperationalError or InterfaceError while a connection of this thread is
    closed (it could not be opened) or no longer usable. A query the database refused on a
    working connection is not an outage and stays a 500.
    """
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    for connection in connections.all(initialized_only=True):
        if connection.connection is None or not connection.is_usable():
            return True
    return False


def database_unavailable_response() -> Response:
    """503 in the API's ``{"error", "message"}`` shape; never names the database or its host."""
    return Response(dict(DATABASE_UNAVAILABLE_BODY), status=status.HTTP_503_SERVICE_UNAVAILABLE,
                    headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})


def exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's EXCEPTION_HANDLER: every API error leaves through here, as JSON."""
    request = context.get("request")
    if database_unavailable(exc):
        log.warning("Database unavailable in %s: %s", getattr(request, "path", "?"), exc)
        return database_unavailable_response()
    if isinstance(exc, CronhubError):
        exc = from_domain(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, exceptions.APIException):
        headers = dict(getattr(exc, "headers", {}) or {})
        if exc.status_code == status.HTTP_401_UNAUTHORIZED:
            headers.setdefault("WWW-Authenticate", "Bearer")
        if isinstance(exc, exceptions.Throttled) and exc.wait:
            headers["Retry-After"] = str(int(exc.wait))
        code = exc.status_code
        if code == 422:  # never 422 (see module docstring)
            code = status.HTTP_400_BAD_REQUEST
        return Response(_body_for(exc, request), status=code, headers=headers)
    log.exception("Unhandled error in %s", getattr(request, "path", "?"))
    return Response(internal_error_body(exc), status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def internal_error_body(exc: Exception | None) -> dict[str, Any]:
    """Shape E; ``details`` only when EXPOSE_ERROR_DETAILS is on."""
    error: dict[str, Any] = {"type": "internal_error", "message": "An unexpected error occurred"}
    if settings.EXPOSE_ERROR_DETAILS and exc is not None:
        error["details"] = str(exc)
    return {"success": False, "error": error}


# --- Django-level handlers for /api/ paths (outside DRF views) -------------------

def handler404(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not Found"}, status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return JsonResponse(internal_error_body(None), status=500)
    from django.views.defaults import server_error

    return server_error(request)
