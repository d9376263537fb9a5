"""GitHub's rate limits per token, as one budget every process draws from.

GitHub limits each token twice: the *primary* limit (``x-ratelimit-remaining`` /
``x-ratelimit-reset`` on every answer) and the *secondary* limit on
content-creating requests (a ``workflow_dispatch`` is one): by default at most
``GITHUB_SECONDARY_PER_MINUTE`` (80) a minute and ``GITHUB_SECONDARY_PER_HOUR``
(500) an hour, per API host overridable with ``GITHUB_RATE_LIMITS``.

The budget is a database row per (API host, SHA-256 of the token), taken with
``SELECT … FOR UPDATE`` (an IMMEDIATE transaction on SQLite), so the scheduler
and every web process ("run now") share it:

- :func:`acquire` before a request: granted (and counted), or refused with the
  moment it may be asked again. Nobody sleeps here; callers defer the work.
- :func:`observe` after every answer: records the primary limit, and a
  rate-limit answer (403/429 with ``retry-after``, or ``x-ratelimit-remaining: 0``
  with ``x-ratelimit-reset``) blocks the token until then; returns that moment.
- :func:`charge` counts a request made without asking (a workflow-name fallback
  of a dispatch already granted).

The secondary windows slide: a request is granted only while fewer than the
limit were granted in the last window plus a small margin (``window / 60``) that
covers the time between the grant and the request reaching GitHub.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.models import GitHubRateBudget

READ, WRITE = "read", "write"


@dataclass(frozen=True)
class Grant:
    granted: bool
    wait_until: dt.datetime | None = None  # when refused: ask again at (or after) this moment
    reason: str = ""  # when refused: which limit


@dataclass(frozen=True)
class Limits:
    per_minute: int
    per_hour: int
    minute_window: float
    hour_window: float


def api_host(api_url: str | None = None) -> str:
    return (urlsplit(api_url or settings.GITHUB_API_URL).netloc or "api.github.com").lower()


def limits(host: str) -> Limits:
    per_minute, per_hour = settings.GITHUB_RATE_LIMITS.get(
        host, (settings.GITHUB_SECONDARY_PER_MINUTE, settings.GITHUB_SECONDARY_PER_HOUR))
    minute_window, hour_window = settings.GITHUB_RATE_WINDOWS
    return Limits(per_minute, per_hour, float(minute_window), float(hour_window))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _ensure(host: str, token: str) -> None:
    """Create the budget row on first use, in a transaction of its own: locking a row that does
    not exist yet would take gap locks on MariaDB, and two creators would deadlock."""
    digest = token_hash(token)
    if not GitHubRateBudget.objects.filter(host=host, token_hash=digest).exists():
        try:
            with transaction.atomic():
                GitHubRateBudget.objects.create(host=host, token_hash=digest)
        except IntegrityError:  # another process created it meanwhile
            pass


def _row(host: str, token: str) -> GitHubRateBudget:
    """The budget row, locked until the end of the caller's transaction (``_ensure`` made it)."""
    return GitHubRateBudget.objects.select_for_update().get(host=host, token_hash=token_hash(token))


def _at(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


def acquire(*, token: str, kind: str = WRITE, host: str | None = None,
            now: dt.datetime | None = None) -> Grant:
    """Take one request from the token's budget, or say when to ask again.

    ``kind="write"`` (content-creating: a dispatch) counts against the secondary
    limits too; ``kind="read"`` (a run lookup) only against the primary one.
    """
    host = host or api_host()
    bounds = limits(host)
    _ensure(host, token)
    with transaction.atomic():
        row = _row(host, token)
        now = now or timezone.now()
        stamp = now.timestamp()
        waits: list[tuple[dt.datetime, str]] = []
        if row.blocked_until and row.blocked_until > now:
            waits.append((row.blocked_until, "GitHub asked to wait (rate limit answer)"))
        if row.remaining is not None and row.remaining <= 0 and row.reset_at and row.reset_at > now:
            waits.append((row.reset_at, "primary rate limit exhausted until its reset"))
        horizon = bounds.hour_window * (1 + 1 / 60)
        times = sorted(t for t in (row.write_times or []) if t > stamp - horizon)
        if kind == WRITE:
            for limit, window, name in ((bounds.per_minute, bounds.minute_window, "per-minute"),
                                        (bounds.per_hour, bounds.hour_window, "per-hour")):
                span = window * (1 + 1 / 60)
                inside = [t for t in times if t > stamp - span]
                if len(inside) >= limit:
                    frees = inside[len(inside) - limit] + span
                    waits.append((_at(frees), f"secondary rate limit ({limit} {name}) reached"))
        if waits:
            until, reason = max(waits)
            if times != row.write_times:
                row.write_times = times
                row.save(update_fields=["write_times", "updated_at"])
            return Grant(False, until, reason)
        if kind == WRITE:
            times.append(stamp)
        if row.remaining is not None:
            row.remaining -= 1
        row.write_times = times
        row.save(update_fields=["write_times", "remaining", "updated_at"])
        return Grant(True)


def charge(*, token: str, kind: str = WRITE, host: str | None = None) -> None:
    """Count a request made without asking (it went out with an earlier grant)."""
    host = host or api_host()
    _ensure(host, token)
    with transaction.atomic():
        row = _row(host, token)
        if kind == WRITE:
            row.write_times = [*(row.write_times or []), timezone.now().timestamp()]
        if row.remaining is not None:
            row.remaining -= 1
        row.save(update_fields=["write_times", "remaining", "updated_at"])


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None and value.strip() != "" else None
    except ValueError:
        return None


def retry_after(headers: Mapping[str, str], *, now: dt.datetime) -> dt.datetime | None:
    """``retry-after`` (seconds or an HTTP date) as a moment, or None."""
    value = {k.lower(): v for k, v in headers.items()}.get("retry-after")
    seconds = _number(value)
    if seconds is not None:
        return now + dt.timedelta(seconds=max(0.0, seconds))
    if value:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return None


def rate_limited_until(status: int | None, headers: Mapping[str, str], body: str = "", *,
                       now: dt.datetime) -> dt.datetime | None:
    """When an answer is a rate-limit refusal, the moment GitHub allows the next request; else None.

    A 429, or a 403 that says so (``retry-after``, ``x-ratelimit-remaining: 0`` or
    "rate limit" in its message). Without a usable time, a minute from now.
    """
    if status not in (403, 429):
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    exhausted = lowered.get("x-ratelimit-remaining") == "0"
    after = retry_after(lowered, now=now)
    if status == 403 and not (after or exhausted or "rate limit" in (body or "").lower()):
        return None
    if after is not None:
        return after
    reset = _number(lowered.get("x-ratelimit-reset"))
    if exhausted and reset is not None:
        return max(now, _at(reset))
    return now + dt.timedelta(seconds=60)


def observe(*, token: str, status: int | None, headers: Mapping[str, str], body: str = "",
            host: str | None = None, now: dt.datetime | None = None) -> dt.datetime | None:
    """Record what an answer says about the token's limits; returns the moment a rate-limit
    refusal asks to wait until (None for any other answer)."""
    host = host or api_host()
    now = now or timezone.now()
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    remaining = _number(lowered.get("x-ratelimit-remaining"))
    reset = _number(lowered.get("x-ratelimit-reset"))
    until = rate_limited_until(status, lowered, body, now=now)
    if remaining is None and until is None:
        return None
    _ensure(host, token)
    with transaction.atomic():
        row = _row(host, token)
        fields = ["updated_at"]
        if remaining is not None:
            row.remaining = int(remaining)
            row.reset_at = _at(reset) if reset is not None else None
            fields += ["remaining", "reset_at"]
        if until is not None and (row.blocked_until is None or row.blocked_until < until):
            row.blocked_until = until
            fields.append("blocked_until")
        row.save(update_fields=fields)
    return until
