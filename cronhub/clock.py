"""One clock for every page: instants in the viewer's zone, spelled one way.

``accounts.middleware.UserLocaleMiddleware`` activates the viewer's zone for each
request (their UI preference, else the scheduler zone). Django's own rendering of
date-times (admin fields, ``{{ value }}``, ``|date``) uses :data:`DATETIME_FORMAT`
through the format modules in ``cronhub/formats/``; code that builds text itself
calls :func:`show`. Either way: ``2026-12-02 10:00:00 JST``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.utils import dateformat, timezone

# Django date-format characters: ISO date, 24-hour time, the zone's abbreviation
# (or its offset, "+07", where the zone has none).
DATETIME_FORMAT = "Y-m-d H:i:s T"
DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
EMPTY = "—"


def scheduler_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.SCHEDULER_TIMEZONE)


def viewer_zone() -> dt.tzinfo:
    """The zone this request shows times in (the middleware activates it); the scheduler zone
    where none is active (outside a request), rather than Django's TIME_ZONE (UTC)."""
    # Django keeps the activated zone here; get_current_timezone() would answer TIME_ZONE when none is.
    active = getattr(timezone._active, "value", None)
    return active or scheduler_zone()


def localtime(moment: dt.datetime, zone: dt.tzinfo | None = None) -> dt.datetime:
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone or viewer_zone())


def show(moment: dt.datetime | None, zone: dt.tzinfo | None = None, *, fmt: str = DATETIME_FORMAT) -> str:
    """``moment`` in ``zone`` (default: the viewer's) as ``2026-12-02 10:00:00 JST``."""
    if moment is None:
        return EMPTY
    return dateformat.format(localtime(moment, zone), fmt)
