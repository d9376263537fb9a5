"""Reading JSON request bodies: the ``Content-Type`` check, JSON objects, boolean fields.

The contract fixes, per endpoint, when the ``Content-Type`` header is checked and
how the body is parsed, so there are two readers:

- ``require_json_content_type`` then ``json_object``: the header is checked early
  (before ownership and lookups) and the body parsed late (after them), through
  DRF's parser.
- ``json_body``: header and body in one step, read from ``request.body``; strings
  that no database can store (NUL characters, lone surrogates) are refused up
  front: PostgreSQL rejects both, and a 400 beats a 500.

Both answer ``Content-Type must be application/json`` / ``Invalid JSON`` /
``Invalid payload`` (a valid body that is not an object) in that order.
"""

from __future__ import annotations

import json
from typing import Any

from rest_framework import exceptions

from cronhub.api.errors import bad_request


def require_json_content_type(request) -> None:
    """400 ``Content-Type must be application/json`` unless the header contains it."""
    if "application/json" not in (request.content_type or "").lower():
        raise bad_request("Content-Type must be application/json")


def _require_object(data: Any) -> None:
    if not isinstance(data, dict):
        raise bad_request("Invalid payload", "JSON body must be an object.")


def json_object(request) -> dict[str, Any]:
    """The parsed body: 400 ``Invalid JSON`` / ``Invalid payload`` when it is not a JSON object."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length == 0:  # an empty body is not JSON (DRF would read it as {})
        raise bad_request("Invalid JSON")
    try:
        data = request.data
    except (exceptions.ParseError, exceptions.UnsupportedMediaType):
        raise bad_request("Invalid JSON") from None
    _require_object(data)
    return data


def _check_storable(value: Any) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise bad_request("Invalid payload", "Text must not contain NUL characters.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise bad_request("Invalid payload", "Text must be valid Unicode.") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_storable(key)
            _check_storable(item)
    elif isinstance(value, list):
        for item in value:
            _check_storable(item)


def json_body(request, *, empty_as_object: bool = False, require_object: bool = True) -> Any:
    """The parsed body, checking the header first; every text in it storable.

    ``empty_as_object``: an empty or whitespace body means ``{}`` and skips the
    Content-Type check (``POST /jobs/{id}/execute``). ``require_object=False``
    leaves a non-object body to the caller's validation.
    """
    raw = request.body or b""
    if empty_as_object and not raw.strip():
        return {}
    require_json_content_type(request)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad_request("Invalid JSON") from None
    if require_object:
        _require_object(body)
    _check_storable(body)
    return body
