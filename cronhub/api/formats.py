"""The timestamp spellings the API emits and accepts: one convention for every endpoint.

- A **recorded moment** (when something happened or was stored: ``created_at``,
  ``started_at``, ``read_at``, a heartbeat, a statistics range) is a UTC instant ending
  in ``Z``; a field keeps the precision clients know (micro, millis, or none).
- A **fire time** (when a job will or would run: ``next_execution_at``, cron preview
  ``next_runs``, the scheduler's ``next_runs[].fire_at``) is stated on its job's wall
  clock with that zone's offset (``2025-12-18T09:00:00+09:00``), whole seconds, since
  the schedule is written in that zone.

Either way the offset is explicit, and nothing depends on the zone a request runs in.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from cronhub.api.errors import bad_request, validation_error
from cronhub.timestamps import utc_rfc3339_micro
from cronhub.values import bool_word

UTC = dt.UTC



def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso_z(value: dt.datetime | None) -> str | None:
    """Former naive-ISO fields: ``2025-12-13T06:08:15.786388Z`` (fraction dropped when 0)."""
    if value is None:
        return None
    if value.tzinfo is not UTC:  # database values already are; GET /jobs spells thousands
        value = _utc(value)
    return value.replace(tzinfo=None).isoformat() + "Z"


def iso_z_millis(value: dt.datetime | None) -> str | None:
    """``2025-12-18T06:49:31.105Z`` (executions, job list ``last_execution_at``)."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = _utc(value)
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


# ``2025-12-18T06:49:31.105845Z`` (health, scheduler status, the scheduler's resync summary).
iso_z_micro = utc_rfc3339_micro


def iso_offset(value: dt.datetime | None) -> str | None:
    """``2025-12-18T06:49:31.105845Z`` (notifications, statistics ranges): microseconds when
    there are any. (These fields said ``+00:00`` before the one convention.)"""
    if value is None:
        return None
    return _utc(value).replace(tzinfo=None).isoformat() + "Z"


def iso_zoned(value: dt.datetime | None, tz: str | zoneinfo.ZoneInfo | None = None) -> str | None:
    """``2025-12-18T09:00:00+09:00``: a fire time, in its job's zone, whole seconds."""
    if value is None:
        return None
    if tz is not None and value.tzinfo is not tz:  # fire times from the cron engine already are
        value = value.astimezone(zoneinfo.ZoneInfo(tz) if isinstance(tz, str) else tz)
    if value.microsecond:
        value = value.replace(microsecond=0)
    return value.isoformat()


def iso_date(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- query-string parsing ------------------------------------------------------------

def query_bool(params, name: str, default: bool = False) -> bool:
    raw = params.get(name)
    if raw is None:
        return default
    flag = bool_word(raw)
    if flag is not None:
        return flag
    raise validation_error(["query", name], "Input should be a valid boolean, unable to interpret input",
                           input=raw, type="bool_parsing")


def query_int(params, name: str, default: int, *, minimum: int | None = None,
              maximum: int | None = None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        number = int(raw)
    except ValueError:
        raise validation_error(["query", name], "Input should be a valid integer, unable to parse string "
                               "as an integer", input=raw, type="int_parsing") from None
    if minimum is not None and number < minimum:
        raise validation_error(["query", name], f"Input should be greater than or equal to {minimum}",
                               input=raw, type="greater_than_equal", ctx={"ge": minimum})
    if maximum is not None and number > maximum:
        raise validation_error(["query", name], f"Input should be less than or equal to {maximum}",
                               input=raw, type="less_than_equal", ctx={"le": maximum})
    return number


# The instants every supported database holds: MariaDB's DATETIME starts at year 1000,
# and Python's datetime (and every database) ends with 9999.
EARLIEST = dt.datetime(1000, 1, 1, tzinfo=UTC)
LATEST = dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


class OutOfRange(ValueError):
    """A well-formed date or date-time outside what the databases hold."""

    MESSAGE = "Dates must lie between 1000-01-01 and 9999-12-31 (UTC)."

    def __init__(self):
        super().__init__(self.MESSAGE)


def in_range(instant: dt.datetime) -> dt.datetime:
    if not EARLIEST <= instant <= LATEST:
        raise OutOfRange
    return instant


def parse_instant(raw: str) -> tuple[dt.datetime, bool]:
    """A ``from``/``to`` value → (UTC instant, was_date_only). ValueError when unparsable,
    :class:`OutOfRange` (a ValueError) when outside what the databases hold.

    ``YYYY-MM-DD`` is that day at 00:00 UTC; otherwise ISO 8601 with ``Z``, fractions
    and offsets allowed; naive values are UTC.
    """
    text = raw.strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        day = dt.date.fromisoformat(text)
        return in_range(dt.datetime(day.year, day.month, day.day, tzinfo=UTC)), True
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(text)
    try:
        return in_range(_utc(parsed)), False
    except OverflowError:  # 9999-12-31T23:00-05:00 is after year 9999 in UTC
        raise OutOfRange from None


def query_range(params, *, from_name: str = "from", to_name: str = "to") -> tuple[dt.datetime | None,
                                                                                   dt.datetime | None]:
    """Inclusive ``from``, exclusive ``to`` (a date-only ``to`` covers its whole day).

    Unparsable or outside what the databases hold → 400 ``Invalid date``;
    ``from >= to`` → 400 ``Invalid date range``.
    """
    bounds: list[dt.datetime | None] = []
    for name in (from_name, to_name):
        raw = params.get(name)
        if raw in (None, ""):
            bounds.append(None)
            continue
        try:
            instant, date_only = parse_instant(raw)
            if name == to_name and date_only:  # the whole day, which must end inside the range
                instant = in_range(instant + dt.timedelta(days=1))
        except (OutOfRange, OverflowError):
            raise bad_request("Invalid date", OutOfRange.MESSAGE) from None
        except (ValueError, TypeError):
            raise bad_request("Invalid date", "Invalid date") from None
        bounds.append(instant)
    start, end = bounds
    if start is not None and end is not None and start >= end:
        raise bad_request("Invalid date range", '"from" must be earlier than "to".')
    return start, end
