"""Tests for jobs/cron.py: the sample cases (fixtures/cron_examples.json), then one named test
per rule of the classic Debian cron that users know. Pure maths, no database."""

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cronsim import CronSim

from jobs import cron
from jobs.cron import CronError, parse, validate

EXAMPLES_PATH = Path(__file__).resolve().parent / "fixtures" / "cron_examples.json"
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
TOKYO = ZoneInfo("Asia/Tokyo")


def _examples(kind: str) -> list:
    cases = json.loads(EXAMPLES_PATH.read_text(encoding="utf-8"))[kind]
    return [pytest.param(case, id=case["id"]) for case in cases]


def fires(expression: str, tz, start: datetime, count: int = 5) -> list[str]:
    return [t.isoformat() for t in parse(expression).next_fire_times(tz, start, count)]


def local(tz: ZoneInfo, *args, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=tz, fold=fold)


# -- the sample cases --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _examples("valid"))
def test_public_example_fires_at_the_expected_times(case):
    start = datetime.fromisoformat(case["start"])
    assert fires(case["expr"], case["tz"], start) == case["expected_next"], case["why"]


@pytest.mark.parametrize("case", _examples("invalid"))
def test_public_example_is_refused_with_a_message(case):
    message = validate(case["expr"])
    assert message, case["why"]
    with pytest.raises(CronError):
        parse(case["expr"])


# -- syntax -----------------------------------------------------------------------------------------


def test_day_of_week_0_and_7_are_both_sunday():
    start = local(TOKYO, 2025, 6, 16)
    assert fires("0 12 * * 0", TOKYO, start) == fires("0 12 * * 7", TOKYO, start)
    assert all(t.weekday() == 6 for t in parse("0 12 * * 7").next_fire_times(TOKYO, start, 5))


def test_day_of_week_1_to_5_is_monday_to_friday():
    times = parse("0 9 * * 1-5").next_fire_times(TOKYO, local(TOKYO, 2025, 6, 14), 10)
    assert [t.strftime("%a") for t in times] == ["Mon", "Tue", "Wed", "Thu", "Fri"] * 2


def test_day_of_week_range_5_to_7_runs_friday_to_sunday():
    times = parse("0 9 * * 5-7").next_fire_times(TOKYO, local(TOKYO, 2025, 6, 16), 3)
    assert [t.strftime("%a") for t in times] == ["Fri", "Sat", "Sun"]


def test_three_letter_names_are_accepted_in_any_case():
    reference = parse("0 9 1 1-3 1-5")
    for expression in ("0 9 1 jan-mar mon-fri", "0 9 1 JAN-MAR MON-FRI", "0 9 1 Jan-mAr Mon-fRI"):
        schedule = parse(expression)
        assert (schedule.months, schedule.weekdays) == (reference.months, reference.weekdays)


def test_names_and_numbers_mix_in_one_range():
    assert parse("0 0 * * mon-5").weekdays == parse("0 0 * * 1-5").weekdays


def test_steps_count_from_the_start_of_the_range():
    assert sorted(parse("*/45 * * * *").minutes) == [0, 45]
    assert sorted(parse("10-50/20 * * * *").minutes) == [10, 30, 50]
    assert sorted(parse("0 0 * jan-dec/5 *").months) == [1, 6, 11]


def test_day_steps_restart_each_month():
    times = parse("0 0 */10 * *").next_fire_times(TOKYO, local(TOKYO, 2025, 7, 1, 12), 5)
    assert [t.date().isoformat() for t in times] == [
        "2025-07-11", "2025-07-21", "2025-07-31", "2025-08-01", "2025-08-11",
    ]


def test_a_step_over_a_one_value_range_is_that_value():
    assert sorted(parse("5-5/2 * * * *").minutes) == [5]
    assert fires("5-5/2 * * * *", TOKYO, local(TOKYO, 2025, 6, 2, 9), 2) == [
        "2025-06-02T09:05:00+09:00", "2025-06-02T10:05:00+09:00",
    ]


def test_lists_combine_values_ranges_and_steps():
    assert sorted(parse("1,5-7,50-59/4 * * * *").minutes) == [1, 5, 6, 7, 50, 54, 58]


@pytest.mark.parametrize(("macro", "fields"), [
    ("@hourly", "0 * * * *"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@weekly", "0 0 * * 0"),
    ("@monthly", "0 0 1 * *"),
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
])
def test_macros_expand_as_in_debian(macro, fields):
    schedule = parse(f" {macro} ")
    assert (schedule.expression, schedule.fields) == (macro, fields)
    start = local(TOKYO, 2025, 6, 15, 10, 30)
    assert fires(macro, TOKYO, start) == fires(fields, TOKYO, start)


def test_hourly_macro_counts_as_a_wildcard_job():
    assert parse("@hourly").is_fixed_time is False
    assert parse("@daily").is_fixed_time is True


@pytest.mark.parametrize(("expression", "fixed"), [
    ("30 2 * * *", True),
    ("0,20,40 1 * * *", True),
    ("0 1-23/2 * * *", True),
    ("*/20 1 * * *", False),
    ("30 * * * *", False),
    ("0 */2 * * *", False),
    ("* * * * *", False),
])
def test_a_job_is_fixed_time_unless_minute_or_hour_starts_with_a_star(expression, fixed):
    assert parse(expression).is_fixed_time is fixed


def test_expression_is_trimmed_of_spaces_and_fields_are_normalised():
    schedule = parse("  0  9 * *   1-5 ")
    assert schedule.expression == "0  9 * *   1-5"
    assert schedule.fields == "0 9 * * 1-5"


def test_an_expression_of_exactly_256_characters_is_accepted():
    expression = "0" + ",0" * 123 + " 9 * * *"
    expression += " " * (256 - len(expression))
    assert len(expression) == 256
    assert validate(expression) is None


def test_an_expression_over_256_characters_is_refused():
    expression = "0" + ",0" * 124 + " 9 * * *"
    assert len(expression) > cron.MAX_EXPRESSION_LENGTH
    assert "too long" in validate(expression)


def test_parse_caches_schedules():
    assert parse("0 9 * * 1-5") is parse("0 9 * * 1-5")


# -- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("expression", ["", " ", "   ", "\n", "\t "])
def test_empty_or_blank_input_is_refused_as_required(expression):
    assert validate(expression) == "Cron expression is required."


@pytest.mark.parametrize("expression", [
    "* * * * * *", "0 9 * *", "0", "0 0 1 1 * 2025", "* * * * *; rm -rf /",
])
def test_a_field_count_other_than_five_is_refused_with_the_contract_message(expression):
    assert validate(expression) == (
        "Cron expression must have exactly 5 fields (minute hour day month day-of-week)."
    )


@pytest.mark.parametrize(("expression", "field"), [
    ("60 * * * *", "minute"),
    ("0 24 * * *", "hour"),
    ("0 0 0 * *", "day-of-month"),
    ("0 0 32 * *", "day-of-month"),
    ("0 0 1 0 *", "month"),
    ("0 0 1 13 *", "month"),
    ("0 0 * * 8", "day-of-week"),
    ("0-60 * * * *", "minute"),
])
def test_out_of_range_values_are_refused_naming_the_field(expression, field):
    message = validate(expression)
    assert "out of range" in message
    assert f"{field} field" in message


@pytest.mark.parametrize(("expression", "field"), [
    ("*/0 * * * *", "minute"),
    ("0 1-5/0 * * *", "hour"),
    ("0 0 */00 * *", "day-of-month"),
])
def test_step_zero_is_refused(expression, field):
    message = validate(expression)
    assert "Step 0" in message and f"{field} field" in message


@pytest.mark.parametrize(("expression", "field"), [
    ("30-10 * * * *", "minute"),
    ("0 5-1 * * *", "hour"),
    ("0 0 * * fri-mon", "day-of-week"),
    ("0 0 * * sat-sun", "day-of-week"),
    ("0 0 1 dec-jan *", "month"),
])
def test_reversed_ranges_are_refused(expression, field):
    message = validate(expression)
    assert "Reversed range" in message and f"{field} field" in message


@pytest.mark.parametrize("expression", ["0 0 * * monday", "0 0 * * Tues", "0 0 1 january *", "0 0 1 Sept *"])
def test_full_or_misspelt_names_are_refused(expression):
    assert "name" in validate(expression)


@pytest.mark.parametrize("expression", [
    "0 0 ? * MON", "0 0 L * *", "0 0 LW * *", "0 0 15W * *", "0 0 * * 5L", "0 0 * * 5#2", "0 0 * * MON#1",
])
def test_quartz_extensions_are_refused(expression):
    assert "Quartz" in validate(expression)


@pytest.mark.parametrize("expression", [
    "\uff10 \uff19 * * *",  # full-width digits from a Japanese IME
    "\u0660 \u0669 * * *",  # Arabic-Indic digits
    "0 9 * * \u0661-\u0665",
    "\u00a00 9 * * *",  # no-break space
    "0\u30009 * * *",  # ideographic space
])
def test_non_ascii_digits_and_spaces_are_refused(expression):
    assert "non-ASCII" in validate(expression)


@pytest.mark.parametrize("expression", [
    "0 9\n* * *", "0 9 * * *\n", "\n0 9 * * *", "0 9 * * *\r\n", "0\t9 * * *", "0 9 * * *\x00",
    "0 9 * * *\x7f",
])
def test_control_characters_and_newlines_are_refused_even_at_the_ends(expression):
    message = validate(expression)
    assert "line break" in message or "control character" in message


@pytest.mark.parametrize("expression", [
    "0 0 30 2 *", "0 0 31 4 *", "0 0 31 apr,jun,sep,nov *", "0 0 30-31 2 *", "0 0 31 2 */2",
])
def test_schedules_that_can_never_fire_are_refused(expression):
    assert "never fire" in validate(expression)


@pytest.mark.parametrize("expression", ["0 0 29 2 *", "0 0 31 2 1", "0 0 30 2 mon", "0 0 30 2,3 *"])
def test_schedules_that_fire_rarely_or_through_the_weekday_are_accepted(expression):
    assert validate(expression) is None


@pytest.mark.parametrize(("expression", "needle"), [
    ("@reboot", "@reboot"),
    ("@every 5m", "Unknown macro"),
    ("@DAILY", "Unknown macro"),
    ("@daily 5", "Unknown macro"),
    ("5/10 * * * *", "step needs"),
    ("0 0 1 jan/2 *", "step needs"),
    ("*/x * * * *", "step"),
    ("mon * * * *", "minute field"),
    ("0 0 * jan-feb mar", "day-of-week"),
    ("1,,2 * * * *", "Empty list entry"),
    ("1- * * * *", "missing"),
    ("*-5 * * * *", "minute field"),
    ("*/5/2 * * * *", "only one"),
    ("0 0 * * 1;2", "Invalid character"),
    ("H * * * *", "minute field"),
])
def test_other_malformed_input_is_refused_with_a_specific_message(expression, needle):
    assert needle in validate(expression)


@pytest.mark.parametrize("value", [None, 5, b"0 9 * * *", ["0", "9", "*", "*", "*"]])
def test_validate_never_raises_on_non_string_input(value):
    assert isinstance(validate(value), str)


def test_validate_returns_none_for_a_valid_expression():
    assert validate("0 9 * * mon-fri") is None


def test_cron_error_is_a_value_error_carrying_the_message():
    with pytest.raises(ValueError, match="minute field"):
        parse("61 * * * *")


# -- which days match -------------------------------------------------------------------------------


def test_both_day_fields_restricted_means_either_day_matches():
    times = parse("0 0 13 * 5").next_fire_times(TOKYO, local(TOKYO, 2025, 6, 1), 5)
    assert [t.day for t in times] == [6, 13, 20, 27, 4]


def test_a_day_of_month_field_starting_with_a_star_means_both_must_match():
    times = parse("0 0 */2 * 1").next_fire_times(TOKYO, local(TOKYO, 2025, 6, 15, 12), 5)
    assert all(t.day % 2 == 1 and t.strftime("%a") == "Mon" for t in times)


def test_a_day_of_week_field_starting_with_a_star_means_both_must_match():
    times = parse("0 0 1-7 * */3").next_fire_times(TOKYO, local(TOKYO, 2025, 6, 1), 6)
    # */3 over 0-7 is Sunday, Wednesday, Saturday: only those weekdays among the 1st-7th.
    assert all(t.day <= 7 and t.strftime("%a") in {"Sun", "Wed", "Sat"} for t in times)


def test_every_day_of_month_with_a_weekday_is_every_day():
    times = parse("0 0 1-31 * 1").next_fire_times(TOKYO, local(TOKYO, 2025, 6, 1, 1), 7)
    assert [t.day for t in times] == [2, 3, 4, 5, 6, 7, 8]


def test_day_31_only_fires_in_months_that_have_one():
    times = parse("0 0 31 * *").next_fire_times(TOKYO, local(TOKYO, 2025, 1, 31), 4)
    assert [t.month for t in times] == [3, 5, 7, 8]


def test_leap_day_fires_only_in_leap_years_and_skips_2100():
    times = parse("0 0 29 2 *").next_fire_times("UTC", datetime(2095, 1, 1, tzinfo=UTC), 3)
    assert [t.year for t in times] == [2096, 2104, 2108]


# -- time zones -------------------------------------------------------------------------------------


def test_default_zone_style_tokyo_evaluates_the_weekday_on_tokyo_clock():
    # Sunday 23:00 in Tokyo is still Sunday 14:00 in UTC; Monday 00:00 JST is only an hour away.
    times = fires("0 0 * * 1", "Asia/Tokyo", datetime(2025, 6, 15, 14, 0, tzinfo=UTC), 2)
    assert times == ["2025-06-16T00:00:00+09:00", "2025-06-23T00:00:00+09:00"]


def test_fire_times_are_returned_in_the_requested_zone_whatever_the_start_zone():
    times = parse("0 9 * * *").next_fire_times(ZoneInfo("Asia/Tokyo"), datetime(2025, 6, 1, tzinfo=LONDON), 2)
    assert all(t.tzinfo == TOKYO and t.hour == 9 for t in times)


def test_a_naive_start_is_read_as_utc():
    # 00:30 UTC is already 09:30 in Tokyo, so today's 09:00 has passed.
    assert fires("0 9 * * *", TOKYO, datetime(2025, 6, 1, 0, 30), 1) == ["2025-06-02T09:00:00+09:00"]


def test_new_york_fixed_time_in_the_spring_gap_runs_once_right_after_the_jump():
    times = fires("30 2 * * *", NEW_YORK, local(NEW_YORK, 2025, 3, 8, 12), 2)
    assert times == ["2025-03-09T03:00:00-04:00", "2025-03-10T02:30:00-04:00"]


def test_new_york_several_fixed_times_in_the_gap_still_run_once():
    times = fires("0,15,30,45 2 * * *", NEW_YORK, local(NEW_YORK, 2025, 3, 9, 0), 2)
    assert times == ["2025-03-09T03:00:00-04:00", "2025-03-10T02:00:00-04:00"]


def test_new_york_wildcard_job_has_no_runs_in_the_spring_gap():
    assert fires("*/20 2 * * *", NEW_YORK, local(NEW_YORK, 2025, 3, 9, 0), 1) == ["2025-03-10T02:00:00-04:00"]
    assert fires("*/30 * * * *", NEW_YORK, local(NEW_YORK, 2025, 3, 9, 1, 15), 3) == [
        "2025-03-09T01:30:00-05:00", "2025-03-09T03:00:00-04:00", "2025-03-09T03:30:00-04:00",
    ]


def test_new_york_fixed_time_in_the_repeated_hour_runs_once_in_the_first_pass():
    times = fires("0,20,40 1 * * *", NEW_YORK, local(NEW_YORK, 2025, 11, 2, 0), 4)
    assert times == [
        "2025-11-02T01:00:00-04:00", "2025-11-02T01:20:00-04:00", "2025-11-02T01:40:00-04:00",
        "2025-11-03T01:00:00-05:00",
    ]


def test_new_york_wildcard_job_runs_in_both_passes_of_the_repeated_hour():
    times = fires("*/20 1 * * *", NEW_YORK, local(NEW_YORK, 2025, 11, 2, 0), 7)
    assert times == [
        "2025-11-02T01:00:00-04:00", "2025-11-02T01:20:00-04:00", "2025-11-02T01:40:00-04:00",
        "2025-11-02T01:00:00-05:00", "2025-11-02T01:20:00-05:00", "2025-11-02T01:40:00-05:00",
        "2025-11-03T01:00:00-05:00",
    ]


def test_london_fixed_time_in_the_spring_gap_runs_at_two_bst():
    times = fires("30 1 * * *", LONDON, local(LONDON, 2025, 3, 29, 12), 3)
    assert times == ["2025-03-30T02:00:00+01:00", "2025-03-31T01:30:00+01:00", "2025-04-01T01:30:00+01:00"]


def test_london_wildcard_job_has_no_runs_in_the_spring_gap():
    assert fires("*/15 1 * * *", LONDON, local(LONDON, 2025, 3, 30, 0), 1) == ["2025-03-31T01:00:00+01:00"]


def test_london_fixed_time_in_the_repeated_hour_runs_once():
    times = fires("30 1 * * *", LONDON, local(LONDON, 2025, 10, 25, 12), 2)
    assert times == ["2025-10-26T01:30:00+01:00", "2025-10-27T01:30:00+00:00"]


def test_london_wildcard_job_runs_twice_in_the_repeated_hour():
    times = fires("30 * * * *", LONDON, local(LONDON, 2025, 10, 26, 0), 4)
    assert times == [
        "2025-10-26T00:30:00+01:00", "2025-10-26T01:30:00+01:00", "2025-10-26T01:30:00+00:00",
        "2025-10-26T02:30:00+00:00",
    ]


def test_a_zone_that_skips_midnight_lists_only_wall_times_that_exist():
    # Santiago jumps from 00:00 to 01:00 on 2024-09-08: the day's first minute is 01:00 -03.
    santiago = ZoneInfo("America/Santiago")
    assert fires("* * 7,8 9 *", santiago, local(santiago, 2024, 9, 7, 23, 58), 3) == [
        "2024-09-07T23:59:00-04:00", "2024-09-08T01:00:00-03:00", "2024-09-08T01:01:00-03:00",
    ]


def test_start_in_the_second_pass_skips_the_first_pass_fixed_time():
    start = local(NEW_YORK, 2025, 11, 2, 1, 10, fold=1)  # 01:10 EST, after 01:30 EDT has already happened
    assert fires("30 1 * * *", NEW_YORK, start, 1) == ["2025-11-03T01:30:00-05:00"]


def test_start_in_the_second_pass_still_sees_the_wildcard_second_pass():
    start = local(NEW_YORK, 2025, 11, 2, 1, 10, fold=1)
    assert fires("30 * * * *", NEW_YORK, start, 2) == [
        "2025-11-02T01:30:00-05:00", "2025-11-02T02:30:00-05:00",
    ]


def test_start_late_in_the_first_pass_still_sees_the_earlier_wall_times_of_the_second_pass():
    start = local(NEW_YORK, 2025, 11, 2, 1, 50)  # 01:50 EDT
    times = fires("*/20 1 * * *", NEW_YORK, start, 4)
    assert times == [
        "2025-11-02T01:00:00-05:00", "2025-11-02T01:20:00-05:00", "2025-11-02T01:40:00-05:00",
        "2025-11-03T01:00:00-05:00",
    ]


def test_fire_times_increase_as_instants_through_the_repeated_hour():
    times = parse("*/10 * * * *").next_fire_times(NEW_YORK, local(NEW_YORK, 2025, 11, 2, 0, 55), 20)
    instants = [t.astimezone(UTC) for t in times]
    assert instants == sorted(set(instants))
    assert len(instants) == 20


def test_fire_times_carry_the_right_fold_in_the_repeated_hour():
    first, second = parse("30 * * * *").next_fire_times(NEW_YORK, local(NEW_YORK, 2025, 11, 2, 1), 2)
    assert (first.fold, second.fold) == (0, 1)
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)


# -- "next" means strictly after --------------------------------------------------------------------


def test_a_start_exactly_on_a_fire_time_does_not_list_it():
    assert fires("0 9 * * *", TOKYO, local(TOKYO, 2025, 6, 2, 9), 1) == ["2025-06-03T09:00:00+09:00"]


def test_a_start_a_microsecond_before_a_fire_time_lists_it():
    start = local(TOKYO, 2025, 6, 2, 8, 59, 59, 999999)
    assert fires("0 9 * * *", TOKYO, start, 1) == ["2025-06-02T09:00:00+09:00"]


def test_a_start_within_a_fire_minute_moves_to_the_next_one():
    assert fires("* * * * *", TOKYO, local(TOKYO, 2025, 6, 2, 9, 0, 1), 2) == [
        "2025-06-02T09:01:00+09:00", "2025-06-02T09:02:00+09:00",
    ]


def test_next_fire_time_is_the_first_of_next_fire_times():
    schedule = parse("*/45 * * * *")
    start = local(TOKYO, 2025, 6, 15, 10)
    assert schedule.next_fire_time("Asia/Tokyo", start) == schedule.next_fire_times(TOKYO, start, 3)[0]


def test_no_fire_time_after_the_last_representable_minute():
    assert parse("* * * * *").next_fire_time("UTC", datetime(9999, 12, 31, 23, 59, tzinfo=UTC)) is None


def test_a_count_of_zero_returns_nothing():
    assert parse("* * * * *").next_fire_times(TOKYO, local(TOKYO, 2025, 1, 1), 0) == []


# -- agreement with cronsim ---------------------------------------------------------------


def _random_field(rng: random.Random, low: int, high: int) -> str:
    roll = rng.random()
    if roll < 0.3:
        return "*"
    if roll < 0.4:
        return f"*/{rng.randint(1, high - low + 1)}"
    items = []
    for _ in range(rng.randint(1, 3)):
        start = rng.randint(low, high - 1)
        end = rng.randint(start + 1, high)
        kind = rng.random()
        # cronsim reads "a-a/n" like "a/n" (a to the maximum), so only ranges of two or more values.
        items.append(str(start) if kind < 0.5 else f"{start}-{end}" if kind < 0.8
                     else f"{start}-{end}/{rng.randint(1, 5)}")
    return ",".join(items)


def _cronsim_fires(expression: str, tz: ZoneInfo, start: datetime, count: int) -> list[str]:
    out: list[datetime] = []
    try:
        for fire in CronSim(expression, start.astimezone(tz)):
            if fire.astimezone(UTC) > (out[-1] if out else start).astimezone(UTC):
                out.append(fire)
            if len(out) == count:
                break
    except StopIteration:
        pass
    return [t.isoformat() for t in out]


def test_fire_times_agree_with_cronsim_where_cronsim_follows_debian():
    # Only checks, macros and "strictly after" are ours: the fire times themselves are cronsim's.
    rng = random.Random(20250615)
    zones = [NEW_YORK, LONDON, TOKYO, ZoneInfo("Australia/Sydney"), ZoneInfo("UTC")]
    checked = 0
    while checked < 300:
        lows_highs = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
        expression = " ".join(_random_field(rng, low, high) for low, high in lows_highs)
        if validate(expression) is not None:
            continue
        tz = rng.choice(zones)
        start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
        expected = _cronsim_fires(expression, tz, start, 5)
        assert fires(expression, tz, start, 5) == expected, (expression, tz, start)
        checked += 1


# -- English ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("expression", "text"), [
    ("0 9 * * 1-5", "At 09:00 on Monday through Friday"),
    ("*/15 * * * *", "Every 15 minutes"),
    ("@monthly", "At 00:00 on day 1 of the month"),
    ("30 2 13 * 5", "At 02:30 on the 13th or on Friday"),
    ("0 9 * * *", "At 09:00 every day"),
    ("@hourly", "Every hour"),
    ("0 */2 * * *", "Every 2 hours"),
    ("@yearly", "At 00:00 on January 1"),
    ("0 0 29 2 *", "At 00:00 on February 29"),
    ("*/45 * * * *", "At minutes 0 and 45 past every hour"),
    ("*/5 9-17 * * mon-fri", "Every 5 minutes from 09:00 through 17:59 on Monday through Friday"),
    ("0 12 * * sat,sun", "At 12:00 on Saturday and Sunday"),
    ("0 0 */2 * 1", "At 00:00 on every 2nd day of the month if it falls on Monday"),
    ("0 8 1,15 jan-jun *", "At 08:00 on days 1 and 15 of the month in January through June"),
    ("* * * * *", "Every minute"),
])
def test_describe_reads_as_english(expression, text):
    assert parse(expression).describe() == text


def test_describe_never_raises_for_valid_schedules():
    rng = random.Random(7)
    for _ in range(500):
        fields = [_random_field(rng, low, high) for low, high in [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]]
        expression = " ".join(fields)
        if validate(expression) is None:
            text = parse(expression).describe()
            assert text and not text.startswith("Cron schedule"), expression
