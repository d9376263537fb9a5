"""The audit trail: every change to a job, team, category or Slack settings is recorded with
its author and entry point — the API, the admin, the CSV import, the scheduler — and read
back through the admin's history page and ``GET /api/v2/jobs/{id}/history``, secrets masked."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from cronhub import audit
from cronhub.testing.factories import JobFactory, PicTeamFactory, SlackSettingsFactory
from integrations.models import SlackSettings
from jobs.models import Job, TriggerType, scheduler_today
from jobs.services import job_execute
from jobs.services.end_dates import jobs_auto_pause_expired
from taxonomy.models import PicTeam

pytestmark = [pytest.mark.django_db, pytest.mark.dbcompat]

HEADER = "Job Name,Cron Expression,Target URL,End Date,PIC Team\n"


@pytest.fixture
def team(db):
    return PicTeamFactory(name="Platform QA", slug="platform-qa", slack_handle="@qa")


def latest(job: Job):
    return Job.history.filter(id=job.pk).order_by("-history_date", "-history_id").first()


def api_history(api, user, job, **params):
    response = api(user).get(f"/api/v2/jobs/{job.pk}/history", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_an_api_update_is_recorded_with_its_author_and_what_changed(api, owner, team):
    job = JobFactory(created_by=owner, cron_expression="0 3 * * *")

    response = api(owner).put(f"/api/v2/jobs/{job.pk}", {"cron_expression": "0 10 * * 1-5"}, format="json")

    assert response.status_code == 200
    row = latest(job)
    assert (row.history_type, row.history_author, row.history_via) == ("~", owner.username, audit.API)
    assert row.history_user_id == owner.pk
    entry = api_history(api, owner, job)["history"][0]
    assert entry["author"] == owner.username and entry["via"] == "api" and entry["action"] == "changed"
    assert {"field": "cron_expression", "old": "0 3 * * *", "new": "0 10 * * 1-5"} in entry["changes"]


def test_an_admin_update_is_recorded_with_the_admin_as_author(staff, admin_user, team):
    job = JobFactory(name="nightly", pic_team="platform-qa", target_url="https://hooks.example.com/a")
    data = {
        "name": "nightly", "is_active": "on", "cron_expression": "15 11 * * *", "timezone": "Asia/Tokyo",
        "end_date": job.end_date.isoformat(), "target_url": job.target_url, "github_owner": "",
        "github_repo": "", "github_workflow_name": "", "metadata": "{}", "notification_emails": "",
        "category": "general", "pic_team": "platform-qa", "created_by": job.created_by_id,
        "executions-TOTAL_FORMS": "0", "executions-INITIAL_FORMS": "0",
        "executions-MIN_NUM_FORMS": "0", "executions-MAX_NUM_FORMS": "0",
    }

    assert staff.post(reverse("admin:jobs_job_change", args=[job.pk]), data).status_code == 302

    row = latest(job)
    assert (row.history_author, row.history_via, row.cron_expression) == (
        admin_user.username, audit.ADMIN, "15 11 * * *")
    page = staff.get(reverse("admin:jobs_job_history", args=[job.pk])).content.decode()
    assert admin_user.username in page and "15 11 * * *" in page and "admin" in page


def test_a_csv_import_records_each_job_as_imported_by_the_importing_user(owner, team):
    end = (scheduler_today() + dt.timedelta(days=30)).isoformat()
    path_csv = io.BytesIO((HEADER + f"imported,0 10 * * 1-5,https://hooks.example.com/i,{end},platform-qa\n")
                          .encode())
    from jobs.services.imports import jobs_import_csv

    report = jobs_import_csv(data=path_csv.getvalue(), user=owner, dry_run=False, filename="jobs.csv")

    assert report.created_count == 1
    row = latest(Job.objects.get(name="imported"))
    assert (row.history_type, row.history_author, row.history_via, row.history_change_reason) == (
        "+", owner.username, audit.IMPORT, "Imported from jobs.csv")


def test_the_import_command_names_its_user_too(tmp_path, owner, team):
    end = (scheduler_today() + dt.timedelta(days=30)).isoformat()
    source = tmp_path / "batch.csv"
    source.write_text(HEADER + f"from-cli,0 10 * * *,https://hooks.example.com/c,{end},platform-qa\n")

    call_command("import_jobs", str(source), "--user", owner.username, stdout=io.StringIO())

    row = latest(Job.objects.get(name="from-cli"))
    assert (row.history_author, row.history_via) == (owner.username, audit.IMPORT)


def test_the_end_date_auto_pause_is_recorded_as_the_schedulers(api, owner):
    yesterday = scheduler_today() - dt.timedelta(days=1)
    job = JobFactory(created_by=owner, end_date=yesterday, is_active=True)

    assert [paused.pk for paused in jobs_auto_pause_expired(silent=True)] == [job.pk]

    row = latest(job)
    assert (row.history_author, row.history_via, row.is_active) == ("scheduler", audit.SCHEDULER, False)
    assert row.history_change_reason == "Paused: past its end date"
    entry = api_history(api, owner, job)["history"][0]
    assert entry["author"] == "scheduler"
    assert {"field": "is_active", "old": True, "new": False} in entry["changes"]


def test_a_fire_time_of_an_expired_job_pauses_it_as_the_scheduler(owner):
    job = JobFactory(created_by=owner, end_date=scheduler_today() - dt.timedelta(days=1))

    assert job_execute(job=job, trigger=TriggerType.SCHEDULED,
                       scheduled_for=dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)) is None

    row = latest(job)
    assert (row.history_author, row.is_active) == ("scheduler", False)


def test_a_pause_that_loses_the_race_writes_no_history(owner):
    job = JobFactory(created_by=owner, is_active=False)
    before = Job.history.filter(id=job.pk).count()

    assert job.pause(via=audit.SCHEDULER) is False
    assert Job.history.filter(id=job.pk).count() == before


def test_a_viewer_reads_the_history_with_webhook_secrets_masked_and_the_owner_in_full(api, owner, viewer):
    job = JobFactory(created_by=owner, target_url="https://hooks.example.com/t/TOKEN-OLD")
    api(owner).put(f"/api/v2/jobs/{job.pk}", {"target_url": "https://hooks.example.com/t/TOKEN-NEW"},
                   format="json")

    seen_by_viewer = str(api_history(api, viewer, job))
    seen_by_owner = str(api_history(api, owner, job))

    assert "TOKEN" not in seen_by_viewer and "https://hooks.example.com/****" in seen_by_viewer
    assert "TOKEN-OLD" in seen_by_owner and "TOKEN-NEW" in seen_by_owner


def test_the_history_pages_newest_first_and_the_last_entry_of_a_page_still_shows_its_change(api, owner):
    job = JobFactory(created_by=owner, cron_expression="0 1 * * *")
    for hour in (2, 3, 4):
        api(owner).put(f"/api/v2/jobs/{job.pk}", {"cron_expression": f"0 {hour} * * *"}, format="json")

    first = api_history(api, owner, job, limit=2, page=1)
    second = api_history(api, owner, job, limit=2, page=2)

    sizes = (first["total"], first["total_pages"], len(first["history"]), len(second["history"]))
    assert sizes == (4, 2, 2, 2)
    assert [c for c in first["history"][1]["changes"] if c["field"] == "cron_expression"] == [
        {"field": "cron_expression", "old": "0 2 * * *", "new": "0 3 * * *"}]
    assert second["history"][-1]["action"] == "created"
    assert api(owner).get("/api/v2/jobs/no-such-job/history").status_code == 404
    assert api().get(f"/api/v2/jobs/{job.pk}/history").status_code == 401


def test_a_history_page_past_the_end_or_a_job_without_history_rows_is_an_empty_page(api, owner):
    job = JobFactory(created_by=owner)
    beyond = api_history(api, owner, job, page=5)
    Job.history.filter(id=job.pk).delete()  # as rows written by a bulk insert have none

    assert (beyond["history"], beyond["total"]) == ([], 1)
    assert api_history(api, owner, job)["history"] == []


def test_team_changes_through_the_api_and_slack_settings_are_recorded_and_the_webhook_never_is(
        api, admin_user, staff, team):
    SlackSettingsFactory(webhook_url="https://hooks.slack.com/services/T0/B0/SECRETSECRET")
    api(admin_user).put(f"/api/v2/pic-teams/{team.pk}", {"name": "QA Platform"}, format="json")
    api(admin_user).put("/api/v2/settings/slack",
                        {"webhook_url": "https://hooks.slack.com/services/T0/B0/NEWSECRET",
                         "is_enabled": True}, format="json")

    row = PicTeam.history.filter(id=team.pk).order_by("-history_id").first()
    assert (row.name, row.history_author, row.history_via) == ("QA Platform", admin_user.username, "api")
    slack = SlackSettings.load()
    stored = list(SlackSettings.history.filter(id=slack.pk).values_list("webhook_url", flat=True))
    assert stored and all("SECRET" not in (url or "") for url in stored)
    assert len({url for url in stored if url}) == 2  # two URLs, told apart without revealing either
    page = staff.get(reverse("admin:integrations_slacksettings_history", args=[slack.pk])).content.decode()
    assert "SECRET" not in page and "hooks.slack.com/****" in page
    team_page = staff.get(reverse("admin:taxonomy_picteam_history", args=[team.pk])).content.decode()
    assert "QA Platform" in team_page and admin_user.username in team_page


def test_jobs_that_follow_a_renamed_team_record_it_under_the_renamer(api, admin_user, team):
    job = JobFactory(pic_team="platform-qa")

    api(admin_user).put(f"/api/v2/pic-teams/{team.pk}", {"name": "QA Platform"}, format="json")

    row = latest(job)
    assert (row.pic_team, row.history_author, row.history_change_reason) == (
        "qa-platform", admin_user.username, "PIC team renamed: platform-qa → qa-platform")


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_every_existing_row_a_first_history_entry_and_keeps_no_slack_secret():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    targets = [("jobs", "0003_run_phases_and_unknown_status"), ("taxonomy", "0002_default_categories"),
               ("integrations", "0001_initial")]
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    old = executor.loader.project_state(targets).apps
    user_model = old.get_model("accounts", "User")
    owner = user_model.objects.create(id="u-1", username="old", email="old@example.com", password="x")
    old.get_model("jobs", "Job").objects.create(id="j-1", name="before-history", cron_expression="0 1 * * *",
                                                timezone="UTC", created_by=owner)
    old.get_model("integrations", "SlackSettings").objects.create(
        id="s-1", webhook_url="https://hooks.slack.com/services/T/B/SECRET")
    try:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

        row = Job.history.get(id="j-1")
        assert (row.history_type, row.history_via, row.name, row.created_by_id) == (
            "+", "migration", "before-history", "u-1")
        assert "SECRET" not in SlackSettings.history.get(id="s-1").webhook_url
    finally:
        Job.objects.filter(pk="j-1").delete()
        SlackSettings.objects.filter(pk="s-1").delete()
