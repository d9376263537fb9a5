"""The upcoming-runs calendar: fire times per job's zone (Tokyo, and New York across a DST
change), end dates, filters, load strips, bursts named, the GitHub limit; the page for every role."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse

from cronhub.testing.factories import JobCategoryFactory, JobFactory, PicTeamFactory, UserFactory
from jobs import calendar

pytestmark = pytest.mark.django_db

UTC = dt.UTC
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
# Saturday 2026-03-07 12:00 UTC: New York moves to EDT on Sunday 2026-03-08 at 02:00.
NOW = dt.datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
CALENDAR = reverse("admin:jobs_job_calendar")


def fires_of(data, name):
    return [fire.at for fire in data.fires if fire.job.name == name]


def test_each_job_fires_on_its_own_zones_clock_across_a_dst_change():
    JobFactory(name="ny-9", cron_expression="0 9 * * *", timezone="America/New_York")
    JobFactory(name="tokyo-weekdays-10", cron_expression="0 10 * * 1-5", timezone="Asia/Tokyo")

    data = calendar.upcoming_calendar(calendar.Filters(window="7d"), now=NOW)

    ny = fires_of(data, "ny-9")
    assert [at.astimezone(UTC).hour for at in ny] == [14, 13, 13, 13, 13, 13, 13]  # EST, then EDT
    assert all(at.astimezone(NEW_YORK).hour == 9 for at in ny)
    tokyo = fires_of(data, "tokyo-weekdays-10")
    assert [at.astimezone(TOKYO).date().isoformat() for at in tokyo] == [
        "2026-03-09", "2026-03-10", "2026-03-11", "2026-03-12", "2026-03-13"]
    assert all(at.astimezone(TOKYO).hour == 10 for at in tokyo)
    instants = [fire.at for fire in data.fires]
    assert instants == sorted(instants)


def test_the_24_hour_window_and_the_end_date_bound_the_fire_times():
    JobFactory(name="hourly", cron_expression="0 * * * *", timezone="UTC")
    JobFactory(name="ends-today", cron_expression="0 * * * *", timezone="Asia/Tokyo",
               end_date=dt.date(2026, 3, 7))  # the last day in the scheduler zone
    JobFactory(name="paused", cron_expression="* * * * *", is_active=False)

    data = calendar.upcoming_calendar(now=NOW)

    # (now, now + 24 h): 13:00 .. 11:00 UTC; neither now (12:00) nor 12:00 tomorrow
    assert [at.hour for at in fires_of(data, "hourly")] == [*range(13, 24), *range(12)]
    ends = fires_of(data, "ends-today")
    assert ends and max(ends).astimezone(TOKYO) == dt.datetime(2026, 3, 7, 23, 0, tzinfo=TOKYO)
    assert fires_of(data, "paused") == []
    assert len(data.hours) == 24 and len(data.minutes) == 24 * 60
    assert sum(slot.count for slot in data.hours) == len(data.fires)


def test_filters_by_team_category_owner_and_target_type():
    ana = UserFactory(username="ana")
    PicTeamFactory(name="Web QA", slug="web-qa")
    JobCategoryFactory(name="Nightly", slug="nightly")
    JobFactory(name="web-gh", pic_team="web-qa", category="nightly", created_by=ana, github=True)
    JobFactory(name="web-hook", pic_team="web-qa", category="general")
    JobFactory(name="other-gh", pic_team="platform-qa", category="nightly", github=True)

    def names(**filters):
        data = calendar.upcoming_calendar(calendar.Filters(**filters), now=NOW)
        return sorted(job.name for job in data.jobs)

    assert names(team="web-qa") == ["web-gh", "web-hook"]
    assert names(category="nightly") == ["other-gh", "web-gh"]
    assert names(owner="ana") == ["web-gh"]
    assert names(target="github_actions") == ["other-gh", "web-gh"]
    assert names(target="webhook") == ["web-hook"]
    assert names(team="web-qa", target="github_actions") == ["web-gh"]
    query = calendar.Filters.from_query({"window": "1y", "target": "ftp", "team": " web-qa "})
    assert query == calendar.Filters(window="24h", team="web-qa")


def test_bursts_are_named_busiest_first_and_github_minutes_over_the_limit_are_flagged(settings):
    settings.GITHUB_SECONDARY_LIMIT_PER_MINUTE = 2
    for name in ("gh-a", "gh-b", "gh-c"):
        JobFactory(name=name, cron_expression="0 10 * * *", timezone="Asia/Tokyo", github=True)
    JobFactory(name="hook-10", cron_expression="0 10 * * *", timezone="Asia/Tokyo")
    JobFactory(name="gh-11", cron_expression="0 11 * * *", timezone="Asia/Tokyo", github=True)
    JobFactory(name="hook-11", cron_expression="0 11 * * *", timezone="Asia/Tokyo")
    JobFactory(name="alone", cron_expression="30 12 * * *", timezone="Asia/Tokyo")

    data = calendar.upcoming_calendar(now=NOW)  # 21:00 JST: 10:00 and 11:00 tomorrow are inside

    ten = dt.datetime(2026, 3, 8, 10, 0, tzinfo=TOKYO).astimezone(UTC)
    eleven = dt.datetime(2026, 3, 8, 11, 0, tzinfo=TOKYO).astimezone(UTC)
    assert [(m.at, m.count, m.github) for m in data.busiest] == [(ten, 4, 3), (eleven, 2, 1)]
    assert [job.name for job in data.busiest[0].jobs] == ["gh-a", "gh-b", "gh-c", "hook-10"]
    assert [m.at for m in data.over_budget] == [ten]
    peak = next(slot for slot in data.minutes if slot.at == ten)
    assert (peak.count, peak.github) == (4, 3)


def test_the_page_shows_the_load_the_bursts_and_the_budget_note(staff, settings):
    settings.GITHUB_SECONDARY_LIMIT_PER_MINUTE = 1
    JobFactory(name="gh-a", cron_expression="0 10 * * *", github=True)
    JobFactory(name="gh-b", cron_expression="0 10 * * *", github=True)

    body = staff.get(CALENDAR, {"window": "7d"}).content.decode()

    assert 'id="calendar-over-budget"' in body and "GITHUB_SECONDARY_LIMIT_PER_MINUTE" in body
    assert "gh-a</a>, <a" in body and "gh-b</a>" in body
    assert body.count('class="cronhub-load"') == 1  # 7 days: the hourly strip only
    assert " 10:00:00 JST" in body
    assert staff.get(CALENDAR).content.decode().count('class="cronhub-load"') == 2


def test_the_page_in_japanese(staff):
    JobFactory(name="weekday-10", cron_expression="0 10 * * 1-5")
    body = staff.get(CALENDAR, {"window": "7d"}, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "今後の実行予定" in body and "最も混み合う時刻" in body
    assert "時刻は Asia/Tokyo で表示しています。" in body


def test_a_long_window_lists_a_bounded_number_of_rows_and_counts_them_all(staff):
    JobFactory(name="every-minute", cron_expression="* * * * *")
    data = calendar.upcoming_calendar(calendar.Filters(window="7d"), now=NOW)
    assert len(data.fires) == 7 * 24 * 60 - 1  # strictly after now, strictly before now + 7 days
    body = staff.get(CALENDAR, {"window": "7d"}).content.decode()
    assert "more runs are not listed" in body
    assert body.count("<tr><td>") <= 1600
