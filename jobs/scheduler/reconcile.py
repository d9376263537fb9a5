"""Reconciliation: the database is the truth, the engine follows it.

A full pass reads every job (id, name, cron, zone, active, end date), works out
which should be scheduled, and applies only the differences: new entries are
added, entries whose cron or zone changed are replaced, renamed ones renamed,
and the rest are left alone, so their next fire time is untouched (re-adding
everything every pass could swallow a run due at that moment).
Expired jobs are auto-paused first, through the one auto-pause service, and
not silently: passes run every minute, so a
silent pause here would always beat the notifying end-date maintenance to it
and nobody would ever hear that their job stopped. The service's pause is a
conditional UPDATE, so each job is paused, and announced, once.

Between passes ``Fingerprint`` is a cheap query (job count + newest
``updated_at``) run about once a second; when it moves, a pass runs, so an edit
made through the API or the admin takes effect within about two seconds.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

from django.db.models import Max
from django.utils import timezone

from cronhub.timestamps import utc_rfc3339_micro
from jobs import cron, services
from jobs.models import Job, scheduler_today
from jobs.scheduler import metrics
from jobs.scheduler.engine import Engine, Entry
from jobs.scheduler.trigger import CronHubTrigger

log = logging.getLogger("cronhub.scheduler.reconcile")


@dataclass
class Desired:
    entries: dict[str, Entry] = field(default_factory=dict)
    job_ids: set[str] = field(default_factory=set)
    active: int = 0
    invalid_cron: int = 0


def desired_state(rows, *, today: dt.date, known: dict[str, Entry] | None = None) -> Desired:
    """Which entries should exist, from ``(id, name, cron, zone, is_active, end_date)`` rows.

    ``known`` entries (already scheduled, so already valid) are not parsed again.
    """
    known = known or {}
    desired = Desired()
    for job_id, name, expression, zone, is_active, end_date in rows:
        desired.job_ids.add(job_id)
        if not is_active or (end_date is not None and end_date < today):
            continue
        desired.active += 1
        scheduled = known.get(job_id)
        unchanged = scheduled is not None and scheduled.signature == (expression, zone)
        if not unchanged and cron.validate(expression) is not None:
            desired.invalid_cron += 1
            continue
        desired.entries[job_id] = Entry(job_id=job_id, name=name, expression=expression, timezone=zone)
    return desired


@dataclass
class Plan:
    add: list[Entry] = field(default_factory=list)
    replace: list[Entry] = field(default_factory=list)
    rename: list[Entry] = field(default_factory=list)
    unschedule: list[str] = field(default_factory=list)  # the job exists but should not run
    orphans: list[str] = field(default_factory=list)  # the job is gone

    @property
    def empty(self) -> bool:
        return not (self.add or self.replace or self.rename or self.unschedule or self.orphans)


def diff(current: dict[str, Entry], desired: Desired) -> Plan:
    plan = Plan()
    for job_id, entry in desired.entries.items():
        existing = current.get(job_id)
        if existing is None:
            plan.add.append(entry)
        elif existing.signature != entry.signature:
            plan.replace.append(entry)
        elif existing.name != entry.name:
            plan.rename.append(entry)
    for job_id in current:
        if job_id in desired.entries:
            continue
        (plan.unschedule if job_id in desired.job_ids else plan.orphans).append(job_id)
    return plan


@dataclass(frozen=True)
class Fingerprint:
    count: int
    latest: dt.datetime | None

    @classmethod
    def read(cls) -> Fingerprint:
        """Read every second: two queries each cheap alone (``COUNT(*)``, which SQLite answers
        from the tree's page counts, and the latest ``updated_at`` from ``ix_jobs_updated_at``),
        where one query asking both read every job row. A change landing between the two reads
        only makes the next read differ too: one more pass, never a change missed."""
        return cls(Job.objects.count(), Job.objects.aggregate(latest=Max("updated_at"))["latest"])


class Reconciler:
    def __init__(self, engine: Engine, *, extra_entries: int = 0):
        self.engine = engine
        self.extra_entries = extra_entries  # internal maintenance entries, counted in scheduled_now
        self.fingerprint: Fingerprint | None = None
        self.last_pass_at: dt.datetime | None = None
        self.pending = False  # a due entry deferred a replacement: look again next tick

    def changed(self) -> bool:
        return self.pending or Fingerprint.read() != self.fingerprint

    def full_pass(self, *, now: dt.datetime | None = None) -> dict:
        """One reconciliation pass; returns the summary ``POST /scheduler/resync`` answers with."""
        began = time.monotonic()
        now = now or timezone.now()
        today = scheduler_today(now)
        fingerprint = Fingerprint.read()
        paused = services.jobs_auto_pause_expired(today=today, silent=False)
        if paused:
            fingerprint = Fingerprint.read()
            log.info("auto-paused %d expired job(s): %s", len(paused), ", ".join(str(j.pk) for j in paused))
        rows = Job.objects.values_list("id", "name", "cron_expression", "timezone", "is_active", "end_date")
        desired = desired_state(rows.iterator(chunk_size=2000), today=today, known=self.engine.entries)
        plan = diff(self.engine.entries, desired)
        added = replaced = removed = orphaned = invalid = 0
        self.pending = False
        triggers: dict[tuple[str, str], CronHubTrigger | None] = {}  # parsed once per signature
        for entry in plan.add:
            result = self._apply(entry, self.engine.add, now, triggers)
            if result is None:
                self.pending = True
            elif result:
                added += 1
            else:
                invalid += 1
        for entry in plan.replace:
            result = self._apply(entry, self.engine.replace, now, triggers)
            if result is None:
                self.pending = True
            elif result:
                replaced += 1
            else:
                invalid += 1
        for entry in plan.rename:
            self.engine.rename(entry)
        for job_id in plan.unschedule:
            self.engine.remove(job_id)
            removed += 1
        for job_id in plan.orphans:
            self.engine.remove(job_id)
            orphaned += 1
        self.fingerprint = fingerprint
        self.last_pass_at = now
        elapsed = time.monotonic() - began
        metrics.RECONCILE_DURATION.observe(elapsed)
        metrics.SCHEDULED_JOBS.set(len(self.engine.entries))
        if not plan.empty:
            log.info("reconcile: +%d added, ~%d replaced, -%d unscheduled, -%d orphaned, %d invalid cron "
                     "(%d scheduled, %.3f s)", added, replaced, removed, orphaned,
                     desired.invalid_cron + invalid, len(self.engine.entries), elapsed)
        return {
            "message": "Scheduler resync completed",
            "ran_at": utc_rfc3339_micro(now),
            "db_jobs_total": len(desired.job_ids),
            "db_jobs_active": desired.active,
            "scheduled_now": len(self.engine.entries) + self.extra_entries,
            "scheduled_added": added,
            "scheduled_removed": removed,
            "expired_auto_paused": len(paused),
            "orphaned_removed": orphaned,
            "invalid_cron": desired.invalid_cron + invalid,
        }

    @staticmethod
    def _apply(entry: Entry, action, now, triggers: dict):
        if entry.signature not in triggers:
            try:
                triggers[entry.signature] = CronHubTrigger(entry.expression, entry.timezone)
            except (cron.CronError, ValueError, KeyError) as exc:
                log.warning("job %s not scheduled: %s", entry.job_id, exc)
                triggers[entry.signature] = None
        trigger = triggers[entry.signature]
        if trigger is None:
            return False
        return action(entry, trigger, now=now)
