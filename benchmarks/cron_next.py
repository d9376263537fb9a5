"""Cron benchmark: time to compute the next fire time of many varied expressions.

Builds ``--count`` (default 10,000) valid expressions with a fixed seed (values,
ranges, steps, lists, names, macros; both day-field rules), pairs each with a
zone (Tokyo, New York, London, Sydney, UTC) and a start instant in 2024–2026,
then times, for the whole list:

- ``parse_and_next``: ``cron.parse(expr).next_fire_time(zone, start)`` with the
  parse cache cleared first (what a first preview or a scheduler start pays);
- ``next_only``: ``next_fire_time`` on already parsed schedules (what the
  scheduler pays after each fire);
- ``next_five``: ``next_fire_times(zone, start, 5)`` (the API preview).

Runs against whichever ``jobs/cron.py`` the working directory holds, so the same
script measures two revisions: ``cd OTHER_CHECKOUT && python PATH/TO/cron_next.py``.
Prints JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import time
from zoneinfo import ZoneInfo

sys.path.insert(0, os.getcwd())

from jobs import cron  # noqa: E402

ZONES = [ZoneInfo(name) for name in ("Asia/Tokyo", "America/New_York", "Europe/London",
                                     "Australia/Sydney", "UTC")]
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
MACROS = ["@hourly", "@daily", "@weekly", "@monthly", "@yearly"]


def _field(rng: random.Random, low: int, high: int, names: list[str] | None = None) -> str:
    roll = rng.random()
    if roll < 0.35:
        return "*"
    if roll < 0.5:
        return f"*/{rng.randint(2, max(2, (high - low) // 2))}"

    def value(number: int) -> str:
        if names and rng.random() < 0.4 and number - (low if low == 0 else 1) < len(names):
            return names[number - (0 if low == 0 else 1)]
        return str(number)

    items = []
    for _ in range(rng.randint(1, 3)):
        start = rng.randint(low, high - 1)
        end = rng.randint(start + 1, high)
        kind = rng.random()
        if kind < 0.5:
            items.append(value(start))
        elif kind < 0.8:
            items.append(f"{value(start)}-{value(end)}")
        else:
            items.append(f"{start}-{end}/{rng.randint(2, 5)}")
    return ",".join(items)


def expressions(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < count:
        if rng.random() < 0.03:
            out.append(rng.choice(MACROS))
            continue
        expression = " ".join([
            _field(rng, 0, 59), _field(rng, 0, 23), _field(rng, 1, 31),
            _field(rng, 1, 12, MONTHS), _field(rng, 0, 6, DAYS),
        ])
        if cron.validate(expression) is None:
            out.append(expression)
    return out


def _clear_cache() -> None:
    cache_clear = getattr(cron._parse, "cache_clear", None)
    if cache_clear:
        cache_clear()


def _timed(func, repeat: int) -> list[float]:
    seconds = []
    for _ in range(repeat):
        began = time.perf_counter()
        func()
        seconds.append(time.perf_counter() - began)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20251202)
    args = parser.parse_args()

    exprs = expressions(args.count, args.seed)
    rng = random.Random(args.seed + 1)
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    cases = [(expr, rng.choice(ZONES), base + dt.timedelta(seconds=rng.randint(0, 3 * 365 * 86400)))
             for expr in exprs]

    def parse_and_next():
        _clear_cache()
        for expr, zone, start in cases:
            cron.parse(expr).next_fire_time(zone, start)

    schedules = [(cron.parse(expr), zone, start) for expr, zone, start in cases]

    def next_only():
        for schedule, zone, start in schedules:
            schedule.next_fire_time(zone, start)

    def next_five():
        for schedule, zone, start in schedules:
            schedule.next_fire_times(zone, start, 5)

    results = {}
    measured = (("parse_and_next", parse_and_next), ("next_only", next_only), ("next_five", next_five))
    for name, func in measured:
        runs = _timed(func, args.repeat)
        best = min(runs)
        results[name] = {
            "total_s_best": round(best, 3),
            "total_s_median": round(statistics.median(runs), 3),
            "us_per_expression": round(best / len(cases) * 1e6, 1),
        }
    print(json.dumps({
        "expressions": len(cases),
        "distinct": len(set(exprs)),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "results": results,
    }, indent=2))


if __name__ == "__main__":
    main()
