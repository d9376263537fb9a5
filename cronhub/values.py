"""How cronhub reads loose input values, once for every entry point.

One boolean vocabulary (API bodies, query strings, CSV cells, environment
variables), one time-zone parser, and one reader of JSON (request bodies, CSV
cells, admin fields) that refuses what the databases cannot store or the API
cannot serve back. Nothing here knows about HTTP or forms; refusals are the
project's own errors.
"""

from __future__ import annotations

import functools
import json
import math
import zoneinfo
from typing import Any

from cronhub.errors import N_, InvalidInput

TRUE_WORDS = frozenset({"true", "1", "yes", "on", "t", "y"})
FALSE_WORDS = frozenset({"false", "0", "no", "off", "f", "n"})


def bool_word(value: str) -> bool | None:
    """``True``/``False`` for a word of the vocabulary (any case, trimmed), ``None`` otherwise."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def truthy(value: Any) -> bool:
    """A JSON value as a flag: its truthiness, except that the false words are false.

    Clients have always sent 1, "yes" and "false" for booleans; reading them this
    way keeps those clients working rather than refusing them.
    """
    if isinstance(value, str) and bool_word(value) is False:
        return False
    return bool(value)


TIMEZONE_MAX_LENGTH = 64


# Files of the zone database that are not zones a job can run in: ``Factory``
# (no offset, abbreviation "-00"), the copies with leap seconds (``right/``) or
# without them (``posix/``), the rules template and the host's own zone.
NOT_ZONES = frozenset({"Factory", "posixrules", "localtime"})
NOT_ZONE_PREFIXES = ("right/", "posix/")


@functools.cache
def timezone_names() -> frozenset[str]:
    """The IANA zone names cronhub accepts (``zoneinfo.available_timezones()`` minus
    the files that are not zones). Directories such as ``America`` are not in it."""
    return frozenset(name for name in zoneinfo.available_timezones()
                     if name not in NOT_ZONES and not name.startswith(NOT_ZONE_PREFIXES))


@functools.lru_cache(maxsize=1024)
def zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The IANA zone called ``name``, or ``None`` when there is no such zone."""
    if not isinstance(name, str) or not name or len(name) > TIMEZONE_MAX_LENGTH:
        return None
    if name not in timezone_names():
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        return None


def timezone_name(value: Any, *, default: str, field: str = "timezone") -> str:
    """A valid IANA zone name from client input; blank or null means ``default``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    name = value.strip() if isinstance(value, str) else value
    if not isinstance(name, str) or zone(name) is None:
        raise InvalidInput("Invalid timezone",
                           N_("Unknown time zone %(zone)r: use an IANA name such as Asia/Tokyo."),
                           params={"zone": value}, field=field)
    return name


# --- JSON ------------------------------------------------------------------------------
#
# The limits are what every store and every reader of a job agrees on: the job
# list's encoder (orjson) refuses integers beyond 64 bits and nesting deeper than
# 255 levels; PostgreSQL refuses NUL characters, NaN and Infinity in JSON columns,
# and no database stores an unpaired surrogate.

JSON_MAX_DEPTH = 64
INT_MIN, INT_MAX = -(2 ** 63), 2 ** 63 - 1
NESTED_TOO_DEEP = f"JSON nested more than {JSON_MAX_DEPTH} levels deep is not accepted."
INT_OUT_OF_RANGE = f"Integers must lie between {INT_MIN} and {INT_MAX} (64 bits)."
NOT_FINITE = "Numbers must be finite: NaN, Infinity and numbers beyond 1.8e308 are not accepted."
HAS_NUL = "Text must not contain NUL characters."
NOT_UNICODE = "Text must be valid Unicode (no unpaired surrogates)."


def storable_text(value: str, *, field: str | None = None) -> str:
    """``value`` when every database can store it: no NUL, no unpaired surrogate."""
    if "\x00" in value:
        raise InvalidInput("Invalid payload", HAS_NUL, field=field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("Invalid payload", NOT_UNICODE, field=field) from None
    return value


def _refuse_constant(name: str):
    raise InvalidInput("Invalid JSON", NOT_FINITE)


def _number(value: int | float, field: str | None) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise InvalidInput("Invalid JSON", INT_OUT_OF_RANGE, field=field)
    elif not math.isfinite(value):
        raise InvalidInput("Invalid JSON", NOT_FINITE, field=field)


def check_json(value: Any, *, field: str | None = None) -> Any:
    """``value`` (parsed JSON) when it is within the limits above; else ``InvalidInput``."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            storable_text(item, field=field)
        elif isinstance(item, int | float):
            _number(item, field)
        elif isinstance(item, dict | list):
            if depth > JSON_MAX_DEPTH:
                raise InvalidInput("Invalid JSON", NESTED_TOO_DEEP, field=field)
            if isinstance(item, dict):
                for key, child in item.items():
                    if isinstance(key, str):
                        storable_text(key, field=field)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
    return value


def _float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise InvalidInput("Invalid JSON", NOT_FINITE)
    return number


def json_loads(text: str | bytes, *, field: str | None = None) -> Any:
    """JSON text → the value, within the limits above.

    ``ValueError`` when the text is not JSON (callers word that themselves);
    :class:`InvalidInput` when it is JSON beyond the limits.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_float)
    except RecursionError:
        raise InvalidInput("Invalid JSON", NESTED_TOO_DEEP, field=field) from None
    except InvalidInput as problem:
        problem.field = field
        raise
    return check_json(value, field=field)
