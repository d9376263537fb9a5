"""Reading JSON request bodies the way the contract checks them (API.md §0.2, §0.6).

Endpoints check the ``Content-Type`` header early (before ownership and lookups)
and parse the body late (after them), so the two steps are separate functions.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions

from cronhub.api.errors import bad_request

FALSE_STRINGS = {"false", "0", "no", "off"}


def require_json_content_type(request) -> None:
    """400 ``Content-Type must be application/json`` unless the header contains it."""
    if "application/json" not in (request.content_type or "").lower():
        raise bad_request("Content-Type must be application/json")


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
    if not isinstance(data, dict):
        raise bad_request("Invalid payload", "JSON body must be an object.")
    return data


def truthy(value: Any) -> bool:
    """JSON booleans by truthiness (Q-A2), except that the strings "false"/"0"/"no"/"off" are false."""
    if isinstance(value, str) and value.strip().lower() in FALSE_STRINGS:
        return False
    return bool(value)


def optional_text(value: Any, *, field: str, error: str, max_length: int | None = None) -> str | None:
    """A trimmed string, ``None`` for null/blank; 400 ``error`` for other types or overlong text."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(error, f"{field} must be a string.")
    text = value.strip()
    if max_length is not None and len(text) > max_length:
        raise bad_request(error, f"{field} must be at most {max_length} characters.")
    return text or None
