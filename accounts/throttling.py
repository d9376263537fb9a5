"""Login throttling, one for the API's logins and the admin's login page.

Policy. Every login attempt is counted twice, in a fixed window of the configured
rate, *before* its password is evaluated:

- per (account, client address): ``LOGIN_THROTTLE_RATE`` (default 10/min). The
  account is the user the identifier names, whether a username or an e-mail was
  typed, in any letter case; an identifier that names nobody is counted under its
  own lowercased text. A successful login clears its pair.
- per client address: ``LOGIN_THROTTLE_ADDRESS_RATE`` (default: the same rate), so
  one address cannot try many accounts. A successful login gives its slot back.

An attempt over either limit is refused (429 on the API, an error on the admin
form) without evaluating the password. No account is ever locked as a whole: an
attacker who exhausts (admin, their address) leaves the admin free to log in from
anywhere else; a distributed guesser gets at most the pair rate per address.

Counting is atomic: both counters live in the database (table
``login_throttle_counters``, shared by every web process and host) and an attempt
takes its slot in one transaction with both rows locked, so concurrent guesses
can never get more than the limit evaluated.

The client address is ``REMOTE_ADDR`` unless ``TRUSTED_PROXY_HEADER`` names the
header a reverse proxy in front of cronhub sets (e.g. ``X-Forwarded-For``);
``TRUSTED_PROXY_COUNT`` is how many proxies append to it, and the address that many
entries from the right is the client (what a client writes itself is further left
and is never trusted). Without a trusted proxy every client behind one would share
an address, and the header must not be trusted when clients can reach cronhub
directly.
"""

from __future__ import annotations

import hashlib
import ipaddress
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F

from accounts.models import LoginThrottleCounter
from cronhub.errors import N_, Throttled

_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
            "d": 86400, "day": 86400}
# Rows whose window ended longer ago than this are deleted as attempts come in.
_STALE_SECONDS = 86400
_ATTEMPTS = 30  # a reservation retried after losing a race (a row created or cleaned up, a deadlock)


def parse_rate(rate: str, name: str = "LOGIN_THROTTLE_RATE") -> tuple[int, int]:
    """``"10/min"`` → (10, 60)."""
    try:
        count, period = rate.split("/")
        seconds = _PERIODS[period.strip().lower()]
        number = int(count)
    except (ValueError, KeyError):
        raise ImproperlyConfigured(f"{name}: expected N/s, N/min, N/hour or N/day, got {rate!r}") from None
    if number < 1:
        raise ImproperlyConfigured(f"{name}: the count must be at least 1, got {rate!r}")
    return number, seconds


def client_address(request) -> str:
    """The client's address: from the trusted proxy header when one is configured, else the peer's."""
    peer = request.META.get("REMOTE_ADDR") or "unknown"
    header = settings.TRUSTED_PROXY_HEADER
    if not header:
        return peer
    value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    if not entries:
        return peer
    count = settings.TRUSTED_PROXY_COUNT
    candidate = entries[-count] if len(entries) >= count else entries[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer


@dataclass(frozen=True)
class _Counter:
    key: str
    limit: int
    period: int


def _key(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


def _counters(account: str, address: str) -> list[_Counter]:
    pair_limit, pair_period = parse_rate(settings.LOGIN_THROTTLE_RATE)
    address_limit, address_period = parse_rate(
        settings.LOGIN_THROTTLE_ADDRESS_RATE or settings.LOGIN_THROTTLE_RATE, "LOGIN_THROTTLE_ADDRESS_RATE")
    address = address or "unknown"
    return [_Counter(_key("pair", f"{account}\n{address}"), pair_limit, pair_period),
            _Counter(_key("address", address), address_limit, address_period)]


def _refusal(wait: int) -> Throttled:
    template = N_("Too many failed login attempts. Try again in %(wait)s seconds.")
    # ``detail`` repeats the message for clients that read DRF's throttle key.
    return Throttled("Too many login attempts", template, params={"wait": wait}, retry_after=wait,
                     detail=template % {"wait": wait})


class _RowMissing(Exception):
    """A counter's row vanished (a concurrent clean-up) between creating and locking it."""


def _take_slots(counters: list[_Counter], now: float) -> int | None:
    """One transaction: lock both rows, and count the attempt in both unless one is full.

    Returns the seconds to wait when refused, None when the attempt may proceed."""
    keys = sorted(counter.key for counter in counters)  # one lock order: no deadlocks
    with transaction.atomic():
        rows = {row.key: row for row in
                LoginThrottleCounter.objects.select_for_update().filter(key__in=keys).order_by("key")}
        if len(rows) != len(keys):
            raise _RowMissing
        waits = []
        for counter in counters:
            row = rows[counter.key]
            if row.window_start + counter.period <= now:
                row.window_start, row.count = now, 0
            if row.count >= counter.limit:
                waits.append(max(1, int(row.window_start + counter.period - now)))
        if waits:
            return max(waits)
        for counter in counters:
            row = rows[counter.key]
            LoginThrottleCounter.objects.filter(key=row.key).update(window_start=row.window_start,
                                                                   count=row.count + 1)
    return None


def login_attempt_begin(*, account: str, address: str) -> None:
    """Count an attempt for (``account``, ``address``) and ``address``; :class:`Throttled`
    when either has used up its window (the attempt is then not counted)."""
    if not settings.LOGIN_THROTTLE_ENABLED:
        return
    counters = _counters(account, address)
    for attempt in range(_ATTEMPTS):
        now = time.time()
        try:
            _ensure_rows(counters, now)
            wait = _take_slots(counters, now)
        except (_RowMissing, IntegrityError):
            continue
        except OperationalError as error:
            if not _is_deadlock(error):
                raise
            time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # MySQL/MariaDB chose this one to undo
            continue
        if wait is not None:
            raise _refusal(wait)
        return
    raise _refusal(1)  # lost every race: refuse rather than let the attempt through uncounted


def _ensure_rows(counters: list[_Counter], now: float) -> None:
    """Create the counters' rows that do not exist yet (and drop long-stale ones meanwhile)."""
    keys = [counter.key for counter in counters]
    existing = set(LoginThrottleCounter.objects.filter(key__in=keys).values_list("key", flat=True))
    missing = [key for key in keys if key not in existing]
    if missing:
        LoginThrottleCounter.objects.filter(window_start__lt=now - _STALE_SECONDS).delete()
        LoginThrottleCounter.objects.bulk_create(
            [LoginThrottleCounter(key=key, window_start=now, count=0) for key in missing],
            ignore_conflicts=True,
        )


def _is_deadlock(error: OperationalError) -> bool:
    text = str(error).lower()
    return "deadlock" in text or "could not serialize" in text


def login_attempt_succeeded(*, account: str, address: str) -> None:
    """The password was right: clear the (account, address) pair and give back the address slot."""
    if not settings.LOGIN_THROTTLE_ENABLED:
        return
    pair, by_address = _counters(account, address)
    LoginThrottleCounter.objects.filter(key=pair.key).update(count=0)
    LoginThrottleCounter.objects.filter(key=by_address.key, count__gt=0).update(count=F("count") - 1)
