"""Each role in a real browser (headless Debian Chromium, Playwright) against a live server:
a user creates, edits, runs and deletes its own job and is refused on another's; a viewer
sees and cannot change; an admin does everything; a fresh install creates its first job in
one submit. Screenshots go to ``cronhub.testing.browser.screenshots_dir()``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cronhub.testing.browser import chromium_context, log_in, needs_chromium, screenshots_dir
from cronhub.testing.factories import (
    TEST_PASSWORD,
    AdminFactory,
    JobFactory,
    PicTeamFactory,
    UserFactory,
    ViewerFactory,
)
from jobs.models import Job, JobExecution, scheduler_today

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def browser_context(live_server, monkeypatch):
    yield from chromium_context(monkeypatch)


@pytest.fixture
def page(browser_context):
    return browser_context.new_page()


def in_90_days() -> str:
    return (scheduler_today() + dt.timedelta(days=90)).isoformat()


def wait_for_run(page, job: Job) -> None:
    for _ in range(40):
        if JobExecution.objects.filter(job=job).exclude(status="running").exists():
            return
        page.wait_for_timeout(250)
    pytest.fail("the run did not finish")


def test_a_user_manages_its_own_job_and_is_refused_on_anothers(page, live_server, webhook_server):
    from playwright.sync_api import expect

    user = UserFactory(username="uma")
    other = UserFactory(username="otto")
    PicTeamFactory(name="Platform QA", slug="platform-qa")
    theirs = JobFactory(name="otto-nightly", created_by=other, target_url=webhook_server.url_for("/otto"))
    base = live_server.url
    log_in(page, base, "uma", TEST_PASSWORD)

    # Create.
    page.goto(f"{base}/admin/jobs/job/add/")
    page.fill("#id_name", "uma-smoke")
    page.fill("#id_cron_expression", "0 10 * * 1-5")
    page.fill("#id_end_date", in_90_days())
    page.fill("#id_target_url", webhook_server.url_for("/uma"))
    page.select_option("#id_pic_team", "platform-qa")
    page.click("input[name=_save]")
    expect(page.locator("ul.messagelist")).to_contain_text("uma-smoke")
    job = Job.objects.get(name="uma-smoke")
    assert job.created_by == user

    # Edit.
    page.goto(f"{base}/admin/jobs/job/{job.pk}/change/")
    page.fill("#id_cron_expression", "0 11 * * 1-5")
    page.click("input[name=_continue]")
    expect(page.locator("ul.messagelist")).to_contain_text("changed successfully")
    job.refresh_from_db()
    assert job.cron_expression == "0 11 * * 1-5"

    # Run now.
    page.click("button.cronhub-run-now")
    expect(page.locator("ul.messagelist")).to_contain_text("Started 1 run(s)")
    wait_for_run(page, job)
    assert [request.path for request in webhook_server.requests] == ["/uma"]
    page.screenshot(path=str(screenshots_dir() / "user-own-job.png"), full_page=True)

    # Another's job: read-only, no run button; a pause through the list is a 403.
    page.goto(f"{base}/admin/jobs/job/{theirs.pk}/change/")
    expect(page.locator("input[name=_save]")).to_have_count(0)
    expect(page.locator("button.cronhub-run-now")).to_have_count(0)
    expect(page.locator("#content")).to_contain_text("otto-nightly")
    page.goto(f"{base}/admin/jobs/job/")
    page.check(f"input.action-select[value='{theirs.pk}']")
    page.select_option("select[name=action]", "pause_jobs")
    page.click("button[name=index]")
    expect(page.locator("h1")).to_have_text("Not allowed (403)")
    page.screenshot(path=str(screenshots_dir() / "user-refused.png"), full_page=True)
    page.goto(f"{base}/admin/jobs/job/{theirs.pk}/delete/")
    expect(page.locator("h1")).to_have_text("Not allowed (403)")
    theirs.refresh_from_db()
    assert theirs.is_active and webhook_server.requests[-1].path == "/uma"

    # Delete its own.
    page.goto(f"{base}/admin/jobs/job/{job.pk}/delete/")
    page.click("input[type=submit]")
    expect(page.locator("ul.messagelist")).to_contain_text("deleted successfully")
    assert not Job.objects.filter(pk=job.pk).exists()


def test_a_viewer_sees_everything_and_changes_nothing(page, live_server):
    from playwright.sync_api import expect

    ViewerFactory(username="vic")
    owner = UserFactory(username="olivia")
    job = JobFactory(name="olivia-nightly", created_by=owner, target_url="https://hooks.example.com/t/TOKEN")
    base = live_server.url
    log_in(page, base, "vic", TEST_PASSWORD)

    page.goto(f"{base}/admin/jobs/job/")
    expect(page.locator("#result_list")).to_contain_text("olivia-nightly")
    # (the sidebar offers the viewer its own API tokens; the job list offers nothing)
    expect(page.locator("#content-main a.addlink")).to_have_count(0)
    options = page.locator("select[name=action] option").all_inner_texts()
    assert not [text for text in options if "Run" in text or "Pause" in text or "Delete" in text]

    page.goto(f"{base}/admin/jobs/job/{job.pk}/change/")
    expect(page.locator("input[name=_save]")).to_have_count(0)
    expect(page.locator("#content")).to_contain_text("https://hooks.example.com/****")
    assert "TOKEN" not in page.content()
    page.screenshot(path=str(screenshots_dir() / "viewer-job-page.png"), full_page=True)

    page.goto(f"{base}/admin/jobs/job/add/")
    expect(page.locator("h1")).to_have_text("Not allowed (403)")
    page.goto(f"{base}/admin/integrations/slacksettings/")
    expect(page.locator("h1")).to_have_text("Not allowed (403)")
    job.refresh_from_db()
    assert job.name == "olivia-nightly" and job.is_active


def test_an_admin_clones_reads_the_history_exports_and_deletes_anothers_job(page, live_server):
    from playwright.sync_api import expect

    AdminFactory(username="ada")
    owner = UserFactory(username="olivia")
    PicTeamFactory(name="Platform QA", slug="platform-qa")
    job = JobFactory(name="olivia-nightly", created_by=owner, pic_team="platform-qa",
                     end_date=scheduler_today() + dt.timedelta(days=30))
    base = live_server.url
    log_in(page, base, "ada", TEST_PASSWORD)
    expect(page.locator("#content-main")).to_contain_text("System (internal, read-only)")
    page.screenshot(path=str(screenshots_dir() / "admin-dashboard.png"), full_page=True)

    # Clone: the form comes filled in under a free name; one save creates the copy.
    page.goto(f"{base}/admin/jobs/job/{job.pk}/change/")
    page.click("a.cronhub-clone-link")
    expect(page.locator("#id_name")).to_have_value("olivia-nightly (copy)")
    page.click("input[name=_save]")
    expect(page.locator("ul.messagelist")).to_contain_text("olivia-nightly (copy)")

    # Edit another's job, then read who did what.
    page.goto(f"{base}/admin/jobs/job/{job.pk}/change/")
    page.fill("#id_cron_expression", "30 10 * * 1-5")
    page.click("input[name=_continue]")
    page.click("a.historylink")
    expect(page.locator("#change-history tbody tr").first).to_contain_text("ada")
    expect(page.locator("#change-history tbody tr").first).to_contain_text("30 10 * * 1-5")
    page.screenshot(path=str(screenshots_dir() / "admin-job-history.png"), full_page=True)

    # Export: the CSV the import reads.
    page.goto(f"{base}/admin/jobs/job/")
    with page.expect_download() as download:
        page.click("a.cronhub-export-csv-link")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.startswith("Job Name,") and "olivia-nightly (copy)" in text

    # Delete another's job.
    page.goto(f"{base}/admin/jobs/job/{job.pk}/delete/")
    page.click("input[type=submit]")
    expect(page.locator("ul.messagelist")).to_contain_text("deleted successfully")
    assert list(Job.objects.values_list("name", flat=True)) == ["olivia-nightly (copy)"]


def test_a_fresh_install_creates_its_first_job_in_one_submit(page, live_server, webhook_server):
    from playwright.sync_api import expect

    AdminFactory(username="admin")  # a fresh install: one admin, no team, no job
    base = live_server.url
    log_in(page, base, "admin", TEST_PASSWORD)
    page.screenshot(path=str(screenshots_dir() / "dashboard.png"), full_page=True)

    page.goto(f"{base}/admin/jobs/job/add/")
    page.wait_for_load_state("networkidle")
    # Nothing typed, nothing refused: the cron help stays quiet, no field shows an error.
    expect(page.locator("#cronhub-cron-help")).to_have_text("")
    expect(page.locator(".errorlist")).to_have_count(0)
    expect(page.locator("label[for=id_end_date]")).to_have_class("required")

    # The PIC team: added from the form's "+", handed back selected.
    with page.expect_popup() as popup_info:
        page.click("#add_id_pic_team")
    popup = popup_info.value
    popup.fill("#id_name", "QA Tech")
    popup.fill("#id_slack_handle", "@qa-tech")
    popup.click("input[name=_save]")
    popup.wait_for_event("close")
    expect(page.locator("#id_pic_team")).to_have_value("qa-tech")

    page.fill("#id_name", "first-job")
    page.fill("#id_cron_expression", "0 10 * * 1-5")
    expect(page.locator("#cronhub-cron-help .cronhub-cron-description")).not_to_be_empty()
    page.fill("#id_end_date", in_90_days())
    page.fill("#id_target_url", webhook_server.url_for("/first"))
    page.screenshot(path=str(screenshots_dir() / "first-job-form.png"), full_page=True)
    page.click("input[name=_continue]")

    expect(page.locator("ul.messagelist")).to_contain_text("first-job")
    job = Job.objects.get()
    assert (job.name, job.pic_team, job.metadata) == ("first-job", "qa-tech", None)
    expect(page.locator("#id_metadata")).to_have_value("{}")
    page.screenshot(path=str(screenshots_dir() / "job-page.png"), full_page=True)
