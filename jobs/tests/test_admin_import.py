"""CSV import in the admin: upload → dry-run preview with per-row errors →
confirm, through the same import service as the API."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cronhub.testing.factories import PicTeamFactory
from jobs.models import Job
from jobs.tests.sample_csv import TEAMS, moved_forward, sample_path

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:jobs_job_import")


@pytest.fixture
def sample_teams(db):
    return [PicTeamFactory(name=name) for name in TEAMS]


def upload(client, content: bytes, name: str = "jobs.csv", **extra):
    return client.post(
        IMPORT, {"step": "preview", "file": SimpleUploadedFile(name, content, "text/csv"), **extra}
    )


def test_the_sample_file_previews_46_jobs_and_62_duplicate_rows_without_saving(staff, sample_teams):
    response = upload(staff, moved_forward(sample_path()), name="sample_bulk_upload.csv")

    assert response.status_code == 200
    report = response.context["report"]
    assert (report["created_count"], report["error_count"]) == (46, 62)
    assert {error["error"] for error in report["errors"]} == {"Duplicate job name in CSV"}
    assert not Job.objects.exists()
    body = response.content.decode()
    assert 'id="import-confirm"' in body
    assert "Preview of sample_bulk_upload.csv (nothing saved yet)" in body


def test_confirming_imports_exactly_the_previewed_file(staff, sample_teams, admin_user):
    upload(staff, moved_forward(sample_path()), default_github_owner="acme-qa")

    response = staff.post(IMPORT, {"step": "confirm"}, follow=True)

    assert "46 job(s) created, 62 row(s) skipped" in response.content.decode()
    assert Job.objects.count() == 46
    assert Job.objects.filter(is_active=True).count() == 25
    assert set(Job.objects.values_list("github_owner", flat=True)) == {"acme-qa"}
    assert set(Job.objects.values_list("created_by", flat=True)) == {admin_user.pk}
    assert staff.post(IMPORT, {"step": "confirm"}, follow=True).redirect_chain[-1][0] == IMPORT  # used up


def test_row_errors_are_listed_and_a_file_with_no_valid_row_cannot_be_confirmed(staff, sample_teams):
    content = (
        b"Job Name,Repo,Workflow Name,Cron schedule (JST),End Date,PIC Team\n"
        b"bad-cron,repo,wf,61 * * * *,2099-01-01,PAM\n"
        b"no-team,repo,wf,0 1 * * *,2099-01-01,Nobody\n"
    )

    response = upload(staff, content)

    report = response.context["report"]
    assert [(e["row"], e["job_name"], e["error"]) for e in report["errors"]] == [
        (2, "bad-cron", "Invalid cron expression"),
        (3, "no-team", "Invalid PIC team"),
    ]
    body = response.content.decode()
    assert 'id="import-confirm"' not in body
    assert "Unknown PIC team" in body
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The submitted file is empty."),
        (b"\x00\x01\x02", "Invalid CSV: The file is not a CSV text file."),
    ],
)
def test_an_unreadable_file_is_refused_on_the_form(staff, content, message):
    response = upload(staff, content)

    assert response.context["form"].errors["file"] == [message]
    assert "report" not in response.context


def test_import_is_for_writers_as_in_the_api(client, owner, viewer):
    assert client.get(IMPORT).status_code == 302  # to the login page
    client.force_login(viewer)
    assert client.get(IMPORT).status_code == 403
    client.force_login(owner)
    assert client.get(IMPORT).status_code == 200


def test_the_job_list_links_to_the_import(staff):
    assert IMPORT in staff.get(reverse("admin:jobs_job_changelist")).content.decode()
