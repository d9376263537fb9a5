"""The staff console in a real browser (headless Debian Chromium driven by
Playwright) against a live server: log in, read the dashboard, create a job
while the cron help updates, run it, pause it, import the sample CSV.

Screenshots of the dashboard and the job form go to ``test-artifacts/``.
Skipped, with the reason, when /usr/bin/chromium is not installed.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from pathlib import Path

import pytest
from django.db import connections
from django.utils import timezone

from cronhub.testing.factories import TEST_PASSWORD, AdminFactory, JobFactory, PicTeamFactory
from jobs import cron
from jobs.models import Job, JobExecution, SchedulerState, scheduler_today
from jobs.tests.sample_csv import TEAMS, moved_forward, sample_path

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 15_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]


@pytest.fixture
def page(live_server, monkeypatch):
    """A Chromium page; it closes before the live server stops, so the server's
    request threads end (and release their database connections) first."""
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM
    # calls are still plain synchronous code, so Django's async guard must stand down.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(TIMEOUT_MS)
            yield context.new_page()
        finally:
            browser.close()
            # The test's ORM calls ran inside Playwright's greenlet, whose connection
            # Django does not see as this thread's: close it, or the test database
            # cannot be dropped on PostgreSQL.
            connections.close_all()


def test_a_staff_member_runs_the_whole_console_flow(page, live_server, webhook_server):
    from playwright.sync_api import expect

    admin = AdminFactory(username="staff_sam", email="sam@example.com")
    PicTeamFactory(name="Platform QA", slug="platform-qa")
    for name in TEAMS:
        PicTeamFactory(name=name)
    JobFactory(name="existing-hourly", cron_expression="0 * * * *", created_by=admin)
    now = timezone.now()
    SchedulerState.objects.create(
        host="sched-host-1",
        pid=31337,
        leader_since=now - dt.timedelta(hours=2),
        heartbeat_at=now,
        scheduled_jobs_count=1,
    )
    base = live_server.url

    # Log in, land on the dashboard.
    page.goto(f"{base}/admin/")
    page.fill("#id_username", "staff_sam")
    page.fill("#id_password", TEST_PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#dashboard-scheduler")).to_contain_text("sched-host-1")
    expect(page.locator("#dashboard-scheduler")).to_contain_text("31337")
    expect(page.locator("#dashboard-upcoming")).to_contain_text("existing-hourly")
    assert page.locator("#dashboard-chart svg").count() == 1
    page.screenshot(path=str(ARTIFACTS / "admin-dashboard.png"), full_page=True)

    # Create a job: the help under the cron field follows the typing.
    page.goto(f"{base}/admin/jobs/job/add/")
    page.fill("#id_name", "browser-made-job")
    help_box = page.locator("#cronhub-cron-help")
    cron_field = page.locator("#id_cron_expression")
    cron_field.press_sequentially("0 9 * *", delay=40)
    expect(help_box.locator(".cronhub-cron-error")).to_have_text(cron.validate("0 9 * *"))
    cron_field.press_sequentially(" 1-5", delay=40)
    expect(help_box.locator(".cronhub-cron-description")).to_have_text(cron.parse("0 9 * * 1-5").describe())
    expect(help_box.locator("li")).to_have_count(5)
    page.select_option("#id_timezone", "America/New_York")
    expect(help_box.locator(".cronhub-cron-heading")).to_contain_text("America/New_York")
    first = dt.datetime.fromisoformat(help_box.locator("li").first.get_attribute("data-iso"))
    expected = cron.parse("0 9 * * 1-5").next_fire_times(
        zoneinfo.ZoneInfo("America/New_York"), timezone.now(), 1
    )[0]
    assert first == expected and (first.hour, first.minute) == (9, 0)

    page.fill("#id_end_date", (scheduler_today() + dt.timedelta(days=90)).isoformat())
    page.fill("#id_target_url", webhook_server.url_for("/browser-hook"))
    page.select_option("#id_pic_team", "platform-qa")
    page.screenshot(path=str(ARTIFACTS / "admin-job-form.png"), full_page=True)
    page.click("input[name=_save]")
    expect(page.locator("ul.messagelist")).to_contain_text("browser-made-job")
    job = Job.objects.get(name="browser-made-job")
    assert (job.cron_expression, job.timezone, job.created_by) == ("0 9 * * 1-5", "America/New_York", admin)

    # Run it now: the run happens in the background and its execution shows up.
    page.goto(f"{base}/admin/jobs/job/{job.pk}/change/")
    page.click("button.cronhub-run-now")
    expect(page.locator("ul.messagelist")).to_contain_text("Started 1 run(s) in the background")
    for _ in range(30):
        if JobExecution.objects.filter(job=job).exclude(status="running").exists():
            break
        page.wait_for_timeout(500)
    page.goto(f"{base}/admin/jobs/jobexecution/")
    row = page.locator("#result_list tbody tr", has_text="browser-made-job")
    expect(row.locator(".cronhub-status-success")).to_have_count(1)
    assert [request.path for request in webhook_server.requests] == ["/browser-hook"]

    # Pause it from the list.
    page.goto(f"{base}/admin/jobs/job/?q=browser-made-job")
    page.check(f"input.action-select[value='{job.pk}']")
    page.select_option("select[name=action]", "pause_jobs")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_contain_text("Paused 1 job(s)")
    job.refresh_from_db()
    assert job.is_active is False

    # Import the sample CSV: preview first, then confirm.
    page.goto(f"{base}/admin/jobs/job/")
    page.click("a.cronhub-import-link")
    page.set_input_files(
        "#id_file",
        files=[
            {
                "name": "sample_bulk_upload.csv",
                "mimeType": "text/csv",
                "buffer": moved_forward(sample_path()),
            }
        ],
    )
    page.click("#import-preview-button")
    expect(page.locator("#import-created-count")).to_have_text("46")
    expect(page.locator("#import-error-count")).to_have_text("62")
    expect(page.locator("#import-errors")).to_contain_text("Duplicate job name in CSV")
    assert Job.objects.count() == 2  # a preview saves nothing
    page.click("#import-confirm")
    expect(page.locator("ul.messagelist")).to_contain_text("46 job(s) created, 62 row(s) skipped")
    page.goto(f"{base}/admin/jobs/job/?q=STG+-+PAM_BO")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    page.screenshot(path=str(ARTIFACTS / "admin-job-list.png"), full_page=True)
    expect(page.locator("#result_list")).to_contain_text(re.compile(r"STG - PAM_BO - RERUN"))
    assert Job.objects.count() == 48
