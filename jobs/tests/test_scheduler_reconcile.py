"""Reconciliation: the database is the truth; only differences are applied."""

import datetime as dt

import pytest
from django.utils import timezone

from cronhub.testing.factories import JobFactory
from jobs.models import Job
from jobs.scheduler.engine import Engine, Entry, group_id
from jobs.scheduler.reconcile import Desired, Fingerprint, Reconciler, desired_state, diff

TODAY = dt.date(2025, 6, 15)
RESYNC_KEYS = {
    "message", "ran_at", "db_jobs_total", "db_jobs_active", "scheduled_now", "scheduled_added",
    "scheduled_removed", "expired_auto_paused", "orphaned_removed", "invalid_cron",
}


def row(job_id, *, cron="0 3 * * *", zone="Asia/Tokyo", active=True, end=None, name=None):
    return (job_id, name or f"job {job_id}", cron, zone, active, end)


def test_only_active_unexpired_jobs_with_a_valid_cron_are_wanted():
    desired = desired_state([
        row("a"),
        row("paused", active=False),
        row("expired", end=TODAY - dt.timedelta(days=1)),
        row("ends-today", end=TODAY),
        row("broken", cron="61 * * * *"),
    ], today=TODAY)

    assert set(desired.entries) == {"a", "ends-today"}
    assert desired.job_ids == {"a", "paused", "expired", "ends-today", "broken"}
    assert desired.active == 3  # a, ends-today, broken
    assert desired.invalid_cron == 1


def test_the_diff_touches_only_what_changed():
    current = {
        "same": Entry("same", "Same", "0 3 * * *", "UTC"),
        "new-cron": Entry("new-cron", "New cron", "0 3 * * *", "UTC"),
        "new-zone": Entry("new-zone", "New zone", "0 3 * * *", "UTC"),
        "renamed": Entry("renamed", "Old name", "0 3 * * *", "UTC"),
        "paused": Entry("paused", "Paused", "0 3 * * *", "UTC"),
        "deleted": Entry("deleted", "Deleted", "0 3 * * *", "UTC"),
    }
    desired = Desired(
        entries={
            "same": Entry("same", "Same", "0 3 * * *", "UTC"),
            "new-cron": Entry("new-cron", "New cron", "*/5 * * * *", "UTC"),
            "new-zone": Entry("new-zone", "New zone", "0 3 * * *", "Asia/Tokyo"),
            "renamed": Entry("renamed", "New name", "0 3 * * *", "UTC"),
            "added": Entry("added", "Added", "0 4 * * *", "UTC"),
        },
        job_ids={"same", "new-cron", "new-zone", "renamed", "added", "paused"},
    )
    plan = diff(current, desired)

    assert [e.job_id for e in plan.add] == ["added"]
    assert sorted(e.job_id for e in plan.replace) == ["new-cron", "new-zone"]
    assert [e.job_id for e in plan.rename] == ["renamed"]
    assert plan.unschedule == ["paused"]
    assert plan.orphans == ["deleted"]
    assert diff(desired.entries, desired).empty


@pytest.fixture
def engine():
    engine = Engine(max_workers=2)
    engine.start()  # paused: nothing fires during these tests
    yield engine
    engine.shutdown()


def next_run(engine, job):
    return engine.next_fire_time(str(job.pk))


def entry_of(engine, job):
    """The APScheduler entry firing ``job`` (one per cron signature)."""
    return engine.scheduler.get_job(group_id(engine.entries[str(job.pk)].signature))


@pytest.mark.django_db
def test_a_full_pass_schedules_active_jobs_and_reports_the_resync_summary(engine):
    active = JobFactory(cron_expression="0 9 * * 1-5")
    JobFactory(is_active=False)
    expired = JobFactory(end_date=timezone.localdate() - dt.timedelta(days=3))
    Job.objects.filter(pk=JobFactory().pk).update(cron_expression="0 0 31 2 *")  # stored before validation

    result = Reconciler(engine, extra_entries=4).full_pass()

    assert set(result) == RESYNC_KEYS
    assert result["message"] == "Scheduler resync completed"
    assert result["ran_at"].endswith("Z")
    assert result["db_jobs_total"] == 4
    assert result["expired_auto_paused"] == 1
    assert result["db_jobs_active"] == 2  # the active one and the broken one
    assert result["scheduled_added"] == 1
    assert result["invalid_cron"] == 1
    assert result["scheduled_now"] == 1 + 4  # job entries + internal maintenance entries
    assert set(engine.entries) == {str(active.pk)}
    expired.refresh_from_db()
    assert expired.is_active is False


@pytest.mark.django_db
def test_a_pass_without_changes_leaves_every_next_run_time_alone(engine):
    jobs = [JobFactory(cron_expression="*/5 * * * *") for _ in range(3)]
    reconciler = Reconciler(engine)
    reconciler.full_pass()
    before = {job.pk: next_run(engine, job) for job in jobs}

    result = reconciler.full_pass(now=timezone.now() + dt.timedelta(minutes=7))

    assert (result["scheduled_added"], result["scheduled_removed"], result["orphaned_removed"]) == (0, 0, 0)
    assert {job.pk: next_run(engine, job) for job in jobs} == before


@pytest.mark.django_db
def test_an_edited_cron_replaces_that_entry_only(engine):
    edited, untouched = JobFactory(cron_expression="0 3 * * *"), JobFactory(cron_expression="0 3 * * *")
    reconciler = Reconciler(engine)
    reconciler.full_pass()
    untouched_next = next_run(engine, untouched)

    edited.cron_expression = "0 4 * * *"
    edited.save()
    assert reconciler.changed()
    reconciler.full_pass()

    assert engine.entries[str(edited.pk)].expression == "0 4 * * *"
    assert next_run(engine, edited).astimezone(edited.zone).hour == 4
    assert next_run(engine, untouched) == untouched_next
    assert not reconciler.changed()


@pytest.mark.django_db
def test_a_rename_keeps_the_next_run_time(engine):
    job = JobFactory(cron_expression="0 3 * * *")
    reconciler = Reconciler(engine)
    reconciler.full_pass()
    before = next_run(engine, job)

    job.name = "Renamed job"
    job.save()
    reconciler.full_pass()

    assert engine.entries[str(job.pk)].name == "Renamed job"
    assert [run["name"] for run in engine.next_runs()] == ["Renamed job"]
    assert next_run(engine, job) == before


@pytest.mark.django_db
def test_paused_jobs_are_unscheduled_and_deleted_jobs_removed_as_orphans(engine):
    paused, deleted, kept = JobFactory(), JobFactory(), JobFactory()
    reconciler = Reconciler(engine)
    reconciler.full_pass()

    paused.is_active = False
    paused.save()
    deleted_id = str(deleted.pk)
    deleted.delete()
    assert reconciler.changed()
    result = reconciler.full_pass()

    assert result["scheduled_removed"] == 1
    assert result["orphaned_removed"] == 1
    assert set(engine.entries) == {str(kept.pk)}
    assert deleted_id not in engine.entries
    assert all(deleted_id not in members for members in engine.groups.values())


@pytest.mark.django_db
def test_a_pass_never_swallows_an_entry_that_is_due_right_now(engine):
    job = JobFactory(cron_expression="0 3 * * *")
    reconciler = Reconciler(engine)
    reconciler.full_pass()
    due = timezone.now() - dt.timedelta(seconds=1)
    entry_of(engine, job).modify(next_run_time=due)  # due, not yet picked up

    job.cron_expression = "0 4 * * *"
    job.save()
    reconciler.full_pass()

    assert next_run(engine, job) == due  # the due fire still happens first...
    assert reconciler.pending and reconciler.changed()  # ...and the edit is applied on the next tick
    entry_of(engine, job).modify(next_run_time=timezone.now() + dt.timedelta(hours=1))
    reconciler.full_pass()
    assert engine.entries[str(job.pk)].expression == "0 4 * * *"
    assert not reconciler.pending


@pytest.mark.django_db
def test_the_change_check_notices_creates_edits_and_deletes():
    job = JobFactory()
    seen = Fingerprint.read()
    assert Fingerprint.read() == seen

    job.cron_expression = "0 5 * * *"
    job.save()
    edited = Fingerprint.read()
    assert edited != seen

    other = JobFactory()
    created = Fingerprint.read()
    assert created != edited

    other.delete()
    assert Fingerprint.read() != created


@pytest.mark.django_db
def test_jobs_sharing_a_cron_signature_share_one_entry_that_follows_their_edits(engine):
    jobs = [JobFactory(cron_expression="0 10 * * 1-5", timezone="Asia/Tokyo") for _ in range(3)]
    other_zone = JobFactory(cron_expression="0 10 * * 1-5", timezone="UTC")
    reconciler = Reconciler(engine)
    reconciler.full_pass()
    assert len(engine.scheduler.get_jobs()) == 2
    assert engine.members(group_id(("0 10 * * 1-5", "Asia/Tokyo"))) and sorted(
        engine.members(group_id(("0 10 * * 1-5", "Asia/Tokyo")))) == sorted(str(j.pk) for j in jobs)

    jobs[0].cron_expression = "0 11 * * 1-5"
    jobs[0].save()
    jobs[1].delete()
    reconciler.full_pass()
    assert engine.members(group_id(("0 10 * * 1-5", "Asia/Tokyo"))) == [str(jobs[2].pk)]
    assert engine.members(group_id(("0 11 * * 1-5", "Asia/Tokyo"))) == [str(jobs[0].pk)]
    assert next_run(engine, jobs[0]) != next_run(engine, jobs[2])

    jobs[2].is_active = False
    jobs[2].save()
    reconciler.full_pass()
    assert engine.scheduler.get_job(group_id(("0 10 * * 1-5", "Asia/Tokyo"))) is None  # emptied: gone
    assert set(engine.entries) == {str(jobs[0].pk), str(other_zone.pk)}
