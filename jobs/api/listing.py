"""``GET /jobs`` body: every job at once (the contract has no paging), kept fast.

Building 10,000 jobs costs a few hundred milliseconds, while the answer changes
rarely. Each process keeps the last body and serves it again while

- a two-query fingerprint of the tables is unchanged (job count and latest
  ``updated_at``; execution count and latest ``started_at``), and
- no job's ``next_execution_at`` has passed (the body is time-dependent), and
- it is younger than JOB_LIST_CACHE_SECONDS, which bounds staleness from writes
  the fingerprint cannot see (a user deletion nulling ``created_by``, an
  out-of-order execution insert).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from dataclasses import dataclass

import orjson
from django.db.models import Count, Max
from django.utils import timezone

from jobs.api.serializers import JOB_COLUMNS, job_read_dict
from jobs.models import Job, JobExecution
from jobs.selectors import job_list_rows, job_next_execution_at

JOB_LIST_CACHE_SECONDS = 10.0
log = logging.getLogger("cronhub.api")


@dataclass(frozen=True)
class _Cached:
    key: tuple
    body: bytes
    valid_until: dt.datetime


_cache: _Cached | None = None
_lock = threading.Lock()


def _fingerprint() -> tuple:
    jobs = Job.objects.aggregate(n=Count("id"), changed=Max("updated_at"))
    runs = JobExecution.objects.aggregate(n=Count("id"), latest=Max("started_at"))
    return jobs["n"], jobs["changed"], runs["n"], runs["latest"]


def build_job_list(now: dt.datetime) -> tuple[bytes, dt.datetime | None]:
    """The JSON body and the earliest next fire time in it (None when no job will fire)."""
    jobs = []
    earliest: dt.datetime | None = None
    for row in job_list_rows(JOB_COLUMNS):
        upcoming = job_next_execution_at(row, now)
        if upcoming is not None and (earliest is None or upcoming < earliest):
            earliest = upcoming
        jobs.append(job_read_dict(row, next_execution_at=upcoming, in_list=True))
    try:
        return orjson.dumps({"count": len(jobs), "jobs": jobs}), earliest
    except orjson.JSONEncodeError:  # a job stored before the input limits: encode job by job
        parts = b",".join(_encode_job(job) for job in jobs)
        return b'{"count":%d,"jobs":[%s]}' % (len(jobs), parts), earliest


def _encode_job(job: dict) -> bytes:
    """One job of the list, whatever its metadata holds.

    Input is refused beyond orjson's limits (``cronhub.values.json_loads``), but
    rows written before those limits, or by hand, may hold integers beyond 64 bits
    or deeper nesting: the standard encoder writes those; metadata even it cannot
    write (NaN, nesting beyond the recursion limit) is served as ``null`` and logged,
    so one job never takes the list down for everyone.
    """
    try:
        return orjson.dumps(job)
    except orjson.JSONEncodeError:
        pass
    try:
        return json.dumps(job, allow_nan=False, separators=(",", ":")).encode()
    except (ValueError, TypeError, RecursionError):
        log.warning("Job %s: its metadata cannot be written as JSON; listed as null", job.get("id"))
        return orjson.dumps({**job, "metadata": None})


def job_list_json(now: dt.datetime | None = None) -> bytes:
    global _cache
    now = now or timezone.now()
    key = _fingerprint()
    cached = _cache
    if cached is not None and cached.key == key and now < cached.valid_until:
        return cached.body
    body, earliest = build_job_list(now)
    valid_until = now + dt.timedelta(seconds=JOB_LIST_CACHE_SECONDS)
    if earliest is not None and earliest < valid_until:
        valid_until = earliest
    with _lock:
        _cache = _Cached(key, body, valid_until)
    return body


def forget() -> None:
    """Drop the cached body (tests, and writes made in this process)."""
    global _cache
    with _lock:
        _cache = None

