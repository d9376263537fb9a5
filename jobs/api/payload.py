"""Reading JSON request bodies the way the contract checks them (API.md §0.2).

The endpoints check the Content-Type header themselves and answer with shape-A
errors, so views read ``request.body`` here instead of through DRF's parsers.
Strings that no database can store (NUL characters, lone surrogates) are refused
up front: PostgreSQL rejects both, and a 400 beats a 500.
"""

from __future__ import annotations

import json
from typing import Any

from cronhub.api.errors import bad_request

FALSE_WORDS = {"false", "0", "no", "off"}


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
    """The parsed body; 400 ``Content-Type must be application/json`` / ``Invalid JSON`` /
    ``Invalid payload`` in the contract's order.

    ``empty_as_object``: an empty or whitespace body means ``{}`` and skips the
    Content-Type check (``POST /jobs/{id}/execute``).
    """
    raw = request.body or b""
    if empty_as_object and not raw.strip():
        return {}
    if "application/json" not in (request.META.get("CONTENT_TYPE") or "").lower():
        raise bad_request("Content-Type must be application/json")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad_request("Invalid JSON") from None
    if require_object and not isinstance(body, dict):
        raise bad_request("Invalid payload", "JSON body must be an object.")
    _check_storable(body)
    return body


def truthy(value: Any) -> bool:
    """JSON booleans by truthiness (API.md §0.6), except the false-like words."""
    if isinstance(value, str) and value.strip().lower() in FALSE_WORDS:
        return False
    return bool(value)
