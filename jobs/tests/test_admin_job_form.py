"""The job change form: grouped fields, the API's validation messages, the
live cron help view behind it, and the last executions shown read-only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cronhub.testing.factories import JobCategoryFactory, JobExecutionFactory, JobFactory, PicTeamFactory
from cronhub.testing.queries import writes
from jobs import cron
from jobs.models import Job, scheduler_today

pytestmark = pytest.mark.django_db

ADD = reverse("admin:jobs_job_add")
CRON_HELP = reverse("admin:jobs_job_cron_help")


@pytest.fixture
def team(db):
    return PicTeamFactory(name="Platform QA", slug="platform-qa")


def form_data(**overrides) -> dict:
    data = {
        "name": "nightly-web",
        "is_active": "on",
        "cron_expression": "0 9 * * 1-5",
        "timezone": "Asia/Tokyo",
        "end_date": (scheduler_today() + dt.timedelta(days=60)).isoformat(),
        "target_url": "https://hooks.example.com/run",
        "github_owner": "",
        "github_repo": "",
        "github_workflow_name": "",
        "metadata": "{}",
        "notification_emails": "",
        "category": "general",
        "pic_team": "platform-qa",
        "created_by": "",
        "executions-TOTAL_FORMS": "0",
        "executions-INITIAL_FORMS": "0",
        "executions-MIN_NUM_FORMS": "0",
        "executions-MAX_NUM_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_the_form_groups_fields_and_loads_the_cron_help_script(staff, team):
    response = staff.get(ADD)

    body = response.content.decode()
    assert response.status_code == 200
    for legend in ("Schedule", "Target", "Notifications", "Ownership"):
        assert f">{legend}</h2>" in body
    assert "jobs/admin/cron_help.js" in body
    assert f'data-url="{CRON_HELP}"' in body


def test_creating_a_job_through_the_form_saves_it_owned_by_the_admin(staff, team, admin_user):
    JobCategoryFactory(name="Regression", slug="regression")

    response = staff.post(ADD, form_data(category="regression", metadata='{"env": "stg"}'))

    assert response.status_code == 302, response.context["adminform"].form.errors
    job = Job.objects.get(name="nightly-web")
    assert job.created_by == admin_user
    assert job.cron_expression == "0 9 * * 1-5"
    assert job.category == "regression"
    assert job.metadata == {"env": "stg"}
    assert job.is_active is True


@pytest.mark.parametrize("expression", ["", "* * * *", "61 * * * *", "0 0 * * L"])
def test_an_invalid_cron_is_refused_with_the_cron_engines_message(staff, team, expression):
    response = staff.post(ADD, form_data(cron_expression=expression))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["cron_expression"] == [cron.validate(expression)]
    assert not Job.objects.exists()


def test_a_shorthand_target_becomes_github_fields(staff, team):
    response = staff.post(ADD, form_data(target_url="acme-qa/api-tests/nightly.yml"))

    assert response.status_code == 302
    job = Job.objects.get()
    assert (job.target_url, job.github_owner, job.github_repo, job.github_workflow_name) == (
        None,
        "acme-qa",
        "api-tests",
        "nightly.yml",
    )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"target_url": "hooks.example.com"},
            "target_url",
            "target_url must include scheme (http:// or https://). For GitHub dispatch, use "
            "github_owner/github_repo/github_workflow_name or provide owner/repo/workflow.",
        ),
        (
            {"target_url": ""},
            "__all__",
            'Please provide either "target_url" or GitHub Actions configuration '
            "(github_owner, github_repo, github_workflow_name)",
        ),
        ({"end_date": "2000-01-01"}, "end_date", "end_date must be today or in the future (JST)."),
        ({"name": "   "}, "name", "Job name cannot be empty"),
        (
            {"name": "taken"},
            "name",
            'A job with the name "taken" already exists. Please use a unique name.',
        ),
        ({"metadata": "[1, 2]"}, "metadata", "metadata must be a JSON object"),
    ],
)
def test_bad_input_is_refused_with_the_apis_messages_and_nothing_is_saved(
    staff, team, overrides, field, message
):
    JobFactory(name="taken")
    response = staff.post(ADD, form_data(**overrides))

    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors[field]
    assert list(Job.objects.values_list("name", flat=True)) == ["taken"]


def test_a_disabled_pic_team_cannot_be_chosen_for_a_new_job(staff):
    PicTeamFactory(name="Old Team", slug="old-team", is_active=False)

    response = staff.post(ADD, form_data(pic_team="old-team"))

    assert response.status_code == 200
    assert "pic_team" in response.context["adminform"].form.errors
    assert not Job.objects.exists()


def test_an_expired_job_can_be_paused_but_not_kept_active(staff, team):
    job = JobFactory(name="old", pic_team="platform-qa", end_date=scheduler_today() - dt.timedelta(days=3))
    url = reverse("admin:jobs_job_change", args=[job.pk])
    data = form_data(name="old", end_date=job.end_date.isoformat())

    refused = staff.post(url, data)
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["is_active"] == [
        "Job cannot be enabled after end_date has passed. Update end_date first."
    ]

    data.pop("is_active")
    paused = staff.post(url, data)
    assert paused.status_code == 302
    job.refresh_from_db()
    assert job.is_active is False


def test_the_change_form_lists_the_last_executions_read_only_with_links(staff, team):
    job = JobFactory(pic_team="platform-qa")
    executions = [
        JobExecutionFactory(
            job=job, started_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=i)
        )
        for i in range(12)
    ]

    response = staff.get(reverse("admin:jobs_job_change", args=[job.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    shown = [e for e in executions if reverse("admin:jobs_jobexecution_change", args=[e.pk]) in body]
    assert shown == executions[2:]  # the newest ten
    assert 'name="executions-0-status"' not in body  # read-only: no inputs


def test_cron_help_describes_the_expression_and_lists_five_fire_times_in_the_zone(staff):
    response = staff.get(CRON_HELP, {"expression": "30 2 * * *", "timezone": "America/New_York"})

    data = response.json()
    assert response.status_code == 200
    assert data["valid"] is True
    assert data["description"] == cron.parse("30 2 * * *").describe()
    assert len(data["next_runs"]) == 5
    firsts = [dt.datetime.fromisoformat(value) for value in data["next_runs"]]
    assert firsts == sorted(firsts)
    assert all(moment.utcoffset() in (dt.timedelta(hours=-5), dt.timedelta(hours=-4)) for moment in firsts)


def test_cron_help_reports_the_validation_message_for_a_bad_expression(staff):
    data = staff.get(CRON_HELP, {"expression": "* * *", "timezone": "Asia/Tokyo"}).json()

    assert data["valid"] is False
    assert data["message"] == cron.validate("* * *")
    assert data["next_runs"] == []


def test_cron_help_reports_an_unknown_time_zone(staff):
    data = staff.get(CRON_HELP, {"expression": "* * * * *", "timezone": "Mars/Olympus"}).json()

    assert data["valid"] is False
    assert data["field"] == "timezone"


def test_cron_help_is_for_signed_in_users_of_any_role(client, viewer):
    response = client.get(CRON_HELP, {"expression": "* * * * *"})

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    client.force_login(viewer)
    assert client.get(CRON_HELP, {"expression": "* * * * *"}).json()["valid"] is True


def test_admin_saves_notify_everyone_exactly_like_the_api(staff, team, owner):
    from notifications.models import Notification

    staff.post(ADD, form_data())
    job = Job.objects.get(name="nightly-web")
    assert set(Notification.objects.filter(related_job=job).values_list("title", "user__username")) == {
        ("New Job Created", "alice_admin"),
        ("New Job Created", "olivia_owner"),
    }

    data = form_data()
    data.pop("is_active")
    response = staff.post(reverse("admin:jobs_job_change", args=[job.pk]), data)

    assert response.status_code == 302
    job.refresh_from_db()
    assert job.is_active is False
    assert Notification.objects.filter(related_job=job, title="Job Disabled").count() == 2


def test_an_edit_changes_only_what_changed_and_uses_the_update_messages(staff, team):
    job = JobFactory(name="edit-me", pic_team="platform-qa", target_url="https://hooks.example.com/a")
    url = reverse("admin:jobs_job_change", args=[job.pk])
    data = form_data(name="edit-me", end_date=job.end_date.isoformat(), target_url="hooks.example.com/b")

    refused = staff.post(url, data)
    assert refused.context["adminform"].form.errors["target_url"] == [
        "target_url must include scheme (http:// or https://)."
    ]

    data["target_url"] = "acme/api-tests/nightly.yml"
    data["cron_expression"] = "*/10 * * * *"
    assert staff.post(url, data).status_code == 302
    job.refresh_from_db()
    assert (job.cron_expression, job.target_url, job.github_owner, job.github_workflow_name) == (
        "*/10 * * * *",
        None,
        "acme",
        "nightly.yml",
    )


def test_the_add_form_has_no_active_switch_because_new_jobs_are_always_active(staff, team):
    body = staff.get(ADD).content.decode()

    assert 'name="is_active"' not in body


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"cron_expression": "0 25 * * *"}, "cron_expression"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"end_date": ""}, "end_date"),
        ({"end_date": "2000-01-01"}, "end_date"),
        ({"target_url": "ftp://hooks.example.com/run"}, "target_url"),
        ({"github_owner": "x" * 256, "target_url": ""}, "github_owner"),
        ({"metadata": '"text"'}, "metadata"),
        ({"category": "no-such-category"}, "category"),
        ({"pic_team": ""}, "pic_team"),
    ],
)
def test_each_job_form_error_shows_on_its_own_field_and_only_there(staff, team, overrides, field):
    response = staff.post(ADD, form_data(**overrides))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field], errors
    assert not Job.objects.exists()


def test_an_admin_save_writes_the_job_once_and_never_trials_it_in_a_savepoint(staff, team):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as added:
        assert staff.post(ADD, form_data()).status_code == 302
    job = Job.objects.get()
    data = form_data(cron_expression="*/5 * * * *")
    with CaptureQueriesContext(connection) as changed:
        assert staff.post(reverse("admin:jobs_job_change", args=[job.pk]), data).status_code == 302

    verbs = ("INSERT", "UPDATE", "DELETE")
    assert [writes(added.captured_queries, verb, "jobs") for verb in verbs] == [1, 0, 0]
    assert [writes(changed.captured_queries, verb, "jobs") for verb in verbs] == [0, 1, 0]
    everything = [q["sql"].upper() for q in (*added.captured_queries, *changed.captured_queries)]
    assert not any("ROLLBACK TO SAVEPOINT" in sql for sql in everything)
    job.refresh_from_db()
    assert job.cron_expression == "*/5 * * * *"
