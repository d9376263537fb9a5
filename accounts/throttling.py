"""Login throttling: too many failed logins for one username or from one address → 429.

Failures are counted in Django's cache in a fixed window of the configured rate
(``LOGIN_THROTTLE_RATE``, e.g. ``10/min``); a successful login clears the
username's counter (not the address's, so one address cannot try many accounts).
The default cache (CACHE_URL, a file cache) is shared by every web process on a
host; several hosts need a shared cache such as Redis.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from cronhub.errors import Throttled

_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
            "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"10/min"`` → (10, 60)."""
    try:
        count, period = rate.split("/")
        seconds = _PERIODS[period.strip().lower()]
        number = int(count)
    except (ValueError, KeyError):
        raise ImproperlyConfigured(
            f"LOGIN_THROTTLE_RATE: expected N/s, N/min, N/hour or N/day, got {rate!r}"
        ) from None
    if number < 1:
        raise ImproperlyConfigured(f"LOGIN_THROTTLE_RATE: the count must be at least 1, got {rate!r}")
    return number, seconds


def _keys(username: str, address: str) -> list[str]:
    def key(kind: str, value: str) -> str:
        return f"login-failures:{kind}:{hashlib.sha256(value.encode()).hexdigest()}"

    keys = [key("address", address or "unknown")]
    if username:
        keys.append(key("username", username.strip().lower()))
    return keys


def _counters(username: str, address: str):
    """(key, entry, limit, period, now) per counter, nothing when throttling is off;
    an entry is (failures, window start) or None."""
    if not settings.LOGIN_THROTTLE_ENABLED:
        return
    limit, period = parse_rate(settings.LOGIN_THROTTLE_RATE)
    now = time.time()
    for key in _keys(username, address):
        yield key, cache.get(key), limit, period, now


def _seconds_left(window_start: float, period: int, now: float) -> int:
    return max(1, int(window_start + period - now))


def login_throttle_check(*, username: str, address: str) -> None:
    """429 when the username or the address has used up its failures in this window."""
    for _, entry, limit, period, now in _counters(username, address):
        if entry and entry[0] >= limit:
            wait = _seconds_left(entry[1], period, now)
            message = f"Too many failed login attempts. Try again in {wait} seconds."
            # ``detail`` repeats the message for clients that read DRF's throttle key.
            raise Throttled("Too many login attempts", message, retry_after=wait, detail=message)


def login_failure_record(*, username: str, address: str) -> None:
    for key, entry, _, period, now in _counters(username, address):
        if entry is None or entry[1] + period <= now:
            entry = (0, now)
        cache.set(key, (entry[0] + 1, entry[1]), timeout=_seconds_left(entry[1], period, now))


def login_success_record(*, username: str) -> None:
    if settings.LOGIN_THROTTLE_ENABLED and username:
        cache.delete(_keys(username, "")[1])
