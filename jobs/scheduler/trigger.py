"""An APScheduler 3 trigger whose fire times come from ``jobs.cron``.

APScheduler's own ``CronTrigger.from_crontab`` reads crontab differently from
classic cron (0 = Monday, no 7, day fields ANDed, an hour late in DST gaps), so
every fire time the scheduler uses comes from the same place as the API preview
and the admin: ``jobs.cron``, backed by cronsim.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from apscheduler.triggers.base import BaseTrigger

from jobs import cron

_ONE_MICROSECOND = dt.timedelta(microseconds=1)


class CronHubTrigger(BaseTrigger):
    """Fires on the wall clock of ``timezone`` whenever ``expression`` matches.

    Picklable (only the expression and zone name are stored), so it can live in
    django-apscheduler's ``DjangoJobStore``.
    """

    __slots__ = ("expression", "timezone", "_schedule", "_zone")

    def __init__(self, expression: str, timezone: str):
        self.expression = expression
        self.timezone = timezone
        self._schedule = cron.parse(expression)  # raises cron.CronError with a readable message
        self._zone = zoneinfo.ZoneInfo(timezone)

    def get_next_fire_time(self, previous_fire_time, now):
        # APScheduler's contract: without a previous fire time, the first one at or
        # after `now` (jobs.cron lists fire times strictly after an instant, hence
        # the 1 µs step back); after a fire, the next one strictly after it, even if
        # that is in the past: that is how APScheduler sees the fire times it missed.
        if previous_fire_time is None:
            return self.next_after(now - _ONE_MICROSECOND)
        return self.next_after(previous_fire_time)

    def next_after(self, instant: dt.datetime) -> dt.datetime | None:
        """The first fire time strictly after ``instant``, as an aware UTC datetime."""
        fire = self._schedule.next_fire_time(self._zone, instant)
        return fire.astimezone(dt.UTC) if fire is not None else None

    def fire_times_between(self, after: dt.datetime, until: dt.datetime, *, limit: int) -> list[dt.datetime]:
        """Fire times in ``(after, until]``, oldest first, at most ``limit`` of them."""
        times: list[dt.datetime] = []
        cursor = after
        while len(times) < limit:
            fire = self.next_after(cursor)
            if fire is None or fire > until:
                break
            times.append(fire)
            cursor = fire
        return times

    def __getstate__(self):
        return {"version": 1, "expression": self.expression, "timezone": self.timezone}

    def __setstate__(self, state):
        if state.get("version") != 1:
            raise ValueError(f"Cannot restore CronHubTrigger state version {state.get('version')!r}")
        self.__init__(state["expression"], state["timezone"])

    def __eq__(self, other):
        return (
            isinstance(other, CronHubTrigger)
            and (self.expression, self.timezone) == (other.expression, other.timezone)
        )

    def __hash__(self):
        return hash((self.expression, self.timezone))

    def __str__(self):
        return f"cron[{self.expression}] ({self.timezone})"

    def __repr__(self):
        return f"<CronHubTrigger {self.expression!r} tz={self.timezone!r}>"
