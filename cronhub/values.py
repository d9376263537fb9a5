"""How cronhub reads loose input values, once for every entry point.

One boolean vocabulary (API bodies, query strings, CSV cells, environment
variables) and one time-zone parser. Nothing here knows about HTTP or forms;
refusals are the project's own errors.
"""

from __future__ import annotations

import functools
import zoneinfo
from typing import Any

from cronhub.errors import InvalidInput

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


@functools.lru_cache(maxsize=1024)
def zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The IANA zone called ``name``, or ``None`` when there is no such zone."""
    if not isinstance(name, str) or not name or len(name) > TIMEZONE_MAX_LENGTH:
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
    if zone(name) is None:
        raise InvalidInput("Invalid timezone",
                           f"Unknown time zone {value!r}: use an IANA name such as Asia/Tokyo.", field=field)
    return name
