"""Japanese and English pages, one clock: the browser's Accept-Language and the user's own
preference choose the language, the user's zone (default the scheduler's) every time shown;
the API stays English whatever the browser asks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.models import UiPreferences
from cronhub.testing.factories import JobExecutionFactory, JobFactory, PicTeamFactory
from jobs import cron

pytestmark = pytest.mark.django_db

ADD = reverse("admin:jobs_job_add")
MOMENT = dt.datetime(2026, 12, 2, 1, 0, 5, tzinfo=dt.UTC)  # 10:00:05 in Tokyo


@pytest.fixture
def team(db):
    return PicTeamFactory(name="Platform QA", slug="platform-qa")


def prefer(user, **values):
    UiPreferences.objects.update_or_create(user=user, defaults=values)


def test_a_browser_asking_for_japanese_gets_japanese_labels(staff, team):
    body = staff.get(ADD, HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    assert '<html lang="ja"' in body
    for label in ("スケジュール</h2>", "実行先</h2>", "担当チーム", "Cron 式", "タイムゾーン", "終了日"):
        assert label in body
    assert "保存" in body  # Django's own words come from its catalogue


def test_english_is_the_default_and_the_users_preference_beats_the_browser(staff, admin_user, team):
    assert ">Schedule</h2>" in staff.get(ADD).content.decode()
    prefer(admin_user, language="en")
    assert ">Schedule</h2>" in staff.get(ADD, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    prefer(admin_user, language="ja")
    response = staff.get(ADD, HTTP_ACCEPT_LANGUAGE="en")
    assert "スケジュール</h2>" in response.content.decode()
    assert response["Content-Language"] == "ja"


def test_a_refused_job_shows_the_rules_message_in_japanese_while_the_api_keeps_english(
        staff, admin_user, team, api, owner):
    prefer(admin_user, language="ja")
    data = {"name": "nightly", "cron_expression": "0 9 * * 1-8", "timezone": "Asia/Tokyo",
            "end_date": "2099-01-01", "target_url": "https://hooks.example.com/x", "metadata": "{}",
            "category": "general", "pic_team": "platform-qa"}

    page = staff.post(ADD, data).content.decode()

    assert "day-of-week フィールドの値 8 は範囲外です。使える値は 0-7 です。" in page
    body = {**data, "cron_expression": "0 9 * * 1-8"}
    answer = api(owner).post("/api/v2/jobs", body, format="json", HTTP_ACCEPT_LANGUAGE="ja")
    assert answer.status_code == 400
    assert answer.json()["message"] == ("Value 8 is out of range in the day-of-week field: "
                                        "allowed values are 0-7.")
    assert answer["Content-Language"] == "en"


def test_the_api_never_speaks_japanese_even_for_drf_texts(api, owner):
    answer = api(owner).get("/api/v2/jobs?limit=abc", HTTP_ACCEPT_LANGUAGE="ja")
    assert answer.status_code in (200, 400)
    assert all(ord(ch) < 0x3000 for ch in answer.content.decode())


def test_every_time_shown_is_in_the_viewers_zone_in_one_spelling(staff, admin_user):
    job = JobFactory(name="tokyo-10", cron_expression="0 10 * * 1-5", timezone="America/New_York")
    execution = JobExecutionFactory(job=job, started_at=MOMENT, status="failed",
                                    completed_at=MOMENT + dt.timedelta(seconds=3))
    change = reverse("admin:jobs_jobexecution_change", args=[execution.pk])

    assert "2026-12-02 10:00:05 JST" in staff.get(change).content.decode()
    prefer(admin_user, timezone="America/New_York")
    assert "2026-12-01 20:00:05 EST" in staff.get(change).content.decode()
    listing = staff.get(reverse("admin:jobs_jobexecution_changelist")).content.decode()
    assert "2026-12-01 20:00:05 EST" in listing


def test_the_dashboard_and_job_list_in_japanese_with_jst(staff, admin_user, team):
    prefer(admin_user, language="ja")
    JobFactory(name="weekday-10", cron_expression="0 10 * * 1-5", timezone="Asia/Tokyo")

    index = staff.get(reverse("admin:index")).content.decode()
    listing = staff.get(reverse("admin:jobs_job_changelist")).content.decode()

    assert "スケジューラー" in index and "実行予定カレンダー" in index
    assert "平日 10:00" in listing
    assert " 10:00:00 JST" in listing
    assert "成功率（30 日）" in listing


@pytest.mark.parametrize(("expression", "japanese"), [
    ("0 10 * * 1-5", "平日 10:00"),
    ("0 11 * * mon-fri", "平日 11:00"),
    ("30 8 * * 0,6", "土日 08:30"),
    ("0 9 * * 1", "毎週月曜日 09:00"),
    ("0 0 13 * 5", "毎月13日と毎週金曜日 00:00"),  # OR: every 13th and every Friday
    ("0 0 */2 * 1", "毎月1日から2日ごとのうち月曜日に当たる日 00:00"),  # "*" first: AND
    ("0 0 1-31 * 1", "毎日 00:00"),  # OR with every day of the month: every day
    ("0 12 29 2 *", "2月29日 12:00"),
    ("* * * * *", "毎分"),
    ("*/5 9-17 * * 1-5", "平日 09:00〜17:59の5分ごと"),
    ("0 * * * *", "毎時0分"),
    ("0 9 1,15 1,4,7,10 *", "1月・4月・7月・10月の1・15日 09:00"),
    ("@weekly", "毎週日曜日 00:00"),
])
def test_cron_descriptions_in_japanese_follow_the_same_day_rules(expression, japanese):
    schedule = cron.parse(expression)
    assert schedule.describe("ja") == japanese
    with translation.override("ja"):
        assert schedule.describe() == japanese
    with translation.override("en"):
        assert schedule.describe() == schedule.describe("en") != japanese


def test_the_cron_preview_api_describes_in_english_for_a_japanese_browser(api, owner):
    answer = api(owner).post("/api/v2/jobs/validate-cron", {"cron_expression": "0 10 * * 1-5"},
                             format="json", HTTP_ACCEPT_LANGUAGE="ja")
    assert answer.json()["description"] == "At 10:00 on Monday through Friday"


def test_a_pic_team_refusal_in_the_admin_is_japanese_and_the_api_english(staff, admin_user, api):
    prefer(admin_user, language="ja")
    PicTeamFactory(name="Web QA", slug="web-qa")
    form = {"name": "web qa", "slack_handle": "@web", "is_active": "on"}

    page = staff.post(reverse("admin:taxonomy_picteam_add"), form).content.decode()

    assert "担当チームのスラッグ「web-qa」はすでにあります。" in page
    answer = api(admin_user).post("/api/v2/pic-teams", {"name": "web qa", "slack_handle": "@web"},
                                  format="json", HTTP_ACCEPT_LANGUAGE="ja")
    assert answer.status_code == 409
    assert answer.json()["message"] == 'PIC team slug "web-qa" already exists.'
