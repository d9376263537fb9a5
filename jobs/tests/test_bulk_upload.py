"""POST /api/v2/jobs/bulk-upload and the import service."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cronhub.testing.factories import JobFactory, PicTeamFactory
from jobs.models import Job, scheduler_today
from jobs.tests.sample_csv import SAMPLE, TEAMS, moved_forward
from notifications.models import Notification

URL = "/api/v2/jobs/bulk-upload"
HEADER = "Job Name,Repo,Workflow Name,Branch,Cron schedule (JST),Status,End Date,PIC Team,Request Body"


@pytest.fixture
def future() -> str:
    return (scheduler_today() + dt.timedelta(days=60)).isoformat()


def upload(client, text: str | bytes, name: str = "jobs.csv", **form):
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        URL, {"file": SimpleUploadedFile(name, data, content_type="text/csv"), **form}, format="multipart"
    )


@pytest.fixture
def sample_teams(db):
    for name in TEAMS:
        PicTeamFactory(name=name, slug=name.lower().replace(" ", "-"))


# --- the sample file ------------------------------------------------------------------------


def test_a_dry_run_of_the_sample_gives_the_documented_counts_and_writes_nothing(api, owner, sample_teams):
    response = upload(api(owner), moved_forward(), dry_run="true")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "CSV validated successfully" and body["dry_run"] is True
    assert (body["created_count"], body["error_count"]) == (46, 62)
    assert {error["error"] for error in body["errors"]} == {"Duplicate job name in CSV"}
    assert sum(job["is_active"] for job in body["jobs"]) == 25
    assert body["stats"]["original_column_count"] == 9 and body["stats"]["original_row_count"] == 108
    assert set(body["jobs"][0]) == {"name", "is_active", "cron_expression", "end_date", "pic_team"}
    assert not Job.objects.exists()


@pytest.mark.dbcompat
def test_a_real_upload_of_the_sample_creates_the_46_jobs_with_the_default_owner(
    api, owner, other_user, sample_teams
):
    response = upload(api(owner), moved_forward(), default_github_owner="acme")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Bulk upload processed" and body["created_count"] == 46
    assert Job.objects.count() == 46 and Job.objects.filter(is_active=True).count() == 25
    job = Job.objects.get(name="For Testing")
    assert (job.github_owner, job.github_repo, job.github_workflow_name) == (
        "acme",
        "qa-automation",
        "Parallel_Test_Launcher",
    )
    assert job.metadata["branchDetails"] == "optimize-tests-distribution"
    assert job.pic_team == "pam" and job.created_by == owner and job.is_active is False
    assert set(body["jobs"][0]) == {"id", "name", "is_active"}
    assert not Notification.objects.exists()  # bulk-created jobs broadcast nothing


def test_the_unmodified_sample_fails_on_its_past_end_dates(api, owner, sample_teams):
    response = upload(api(owner), SAMPLE.read_bytes())
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Bulk upload failed"
    assert body["message"] == "No jobs were created. Fix CSV errors and try again."
    assert {error["error"] for error in body["errors"]} == {"Invalid end_date"}


# --- rows ---------------------------------------------------------------------------------------


def test_per_row_errors_in_the_contract_order_and_shape(api, owner, team, future):
    JobFactory(name="exists")
    text = "\n".join(
        [
            "name,cron,target_url,end_date,pic_team,category,metadata,dispatch_url",
            f"ok,0 3 * * *,https://h.example/x,{future},Platform QA,,,",
            f"bad-dispatch,0 3 * * *,,{future},platform-qa,,,https://example.com/nope",
            f"bad-category,0 3 * * *,https://h.example/x,{future},platform-qa,Nope,,",
            "bad-date,0 3 * * *,https://h.example/x,31/12/2099,platform-qa,,,",
            "no-date,0 3 * * *,https://h.example/x,,platform-qa,,,",
            "past,0 3 * * *,https://h.example/x,2020-01-01,platform-qa,,,",
            f"no-team,0 3 * * *,https://h.example/x,{future},Mobile QA,,,",
            f",0 3 * * *,https://h.example/x,{future},platform-qa,,,",
            f"ok,0 3 * * *,https://h.example/x,{future},platform-qa,,,",
            f"exists,0 3 * * *,https://h.example/x,{future},platform-qa,,,",
            f"bad-cron,0 3 * *,https://h.example/x,{future},platform-qa,,,",
            f'bad-json,0 3 * * *,https://h.example/x,{future},platform-qa,,"{{nope",',
            f"list-json,0 3 * * *,https://h.example/x,{future},platform-qa,,[1],",
            f"no-scheme,0 3 * * *,example.com/hook,{future},platform-qa,,,",
            f"no-target,0 3 * * *,,{future},platform-qa,,,",
        ]
    )
    body = upload(api(owner), text).json()
    assert body["created_count"] == 1
    errors = {error["row"]: error for error in body["errors"]}
    assert errors[3] == {
        "row": 3,
        "job_name": "bad-dispatch",
        "error": "Invalid dispatch_url",
        "message": errors[3]["message"],
    }
    assert errors[3]["message"].startswith("Invalid dispatch URL format.")
    assert errors[4]["error"] == "Invalid category"
    assert errors[5] == {
        "row": 5,
        "job_name": "bad-date",
        "error": "Invalid end_date",
        "message": "Invalid end_date. Use YYYY-MM-DD.",
    }
    assert errors[6]["message"] == "end_date (YYYY-MM-DD) is required."
    assert errors[7]["message"] == "end_date must be today or in the future (JST)."
    assert errors[8] == {
        "row": 8,
        "job_name": "no-team",
        "error": "Invalid PIC team",
        "message": "Unknown PIC team. Create it in Settings → PIC Teams first.",
        "pic_team": "Mobile QA",
        "pic_team_slug": "mobile-qa",
    }
    assert errors[9] == {
        "row": 9,
        "error": "Missing required fields",
        "message": "name and cron_expression are required.",
    }
    assert errors[10] == {"row": 10, "job_name": "ok", "error": "Duplicate job name in CSV"}
    assert errors[11]["error"] == "Duplicate job name"
    assert errors[12]["error"] == "Invalid cron expression"
    assert errors[13]["error"] == "Invalid JSON in Request Body"
    assert errors[14] == {
        "row": 14,
        "job_name": "list-json",
        "error": "Invalid Request Body",
        "message": "Request Body must be a JSON object.",
    }
    assert errors[15] == {
        "row": 15,
        "job_name": "no-scheme",
        "error": "Invalid target_url",
        "message": "target_url must include scheme (http:// or https://).",
    }
    assert errors[16]["error"] == "Missing target configuration"
    assert body["error_count"] == 14
    assert list(Job.objects.exclude(name="exists").values_list("name", flat=True)) == ["ok"]


def test_a_failed_row_does_not_make_a_later_row_a_false_duplicate(api, owner, team, future):
    text = "\n".join(
        [
            "name,cron,url,end date,pic team",
            f"twin,bad cron,https://h.example/x,{future},platform-qa",
            f"twin,0 3 * * *,https://h.example/x,{future},platform-qa",
        ]
    )
    body = upload(api(owner), text).json()
    assert body["created_count"] == 1
    assert [error["error"] for error in body["errors"]] == ["Invalid cron expression"]


def test_dispatch_url_columns_in_every_form_including_path_only(api, owner, team, future):
    text = "\n".join(
        [
            "name,cron,dispatch url,end date,pic team,target url",
            f"ui,0 3 * * *,https://github.com/acme/web/actions/workflows/ci.yml,{future},platform-qa,https://x.example/",
            f"api,0 3 * * *,https://api.github.com/repos/acme/web/actions/workflows/ci.yml/dispatches,{future},"
            "platform-qa,",
            f"path,0 3 * * *,/acme/web/actions/workflows/ci.yml,{future},platform-qa,",
            f"bare,0 3 * * *,acme/web/ci.yml,{future},platform-qa,",
            f"hostless,0 3 * * *,github.com/acme/web/actions/workflows/ci.yml,{future},platform-qa,",
        ]
    )
    body = upload(api(owner), text).json()
    assert body["error_count"] == 0, body["errors"]
    for job in Job.objects.all():
        assert (job.github_owner, job.github_repo, job.github_workflow_name, job.target_url) == (
            "acme",
            "web",
            "ci.yml",
            None,
        ), job.name


def test_aliases_status_words_branch_and_owner_slash_repo(api, owner, team, future):
    text = "\n".join(
        [
            "Job Name,Cron,GitHub Repo,GitHub Workflow Name,ref,Active,End_Date,PIC_Team_Slug,Timezone",
            f"split,0 3 * * *,acme/web,ci.yml,release,off,{future},platform-qa,Europe/Paris",
        ]
    )
    body = upload(api(owner), text, default_github_owner="ignored").json()
    assert body["created_count"] == 1, body["errors"]
    job = Job.objects.get()
    assert (job.github_owner, job.github_repo) == ("acme", "web")
    assert job.metadata == {"branchDetails": "release"} and job.is_active is False
    assert job.timezone == "Europe/Paris"


def test_blank_columns_and_rows_are_normalised_and_counted(api, owner, team, future):
    text = f"name,,cron,url,end date,pic team\n\n ,,,,,\nkept,x,0 3 * * *,https://h.example/,{future},platform-qa\n"
    body = upload(api(owner), text, dry_run="1").json()
    assert body["stats"] == {
        "original_column_count": 6,
        "original_row_count": 3,
        "removed_column_count": 1,
        "removed_empty_row_count": 2,
    }
    assert body["jobs"][0]["name"] == "kept"


def test_all_blank_data_rows_is_a_200_with_nothing(api, owner):
    body = upload(api(owner), "name,cron\n,\n").json()
    assert (body["created_count"], body["error_count"]) == (0, 0)


def test_a_dry_run_with_only_errors_is_a_400_validation_failure(api, owner, team):
    response = upload(api(owner), "name,cron\nx,0 3 * * *\n", dry_run="yes")
    assert response.status_code == 400
    assert response.json()["error"] == "CSV validation failed"
    assert response.json()["message"] == "CSV validation failed"


def test_a_bom_is_stripped(api, owner, team, future):
    text = f"\ufeffname,cron,url,end date,pic team\nbom,0 3 * * *,https://h.example/,{future},platform-qa\n"
    assert upload(api(owner), text).json()["created_count"] == 1


# --- the file ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "CSV is empty."),
        (b" , ,\n1,2,3\n", "CSV header row has no usable column names."),
    ],
)
def test_unusable_files_are_invalid_csv(api, owner, data, message):
    response = upload(api(owner), data)
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid CSV", "message": message}


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe\x00n\x00a\x00m\x00e",
        b"name\n\xc3\x28 broken utf-8\n",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    ],
)
def test_non_csv_or_undecodable_files_are_400s(api, owner, data):
    response = upload(api(owner), data, name="x.png")
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid CSV"


def test_a_file_over_the_limit_is_a_413(api, owner, settings):
    settings.BULK_UPLOAD_MAX_BYTES = 100
    response = upload(api(owner), "name,cron\n" + "x,0 3 * * *\n" * 20)
    assert response.status_code == 413
    assert response.json()["error"] == "File too large"
    assert "100 bytes" in response.json()["message"]


def test_a_missing_file_part_or_a_json_body_is_missing_file(api, owner):
    expected = {"error": "Missing file", "message": 'Upload a CSV file using form field "file".'}
    assert api(owner).post(URL, {"other": "x"}, format="multipart").json() == expected
    assert api(owner).post(URL, {"file": "x"}, format="json").json() == expected


def test_a_viewer_cannot_upload(api, viewer):
    response = upload(api(viewer), "name\nx\n")
    assert response.status_code == 403
    assert response.json() == {"detail": "User or admin access required"}


def test_anonymous_cannot_upload(api, db):
    assert upload(api(), "name\nx\n").status_code == 401


def test_the_react_client_call_reads_counts_and_error_fields(api, owner, team, future):
    text = (
        "Job Name,Target URL,Cron schedule (JST),End Date,PIC Team\n"
        f"a,https://h.example/,0 3 * * *,{future},Ghosts\n"
        f"b,https://h.example/,0 3 * * *,{future},Platform QA\n"
    )
    body = upload(api(owner), text, name="jobs-normalized.csv").json()
    assert body["created_count"] == 1 and body["error_count"] == 1
    error = body["errors"][0]
    assert {"row", "job_name", "error", "message", "pic_team"} <= set(error)
