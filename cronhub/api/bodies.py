"""Reading JSON request bodies: the ``Content-Type`` check, JSON objects, boolean fields.

The contract fixes, per endpoint, when the ``Content-Type`` header is checked and
how the body is parsed, so there are two readers:

- ``require_json_content_type`` then ``json_object``: the header is checked early
  (before ownership and lookups) and the body parsed late (after them), through
  DRF's parser.
- ``json_body``: header and body in one step, read from ``request.body``.

Both answer ``Content-Type must be application/json`` / ``Invalid JSON`` /
``Invalid payload`` (a valid body that is not an object) in that order.

Every JSON body, whichever reader or parser reads it, goes through
``cronhub.values.json_loads``: JSON nested too deeply, integers beyond 64 bits,
NaN/Infinity and text no database can store (NUL characters, lone surrogates)
are a 400 naming the limit (:class:`RefusedJson`), before any view sees them.
The size of a body is bounded earlier, by ``ApiInputGuardMiddleware``.
"""

from __future__ import annotations

import codecs
from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers, status

from cronhub import values
from cronhub.api.errors import ApiError, bad_request
from cronhub.errors import InvalidInput


class RefusedJson(ApiError, exceptions.ParseError):
    """JSON beyond the limits: a ``ParseError`` for the readers that catch one, answered
    as ``{"error", "message"}`` so the client reads which limit it crossed."""

    def __init__(self, problem: InvalidInput):
        super().__init__(status.HTTP_400_BAD_REQUEST, problem.error, problem.message)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with the limits of ``cronhub.values.json_loads``."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read() if stream is not None else ""
            return values.json_loads(text)
        except InvalidInput as problem:
            raise RefusedJson(problem) from None
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None


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
    except RefusedJson:
        raise
    except (exceptions.ParseError, exceptions.UnsupportedMediaType):
        raise bad_request("Invalid JSON") from None
    _require_object(data)
    return data


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
        body = values.json_loads(raw)
    except InvalidInput as problem:
        raise RefusedJson(problem) from None
    except ValueError:  # UnicodeDecodeError included
        raise bad_request("Invalid JSON") from None
    if require_object:
        _require_object(body)
    return body
