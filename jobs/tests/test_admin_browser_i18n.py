"""The Japanese console in a real browser (headless Debian Chromium, Playwright): a user who
prefers Japanese writes a job on the Japanese form (the live cron help says 「平日 10:00」),
reads the upcoming-runs calendar with its 10:00 burst named, and a job page with its run
history chart; every time in JST.

Screenshots go to ``test-artifacts/`` (the README's pictures in docs/screenshots/ are copies).
Skipped, with the reason, when /usr/bin/chromium is not installed.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import UiPreferences
from cronhub.testing.factories import (
    TEST_PASSWORD,
    AdminFactory,
    JobExecutionFactory,
    JobFactory,
    PicTeamFactory,
)
from jobs.models import Job, SchedulerState, scheduler_today
from jobs.tests.test_admin_browser import ARTIFACTS, CHROMIUM, page  # noqa: F401  (the page fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="browser tests need Debian's Chromium at "
                                                     "/usr/bin/chromium (apt-get install chromium)"),
]


def seed(admin):
    PicTeamFactory(name="Web QA", slug="web-qa")
    PicTeamFactory(name="Mobile QA", slug="mobile-qa")
    for index in range(6):
        JobFactory(name=f"web-regression-{index}", cron_expression="0 10 * * 1-5", github=True,
                   pic_team="web-qa", created_by=admin)
    for index in range(3):
        JobFactory(name=f"mobile-smoke-{index}", cron_expression="0 11 * * 1-5", github=True,
                   pic_team="mobile-qa", created_by=admin)
    JobFactory(name="api-health", cron_expression="*/30 * * * *", created_by=admin)
    charted = JobFactory(name="web-nightly", cron_expression="0 10 * * *", github=True, pic_team="web-qa",
                         created_by=admin)
    start = timezone.now() - dt.timedelta(days=90)
    for index in range(90):
        fire = start + dt.timedelta(days=index)
        status = "failed" if index % 11 == 5 else "missed" if index % 29 == 7 else "success"
        JobExecutionFactory(job=charted, status=status, trigger_type="scheduled", scheduled_for=fire,
                            started_at=fire + dt.timedelta(seconds=(index * 7) % 40),
                            duration_seconds=30 + (index * 13) % 90,
                            error_message="HTTP 422 from GitHub" if status == "failed" else None)
    now = timezone.now()
    SchedulerState.objects.create(host="sched-1", pid=4242, leader_since=now - dt.timedelta(hours=3),
                                  heartbeat_at=now, scheduled_jobs_count=Job.objects.count())
    return charted


def test_the_japanese_console_form_calendar_and_run_history(page, live_server, webhook_server):  # noqa: F811
    from playwright.sync_api import expect

    admin = AdminFactory(username="hanako", email="hanako@example.com")
    UiPreferences.objects.create(user=admin, language="ja")
    charted = seed(admin)
    base = live_server.url

    page.goto(f"{base}/admin/")
    page.fill("#id_username", "hanako")
    page.fill("#id_password", TEST_PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#dashboard-scheduler h2")).to_have_text("スケジューラー")
    expect(page.locator("#dashboard-scheduler")).to_contain_text("JST")
    page.screenshot(path=str(ARTIFACTS / "dashboard-ja.png"))

    # The Japanese job form: labels, sections and the live cron help in Japanese.
    page.goto(f"{base}/admin/jobs/job/add/")
    expect(page.locator("label[for=id_pic_team]")).to_contain_text("担当チーム")
    expect(page.locator("fieldset h2", has_text="スケジュール")).to_have_count(1)
    page.fill("#id_name", "web-checkout-e2e")
    page.locator("#id_cron_expression").press_sequentially("0 10 * * 1-5", delay=30)
    help_box = page.locator("#cronhub-cron-help")
    expect(help_box.locator(".cronhub-cron-description")).to_have_text("平日 10:00")
    expect(help_box.locator("li").first).to_contain_text("10:00:00 JST")
    page.fill("#id_end_date", (scheduler_today() + dt.timedelta(days=120)).isoformat())
    page.fill("#id_target_url", webhook_server.url_for("/e2e"))
    page.select_option("#id_pic_team", "web-qa")
    page.screenshot(path=str(ARTIFACTS / "job-form-ja.png"))
    page.click("input[name=_save]")
    expect(page.locator("ul.messagelist")).to_contain_text("web-checkout-e2e")
    assert Job.objects.filter(name="web-checkout-e2e", cron_expression="0 10 * * 1-5").exists()

    # The calendar: the 10:00 burst names its jobs; filtered to one team.
    page.goto(f"{base}/admin/jobs/job/")
    page.click("a.cronhub-calendar-link")
    expect(page.locator("h1")).to_have_text("今後の実行予定")
    page.select_option("select[name=window]", "7d")
    page.click("#calendar-filters input[type=submit]")
    busiest = page.locator("#calendar-bursts tbody tr").first
    expect(busiest).to_contain_text("web-regression-0")
    expect(busiest).to_contain_text("10:00:00 JST")
    assert page.locator("svg.cronhub-load").count() == 1
    page.screenshot(path=str(ARTIFACTS / "calendar-ja.png"))  # the top: filters, load, bursts
    page.select_option("select[name=team]", "mobile-qa")
    page.click("#calendar-filters input[type=submit]")
    expect(page.locator("#calendar-runs")).not_to_contain_text("web-regression-0")
    expect(page.locator("#calendar-runs")).to_contain_text("mobile-smoke-0")

    # The job page: the last 90 runs as a chart.
    page.goto(f"{base}/admin/jobs/job/{charted.pk}/change/")
    expect(page.locator("#run-history h2")).to_contain_text("実行履歴")
    assert page.locator("#run-history svg g.run").count() == 90
    assert page.locator("#run-history svg g.run-failed").count() == 8
    page.locator("#run-history").screenshot(path=str(ARTIFACTS / "job-history-ja.png"))
