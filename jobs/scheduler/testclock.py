"""Test-only: run the scheduler process on a shifted clock.

Cron has minute resolution, so a multi-process test would wait up to a minute
for each fire time. Instead the test gives every scheduler process it starts
the same ``CRONHUB_TEST_CLOCK_OFFSET_SECONDS``: the process's wall clock (every
``datetime.now``/``time.time``, so APScheduler, the trigger, the claim rows and
the heartbeat alike) runs that many seconds ahead, chosen so the next minute
boundary is a few seconds away. Nothing else changes: the real trigger, engine,
lock and claim path fire at that boundary. Honoured only with TESTING=true.
"""

from __future__ import annotations

import datetime as dt
import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VARIABLE = "CRONHUB_TEST_CLOCK_OFFSET_SECONDS"


def apply_from_environment():
    raw = os.environ.get(VARIABLE, "").strip()
    if not raw:
        return None
    if not settings.TESTING:
        raise ImproperlyConfigured(f"{VARIABLE}: only honoured with TESTING=true")
    try:
        offset = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{VARIABLE}: expected a number of seconds, got {raw!r}") from None
    import time_machine  # a test dependency (requirements-dev.txt)

    traveller = time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset), tick=True)
    traveller.start()
    return traveller
