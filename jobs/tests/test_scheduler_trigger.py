"""Classic cron fire times, through the APScheduler trigger the scheduler uses."""

import datetime as dt
import json
import pickle
import zoneinfo
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from django_apscheduler.jobstores import DjangoJobStore

from jobs import cron
from jobs.scheduler.engine import newest_fire_times
from jobs.scheduler.trigger import CronHubTrigger

EXAMPLES = Path(__file__).resolve().parent / "fixtures" / "cron_examples.json"
UTC = dt.UTC
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def _examples(kind):
    return [pytest.param(case, id=case["id"]) for case in json.loads(EXAMPLES.read_text())[kind]]


def chain(trigger, start, count):
    """Fire times the way APScheduler walks them: each strictly after the previous."""
    times, previous = [], start
    for _ in range(count):
        previous = trigger.get_next_fire_time(previous, previous)
        if previous is None:
            break
        times.append(previous)
    return times


def at(zone, *args):
    return dt.datetime(*args, tzinfo=zone)


@pytest.mark.parametrize("case", _examples("valid"))
def test_public_examples_fire_at_the_expected_instants_through_the_trigger(case):
    trigger = CronHubTrigger(case["expr"], case["tz"])
    start = dt.datetime.fromisoformat(case["start"])
    expected = [dt.datetime.fromisoformat(value) for value in case["expected_next"]]

    assert chain(trigger, start, len(expected)) == expected
    # A fresh entry (no previous fire) gets the first fire time strictly after a
    # start that is not itself a fire time, and at-or-after "now" otherwise.
    assert trigger.get_next_fire_time(None, start + dt.timedelta(microseconds=1)) == expected[0]


@pytest.mark.parametrize("case", _examples("invalid"))
def test_public_refused_examples_cannot_become_a_trigger(case):
    with pytest.raises(cron.CronError):
        CronHubTrigger(case["expr"], "Asia/Tokyo")


def test_fire_times_are_utc_instants_of_the_job_zone_wall_clock():
    trigger = CronHubTrigger("0 9 * * *", "Asia/Tokyo")
    fire = trigger.get_next_fire_time(None, at(UTC, 2025, 6, 15, 0, 0))
    assert fire == at(UTC, 2025, 6, 15, 0, 0)  # 09:00 JST
    assert fire.utcoffset() == dt.timedelta(0)


def test_day_of_week_zero_and_seven_are_both_sunday():
    start = at(TOKYO, 2025, 6, 10, 0, 0)  # a Tuesday
    sundays = [at(TOKYO, 2025, 6, 15, 12), at(TOKYO, 2025, 6, 22, 12)]
    assert chain(CronHubTrigger("0 12 * * 0", "Asia/Tokyo"), start, 2) == sundays
    assert chain(CronHubTrigger("0 12 * * 7", "Asia/Tokyo"), start, 2) == sundays
    assert chain(CronHubTrigger("0 12 * * sun", "Asia/Tokyo"), start, 2) == sundays


def test_restricted_day_of_month_and_day_of_week_match_either():
    # Every Friday and every 13th (June 13th 2025 is itself a Friday).
    times = chain(CronHubTrigger("0 0 13 * 5", "Asia/Tokyo"), at(TOKYO, 2025, 6, 7), 5)
    assert [t.astimezone(TOKYO).date() for t in times] == [
        dt.date(2025, 6, 13), dt.date(2025, 6, 20), dt.date(2025, 6, 27), dt.date(2025, 7, 4),
        dt.date(2025, 7, 11),
    ]
    # 1-31 restricted + Monday → every day.
    every_day = chain(CronHubTrigger("0 0 1-31 * 1", "Asia/Tokyo"), at(TOKYO, 2025, 6, 7), 3)
    assert [t.astimezone(TOKYO).day for t in every_day] == [8, 9, 10]


def test_a_starred_day_field_means_both_must_match():
    # */2 in day-of-month starts with "*": odd days that are Mondays.
    times = chain(CronHubTrigger("0 0 */2 * 1", "Asia/Tokyo"), at(TOKYO, 2025, 6, 1), 3)
    dates = [t.astimezone(TOKYO).date() for t in times]
    assert all(d.weekday() == 0 and d.day % 2 == 1 for d in dates)
    assert dates[0] == dt.date(2025, 6, 9)


def test_steps_count_from_the_start_of_the_range_and_restart_each_cycle():
    minutes = chain(CronHubTrigger("*/45 * * * *", "UTC"), at(UTC, 2025, 1, 1, 0, 0), 4)
    assert [t.minute for t in minutes] == [45, 0, 45, 0]
    days = chain(CronHubTrigger("0 0 */10 * *", "UTC"), at(UTC, 2025, 1, 1, 1), 4)
    assert [t.day for t in days] == [11, 21, 31, 1]


def test_macros_expand_as_in_debian():
    weekly = chain(CronHubTrigger("@weekly", "UTC"), at(UTC, 2025, 6, 10), 1)
    assert weekly == [at(UTC, 2025, 6, 15)]  # Sunday 00:00
    hourly = chain(CronHubTrigger("@hourly", "UTC"), at(UTC, 2025, 6, 10, 0, 30), 2)
    assert hourly == [at(UTC, 2025, 6, 10, 1), at(UTC, 2025, 6, 10, 2)]


def test_spring_forward_runs_a_fixed_time_job_once_right_after_the_jump():
    times = chain(CronHubTrigger("30 2 * * *", "America/New_York"), at(NEW_YORK, 2025, 3, 8, 12), 2)
    assert times[0] == at(NEW_YORK, 2025, 3, 9, 3, 0)  # 02:30 does not exist: 03:00 EDT
    assert times[1] == at(NEW_YORK, 2025, 3, 10, 2, 30)


def test_spring_forward_gives_a_wildcard_job_no_runs_in_the_gap():
    times = chain(CronHubTrigger("*/30 * * * *", "America/New_York"), at(NEW_YORK, 2025, 3, 9, 1, 0), 3)
    assert times == [at(NEW_YORK, 2025, 3, 9, 1, 30), at(NEW_YORK, 2025, 3, 9, 3, 0),
                     at(NEW_YORK, 2025, 3, 9, 3, 30)]


def test_fall_back_runs_a_fixed_time_job_once_and_a_wildcard_job_in_both_passes():
    start = at(NEW_YORK, 2025, 11, 1, 12)
    fixed = chain(CronHubTrigger("30 1 * * *", "America/New_York"), start, 2)
    assert [t - fixed[0] for t in fixed] == [dt.timedelta(0), dt.timedelta(hours=25)]
    assert fixed[0] == dt.datetime(2025, 11, 2, 5, 30, tzinfo=UTC)  # 01:30 EDT, first pass

    wildcard = chain(CronHubTrigger("*/20 1 * * *", "America/New_York"), start, 7)
    on_the_day = [t for t in wildcard if t.date() == dt.date(2025, 11, 2)]
    assert len(on_the_day) == 6  # 01:00, :20, :40 in EDT, then again in EST
    assert len(set(on_the_day)) == 6


def test_next_means_strictly_after_a_previous_fire_time():
    trigger = CronHubTrigger("0 9 * * *", "Asia/Tokyo")
    fire = at(TOKYO, 2025, 6, 15, 9)
    assert trigger.get_next_fire_time(fire, fire) == at(TOKYO, 2025, 6, 16, 9)
    # ...but a fresh entry created exactly at a fire time still gets it (APScheduler's contract).
    assert trigger.get_next_fire_time(None, fire) == fire


def test_after_a_previous_fire_the_trigger_lists_missed_fire_times_even_in_the_past():
    trigger = CronHubTrigger("* * * * *", "UTC")
    last = at(UTC, 2025, 6, 15, 10, 0)
    now = at(UTC, 2025, 6, 15, 10, 5, 30)
    assert trigger.get_next_fire_time(last, now) == at(UTC, 2025, 6, 15, 10, 1)


def test_a_never_firing_schedule_is_refused():
    with pytest.raises(cron.CronError):
        CronHubTrigger("0 0 30 2 *", "UTC")


def test_the_trigger_survives_pickling_with_only_expression_and_zone():
    trigger = CronHubTrigger("0 9 * * 1-5", "Asia/Tokyo")
    state = trigger.__getstate__()
    assert state == {"version": 1, "expression": "0 9 * * 1-5", "timezone": "Asia/Tokyo"}
    restored = pickle.loads(pickle.dumps(trigger))
    start = at(TOKYO, 2025, 6, 13, 12)
    assert restored == trigger
    assert chain(restored, start, 3) == chain(trigger, start, 3)


@pytest.mark.django_db
def test_the_trigger_round_trips_through_django_apschedulers_job_store():
    scheduler = BackgroundScheduler(jobstores={"default": DjangoJobStore()}, timezone="Asia/Tokyo")
    scheduler.start(paused=True)
    try:
        scheduler.add_job("jobs.scheduler.maintenance:run_prune_scheduler_records",
                          trigger=CronHubTrigger("0 9 * * 1", "Asia/Tokyo"), id="probe")
        stored = scheduler.get_job("probe")  # read back (unpickled) from the database
        assert stored.trigger == CronHubTrigger("0 9 * * 1", "Asia/Tokyo")
        assert stored.next_run_time.astimezone(TOKYO).weekday() == 0
        assert (stored.next_run_time.astimezone(TOKYO).hour, stored.next_run_time.minute) == (9, 0)
    finally:
        scheduler.shutdown(wait=False)


def test_newest_fire_times_after_a_long_outage_are_bounded_and_flag_older_ones():
    every_minute = CronHubTrigger("* * * * *", "UTC")
    until = at(UTC, 2025, 6, 15, 12, 0, 30)
    times, more = newest_fire_times(every_minute, after=until - dt.timedelta(days=3), until=until, limit=101)
    assert len(times) == 101 and more
    assert times[-1] == at(UTC, 2025, 6, 15, 12, 0)
    assert times[0] == at(UTC, 2025, 6, 15, 10, 20)

    daily = CronHubTrigger("0 3 * * *", "UTC")
    times, more = newest_fire_times(daily, after=until - dt.timedelta(days=3), until=until, limit=101)
    assert times == [at(UTC, 2025, 6, 13, 3), at(UTC, 2025, 6, 14, 3), at(UTC, 2025, 6, 15, 3)]
    assert not more

    assert newest_fire_times(daily, after=until - dt.timedelta(hours=1), until=until) == ([], False)
