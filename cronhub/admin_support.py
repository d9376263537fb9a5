"""Glue between admin forms and the services the API uses.

Services validate and write in one call and raise the API's errors. An admin
form has to show those errors on the page *before* anything is saved, so it
runs the same call as a trial inside a savepoint that is always rolled back,
and the save then makes the call for real: one set of rules, two entry points.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from rest_framework.exceptions import APIException


class _RolledBack(Exception):
    pass


def api_error_message(exc: APIException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error"))
    return str(exc.detail)


def service_check(call: Callable[[], object]) -> str | None:
    """Run ``call`` and undo it: the API's error message when it refuses, else None."""
    try:
        with transaction.atomic():
            call()
            raise _RolledBack
    except _RolledBack:
        return None
    except APIException as exc:
        return api_error_message(exc)
