"""RFC 3339 text for UTC instants, for code outside the API layer that stores a timestamp as text.

The scheduler writes its resync summary into a JSON column the API returns as it is,
so the spelling lives here, below both: ``cronhub.api.formats`` uses the same function.
"""

from __future__ import annotations

import datetime as dt


def utc_rfc3339_micro(value: dt.datetime | None) -> str | None:
    """``2025-12-18T06:49:31.105845Z``: UTC, always six fraction digits; naive values are UTC."""
    if value is None:
        return None
    value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"



def zoned_seconds(value: dt.datetime | None) -> str | None:
    """``2025-12-18T09:00:00+09:00``: an aware instant on its own zone's clock, whole seconds."""
    if value is None:
        return None
    return value.replace(microsecond=0).isoformat()
