"""Jobs exported as the CSV the import reads, and as JSON: export → import into an install
without those jobs creates the same jobs; spreadsheet formulas are neutralised on the way out
and restored on the way in; webhook secrets only for those who may see them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.urls import reverse

from cronhub.testing.factories import JobFactory, PicTeamFactory
from jobs.models import Job, scheduler_today
from jobs.services.exports import job_body, jobs_export_csv
from jobs.services.imports import jobs_import_csv, neutralise_cell, restore_cell
from jobs.tests.sample_csv import TEAMS, moved_forward

pytestmark = [pytest.mark.django_db, pytest.mark.dbcompat]


def snapshot(user) -> dict[str, dict]:
    return {job.name: job_body(job, user=user) for job in Job.objects.all()}


def reimport(text: str, user) -> dict:
    """Into an install without the jobs (its teams exist), as the import would be run."""
    Job.objects.all().delete()
    report = jobs_import_csv(data=("\ufeff" + text).encode(), user=user, dry_run=False, filename="export.csv")
    assert report.errors == []
    return report.as_dict()


@pytest.mark.parametrize("value", ["=SUM(A1)", "+81 3", "-rm", "@daily", "'quoted", "''twice", "'=both",
                                   "\tindent", "plain", "", "a=b", "'"])
def test_a_neutralised_cell_restores_to_what_it_was(value):
    written = neutralise_cell(value)

    assert restore_cell(written) == value
    assert not written.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_export_then_import_creates_the_same_jobs_even_with_formula_like_names(admin_user, owner):
    PicTeamFactory(name="Platform QA", slug="platform-qa", slack_handle="@qa")
    end = scheduler_today() + dt.timedelta(days=90)
    JobFactory(name="=HYPERLINK(\"http://x\")", cron_expression="@daily", end_date=end, created_by=owner,
               target_url="https://hooks.example.com/a?token=1", metadata={"formula": "=1+1", "日本": "語"})
    JobFactory(name="+plus, with comma", github=True, end_date=end, timezone="UTC", is_active=False)
    JobFactory(name="-minus", cron_expression="*/15 9-18 * * 1-5", end_date=end,
               enable_email_notifications=True, notification_emails="a@example.com,b@example.com",
               notify_on_success=True)
    JobFactory(name="@at 'quoted'", end_date=end, category="general", metadata=None)
    JobFactory(name="'leading apostrophe", end_date=end)
    JobFactory(name="平日 10:00 の回帰テスト", cron_expression="0 10 * * 1-5", end_date=end)
    before = snapshot(admin_user)

    text = jobs_export_csv(Job.objects.all(), user=admin_user)
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@"))]
    reimport(text, owner)

    assert snapshot(admin_user) == before
    assert set(Job.objects.values_list("created_by", flat=True)) == {owner.pk}


def test_the_sample_upload_survives_an_export_and_an_import(admin_user):
    for name in TEAMS:
        PicTeamFactory(name=name, slug=name.lower().replace(" ", "-"))
    first = jobs_import_csv(data=moved_forward(), user=admin_user, dry_run=False, filename="sample.csv")
    assert first.created_count == 46
    before = snapshot(admin_user)

    reimport(jobs_export_csv(Job.objects.all(), user=admin_user), admin_user)

    assert snapshot(admin_user) == before


def test_the_export_masks_webhook_secrets_for_a_viewer_and_shows_them_to_the_owner(api, owner, viewer):
    JobFactory(name="secret", created_by=owner, target_url="https://hooks.example.com/t/TOKEN")

    as_owner = api(owner).get("/api/v2/jobs/export?type=json").json()
    as_viewer = api(viewer).get("/api/v2/jobs/export?type=json").json()
    viewer_csv = api(viewer).get("/api/v2/jobs/export").content.decode("utf-8-sig")

    assert as_owner["jobs"][0]["target_url"] == "https://hooks.example.com/t/TOKEN"
    assert as_viewer["jobs"][0]["target_url"] == "https://hooks.example.com/****"
    assert "TOKEN" not in viewer_csv and viewer_csv.startswith("Job Name,")


def test_the_json_export_is_a_list_of_bodies_the_create_endpoint_accepts(api, owner):
    PicTeamFactory(name="Platform QA", slug="platform-qa")
    JobFactory(name="one", created_by=owner, metadata={"k": "v"})
    body = api(owner).get("/api/v2/jobs/export?type=json").json()["jobs"][0]
    Job.objects.all().delete()

    created = api(owner).post("/api/v2/jobs", {k: v for k, v in body.items() if k != "is_active"},
                              format="json")

    assert created.status_code == 201, created.content
    assert job_body(Job.objects.get(name="one"), user=owner) == body


def test_the_admin_exports_all_jobs_or_the_selected_ones(staff):
    JobFactory(name="a")
    JobFactory(name="b")

    everything = staff.get(reverse("admin:jobs_job_export") + "?type=csv")
    selected = staff.post(reverse("admin:jobs_job_changelist"),
                          {"action": "export_json", "_selected_action": [Job.objects.get(name="b").pk]})

    assert everything["Content-Disposition"] == 'attachment; filename="cronhub-jobs.csv"'
    rows = list(csv.reader(io.StringIO(everything.content.decode("utf-8-sig"))))
    assert [row[0] for row in rows] == ["Job Name", "a", "b"]
    assert [job["name"] for job in json.loads(selected.content)["jobs"]] == ["b"]


def test_the_import_reads_the_email_columns_in_the_words_spreadsheets_use(owner):
    PicTeamFactory(name="Platform QA", slug="platform-qa")
    end = (scheduler_today() + dt.timedelta(days=30)).isoformat()
    text = ("Job Name,Cron Expression,Target URL,End Date,PIC Team,Email Notifications,"
            "Notification Emails,Notify On Success\n"
            f"on,0 1 * * *,https://h.example.com/a,{end},platform-qa,Enable,"
            "\"a@example.com, b@example.com\",yes\n"
            f"off,0 1 * * *,https://h.example.com/b,{end},platform-qa,Disable,a@example.com,yes\n"
            f"absent,0 1 * * *,https://h.example.com/c,{end},platform-qa,,,\n")

    report = jobs_import_csv(data=text.encode(), user=owner, dry_run=False)

    assert report.errors == []
    on, off, absent = (Job.objects.get(name=name) for name in ("on", "off", "absent"))
    assert (on.enable_email_notifications, on.notification_email_list, on.notify_on_success) == (
        True, ["a@example.com", "b@example.com"], True)
    assert (off.enable_email_notifications, off.notification_email_list, off.notify_on_success) == (
        False, [], False)
    assert absent.enable_email_notifications is False


def test_the_api_export_uploads_back_through_the_bulk_upload(api, admin_user, owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    PicTeamFactory(name="Platform QA", slug="platform-qa")
    JobFactory(name="=cmd|' /C calc'!A0", created_by=admin_user, cron_expression="@hourly")
    JobFactory(name="github one", github=True, created_by=admin_user, is_active=False)
    before = snapshot(admin_user)
    exported = api(admin_user).get("/api/v2/jobs/export")
    assert exported["Content-Type"] == "text/csv; charset=utf-8"
    assert b"'=cmd" in exported.content and b"'@hourly" in exported.content
    Job.objects.all().delete()

    upload = api(owner).post("/api/v2/jobs/bulk-upload", {
        "file": SimpleUploadedFile("cronhub-jobs.csv", exported.content, content_type="text/csv")},
        format="multipart")

    assert upload.status_code == 200, upload.content
    assert upload.json()["created_count"] == 2
    assert snapshot(admin_user) == before
