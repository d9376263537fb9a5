"""``manage.py import_jobs``: the same import and report as the API, from a file."""

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command

from jobs.models import Job, scheduler_today


@pytest.fixture
def csv_file(tmp_path, team):
    future = (scheduler_today() + dt.timedelta(days=10)).isoformat()
    path = tmp_path / "jobs.csv"
    path.write_text("\n".join([
        "Job Name,Repo,Workflow Name,Cron schedule (JST),End Date,PIC Team",
        f"nightly,web,ci.yml,0 3 * * *,{future},Platform QA",
        f"broken,web,ci.yml,0 3 * *,{future},Platform QA",
    ]), encoding="utf-8")
    return path


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_jobs", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_dry_run_reports_rows_and_creates_nothing(csv_file, admin_user):
    out, err = run(str(csv_file), "--dry-run")
    assert "row 3 (broken): Invalid cron expression" in out
    assert "CSV validated successfully: 1 job(s) would be created, 1 error(s)." in out
    assert "2/2 rows" in err  # the progress bar reached the end
    assert not Job.objects.exists()


def test_a_real_run_creates_the_valid_rows_as_the_named_user(csv_file, owner):
    out, _ = run(str(csv_file), "--user", owner.username, "--default-github-owner", "acme")
    job = Job.objects.get()
    assert (job.name, job.github_owner, job.created_by) == ("nightly", "acme", owner)
    assert "Bulk upload processed: 1 job(s) created, 1 error(s)." in out


def test_json_output_is_the_api_body(csv_file, admin_user):
    out, _ = run(str(csv_file), "--dry-run", "--json")
    body = json.loads(out)
    assert body["created_count"] == 1 and body["errors"][0]["row"] == 3


def test_a_file_with_only_errors_fails_the_command(tmp_path, admin_user):
    path = tmp_path / "bad.csv"
    path.write_text("name,cron\nx,0 3 * * *\n")
    with pytest.raises(CommandError, match="No jobs were created"):
        run(str(path))


def test_a_missing_file_or_user_is_a_clear_error(tmp_path, csv_file, db):
    with pytest.raises(CommandError, match="no such file"):
        run(str(tmp_path / "nope.csv"))
    with pytest.raises(CommandError, match="no such user"):
        run(str(csv_file), "--user", "ghost")
    with pytest.raises(CommandError, match="No active admin"):
        run(str(csv_file))
