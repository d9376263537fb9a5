"""Every admin page and action, for each role: the allowed answer, or a 403 page with nothing
written to the database.

Personas: ``admin``; ``user`` (owns the job "mine", not "theirs"); ``viewer``. Rules:
``cronhub/permissions.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import LoginThrottleCounter, NotificationPreferences
from cronhub.testing.factories import (
    AdminFactory,
    JobCategoryFactory,
    JobFactory,
    PicTeamFactory,
    SlackSettingsFactory,
    UserFactory,
    ViewerFactory,
)
from jobs.models import Job, SchedulerState, scheduler_today

pytestmark = pytest.mark.django_db

ROLES = ("admin", "user", "viewer")
OK, REDIRECT, FORBIDDEN = 200, 302, 403


@dataclass
class World:
    admin: Any
    user: Any
    viewer: Any
    other: Any
    mine: Job
    theirs: Job
    team: Any
    category: Any
    slack: Any
    state: Any


@pytest.fixture
def world(db) -> World:
    admin = AdminFactory(username="ada")
    user = UserFactory(username="uma")
    viewer = ViewerFactory(username="vic")
    other = UserFactory(username="otto")
    team = PicTeamFactory(name="Platform QA", slug="platform-qa", slack_handle="@qa")
    return World(
        admin=admin, user=user, viewer=viewer, other=other,
        mine=JobFactory(name="mine", created_by=user, target_url="https://hooks.example.com/t/SECRET-1"),
        theirs=JobFactory(name="theirs", created_by=other, target_url="https://hooks.example.com/t/SECRET-2"),
        team=team, category=JobCategoryFactory(name="Smoke", slug="smoke"),
        slack=SlackSettingsFactory(), state=SchedulerState.objects.create(host="h", pid=1),
    )


def job_form(job: Job | None = None, **changes) -> dict:
    data = {
        "name": job.name if job else "brand-new",
        "is_active": "on",
        "cron_expression": job.cron_expression if job else "0 10 * * 1-5",
        "timezone": "Asia/Tokyo",
        "end_date": (job.end_date if job else scheduler_today() + dt.timedelta(days=30)).isoformat(),
        "target_url": job.target_url if job else "https://hooks.example.com/new",
        "github_owner": "", "github_repo": "", "github_workflow_name": "",
        "metadata": "{}", "notification_emails": "", "category": "general", "pic_team": "platform-qa",
        "created_by": job.created_by_id if job else "",
        "executions-TOTAL_FORMS": "0", "executions-INITIAL_FORMS": "0",
        "executions-MIN_NUM_FORMS": "0", "executions-MAX_NUM_FORMS": "0",
    }
    data.update(changes)
    return data


def action(name: str, *objs_attr: str) -> Callable[[World], dict]:
    return lambda w: {"action": name, "_selected_action": [getattr(w, a).pk for a in objs_attr]}


def url(name: str, attr: str | None = None) -> Callable[[World], str]:
    return lambda w: reverse(f"admin:{name}", args=[getattr(w, attr).pk] if attr else [])


@dataclass
class Case:
    id: str
    method: str
    url: Callable[[World], str]
    expected: dict[str, int]
    data: Callable[[World], dict] | None = None


def expect(admin: int, user: int, viewer: int) -> dict[str, int]:
    return {"admin": admin, "user": user, "viewer": viewer}


CASES = [
    # jobs
    Case("job list", "get", url("jobs_job_changelist"), expect(OK, OK, OK)),
    Case("job add form", "get", url("jobs_job_add"), expect(OK, OK, FORBIDDEN)),
    Case("job add", "post", url("jobs_job_add"), expect(REDIRECT, REDIRECT, FORBIDDEN), lambda w: job_form()),
    Case("own job page", "get", url("jobs_job_change", "mine"), expect(OK, OK, OK)),
    Case("another's job page", "get", url("jobs_job_change", "theirs"), expect(OK, OK, OK)),
    Case("edit own job", "post", url("jobs_job_change", "mine"), expect(REDIRECT, REDIRECT, FORBIDDEN),
         lambda w: job_form(w.mine, cron_expression="5 10 * * *")),
    Case("edit another's job", "post", url("jobs_job_change", "theirs"),
         expect(REDIRECT, FORBIDDEN, FORBIDDEN), lambda w: job_form(w.theirs, cron_expression="5 10 * * *")),
    Case("delete page, own job", "get", url("jobs_job_delete", "mine"), expect(OK, OK, FORBIDDEN)),
    Case("delete own job", "post", url("jobs_job_delete", "mine"), expect(REDIRECT, REDIRECT, FORBIDDEN),
         lambda w: {"post": "yes"}),
    Case("delete another's job", "post", url("jobs_job_delete", "theirs"),
         expect(REDIRECT, FORBIDDEN, FORBIDDEN), lambda w: {"post": "yes"}),
    Case("run own job now", "post", url("jobs_job_run_now", "mine"), expect(REDIRECT, REDIRECT, FORBIDDEN),
         lambda w: {}),
    Case("run another's job now", "post", url("jobs_job_run_now", "theirs"),
         expect(REDIRECT, FORBIDDEN, FORBIDDEN), lambda w: {}),
    Case("pause own job (action)", "post", url("jobs_job_changelist"), expect(REDIRECT, REDIRECT, FORBIDDEN),
         action("pause_jobs", "mine")),
    Case("pause another's job (action)", "post", url("jobs_job_changelist"),
         expect(REDIRECT, FORBIDDEN, FORBIDDEN), action("pause_jobs", "theirs")),
    Case("pause own and another's (action)", "post", url("jobs_job_changelist"),
         expect(REDIRECT, FORBIDDEN, FORBIDDEN), action("pause_jobs", "mine", "theirs")),
    Case("run another's job (action)", "post", url("jobs_job_changelist"),
         expect(REDIRECT, FORBIDDEN, FORBIDDEN), action("run_now", "theirs")),
    Case("delete another's job (action, confirmed)", "post", url("jobs_job_changelist"),
         expect(REDIRECT, FORBIDDEN, FORBIDDEN),
         lambda w: {**action("delete_selected", "theirs")(w), "post": "yes"}),
    Case("clone another's job", "get", url("jobs_job_clone", "theirs"),
         expect(REDIRECT, REDIRECT, FORBIDDEN)),
    Case("export all as CSV", "get", lambda w: reverse("admin:jobs_job_export") + "?type=csv",
         expect(OK, OK, OK)),
    Case("export selected as JSON (action)", "post", url("jobs_job_changelist"), expect(OK, OK, OK),
         action("export_json", "mine", "theirs")),
    Case("job history", "get", url("jobs_job_history", "theirs"), expect(OK, OK, OK)),
    Case("import page", "get", url("jobs_job_import"), expect(OK, OK, FORBIDDEN)),
    Case("executions", "get", url("jobs_jobexecution_changelist"), expect(OK, OK, OK)),
    # people
    Case("user list", "get", url("accounts_user_changelist"), expect(OK, OK, OK)),
    Case("add a user", "get", url("accounts_user_add"), expect(OK, FORBIDDEN, FORBIDDEN)),
    Case("another user's page", "get", url("accounts_user_change", "other"),
         expect(OK, FORBIDDEN, FORBIDDEN)),
    Case("make another user admin", "post", url("accounts_user_change", "other"),
         expect(REDIRECT, FORBIDDEN, FORBIDDEN),
         lambda w: {"email": w.other.email, "new_password": "", "role": "admin", "is_active": "on"}),
    Case("delete another user", "post", url("accounts_user_delete", "other"),
         expect(REDIRECT, FORBIDDEN, FORBIDDEN), lambda w: {"post": "yes"}),
    # taxonomy
    Case("PIC teams", "get", url("taxonomy_picteam_changelist"), expect(OK, OK, OK)),
    Case("add a PIC team", "post", url("taxonomy_picteam_add"), expect(REDIRECT, FORBIDDEN, FORBIDDEN),
         lambda w: {"name": "New team", "slack_handle": "@new", "is_active": "on"}),
    Case("rename a PIC team", "post", url("taxonomy_picteam_change", "team"),
         expect(REDIRECT, FORBIDDEN, FORBIDDEN),
         lambda w: {"name": "Renamed", "slack_handle": "@qa", "is_active": "on"}),
    Case("disable a category (action)", "post", url("taxonomy_jobcategory_changelist"),
         expect(REDIRECT, FORBIDDEN, FORBIDDEN), action("disable_selected", "category")),
    Case("category history", "get", url("taxonomy_jobcategory_history", "category"),
         expect(OK, OK, OK)),
    # settings and internals
    Case("Slack settings", "get", url("integrations_slacksettings_changelist"),
         expect(REDIRECT, FORBIDDEN, FORBIDDEN)),
    Case("change Slack settings", "post", url("integrations_slacksettings_change", "slack"),
         expect(REDIRECT, FORBIDDEN, FORBIDDEN),
         lambda w: {"is_enabled": "on", "webhook_url": "https://hooks.slack.com/services/X",
                    "channel": "#x"}),
    Case("scheduler state", "get", url("jobs_schedulerstate_changelist"), expect(OK, FORBIDDEN, FORBIDDEN)),
    Case("scheduler state add", "get", url("jobs_schedulerstate_add"),
         expect(FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    Case("edit scheduler state", "post", url("jobs_schedulerstate_change", "state"),
         expect(FORBIDDEN, FORBIDDEN, FORBIDDEN), lambda w: {"host": "x", "pid": "2"}),
    Case("apscheduler jobs", "get", url("django_apscheduler_djangojob_changelist"),
         expect(OK, FORBIDDEN, FORBIDDEN)),
    Case("apscheduler job add", "get", url("django_apscheduler_djangojob_add"),
         expect(FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    Case("apscheduler executions", "get", url("django_apscheduler_djangojobexecution_changelist"),
         expect(OK, FORBIDDEN, FORBIDDEN)),
    Case("refresh tokens", "get", url("token_blacklist_outstandingtoken_changelist"),
         expect(OK, FORBIDDEN, FORBIDDEN)),
    Case("refresh token add", "get", url("token_blacklist_outstandingtoken_add"),
         expect(FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    Case("login throttle counters", "get", url("accounts_loginthrottlecounter_changelist"),
         expect(OK, FORBIDDEN, FORBIDDEN)),
    Case("notifications", "get", url("notifications_notification_changelist"),
         expect(OK, FORBIDDEN, FORBIDDEN)),
]

SESSION_TABLES = ("django_session",)


def _writes(queries) -> list[str]:
    verbs = ("INSERT", "UPDATE", "DELETE")
    return [q["sql"] for q in queries
            if q["sql"].lstrip().upper().startswith(verbs)
            and not any(table in q["sql"] for table in SESSION_TABLES)]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_each_admin_page_and_action_answers_each_role_as_the_rules_say(client, world, case, role):
    client.force_login(getattr(world, role))
    target = case.url(world)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(target) if case.method == "get" else client.post(target, case.data(world))

    expected = case.expected[role]
    assert response.status_code == expected, (response.status_code, getattr(response, "url", ""))
    if expected == FORBIDDEN:
        assert _writes(queries) == []
        body = response.content.decode()
        assert "Not allowed (403)" in body and "Nothing was changed" in body
    if expected == REDIRECT and case.method == "post" and role != "admin" and "login" in response.url:
        pytest.fail("redirected to the login page")


def test_a_refused_edit_leaves_the_job_exactly_as_it_was(client, world):
    before = Job.objects.filter(pk=world.theirs.pk).values().get()
    client.force_login(world.user)

    response = client.post(reverse("admin:jobs_job_change", args=[world.theirs.pk]),
                           job_form(world.theirs, name="hijacked", target_url="https://evil.example.com/"))

    assert response.status_code == 403
    assert Job.objects.filter(pk=world.theirs.pk).values().get() == before


def test_the_index_shows_each_role_only_what_it_may_open_and_groups_internals_under_system(client, world):
    pages = {}
    for role in ROLES:
        client.force_login(getattr(world, role))
        pages[role] = client.get(reverse("admin:index")).content.decode()

    assert "System (internal, read-only)" in pages["admin"]
    for internal in ("/admin/django_apscheduler/djangojob/", "/admin/jobs/schedulerstate/",
                     "/admin/token_blacklist/outstandingtoken/", "/admin/integrations/slacksettings/"):
        assert internal in pages["admin"]
        assert internal not in pages["user"] and internal not in pages["viewer"]
    assert "/admin/django_apscheduler/djangojob/add/" not in pages["admin"]
    assert "/admin/jobs/job/add/" in pages["user"] and "/admin/jobs/job/add/" not in pages["viewer"]
    assert "/admin/taxonomy/picteam/add/" not in pages["user"]


def test_webhook_secrets_show_only_to_the_owner_and_admins(client, world):
    seen = {}
    for role in ROLES:
        client.force_login(getattr(world, role))
        seen[role] = client.get(reverse("admin:jobs_job_change", args=[world.mine.pk])).content.decode()

    assert "SECRET-1" in seen["admin"] and "SECRET-1" in seen["user"]
    assert "SECRET-1" not in seen["viewer"] and "https://hooks.example.com/****" in seen["viewer"]


def test_a_viewer_cannot_find_a_secret_by_searching_webhook_urls(client, world):
    client.force_login(world.viewer)

    page = client.get(reverse("admin:jobs_job_changelist"), {"q": "SECRET-1"}).content.decode()

    assert ">mine<" not in page


def test_a_user_manages_its_own_preferences_and_not_another_users(client, world):
    client.force_login(world.user)
    client.get(reverse("admin:accounts_notificationpreferences_changelist"))
    own = NotificationPreferences.objects.get(user=world.user)
    theirs = NotificationPreferences.objects.create(user=world.other)

    own_page = client.get(reverse("admin:accounts_notificationpreferences_change", args=[own.pk]))
    assert own_page.status_code == 200
    assert client.get(reverse("admin:accounts_notificationpreferences_change",
                              args=[theirs.pk])).status_code == 403


def test_internal_rows_are_never_editable_even_by_an_admin(client, world):
    LoginThrottleCounter.objects.create(key="k", window_start=1.0, count=3)
    client.force_login(world.admin)

    page = client.get(reverse("admin:accounts_loginthrottlecounter_change", args=["k"])).content.decode()

    assert page.count('type="submit"') <= 1  # no save buttons (the logout form's only)
    assert client.post(reverse("admin:accounts_loginthrottlecounter_change", args=["k"]),
                       {"count": "0"}).status_code == 403
    assert LoginThrottleCounter.objects.get(key="k").count == 3


def test_the_dashboard_names_the_schedulers_host_to_admins_only(client, world):
    from django.utils import timezone

    SchedulerState.objects.filter(pk=world.state.pk).update(
        host="sched-host-9", pid=4242, heartbeat_at=timezone.now(), leader_since=timezone.now())
    pages = {}
    for role in ROLES:
        client.force_login(getattr(world, role))
        pages[role] = client.get(reverse("admin:index")).content.decode()

    assert "sched-host-9" in pages["admin"]
    assert "sched-host-9" not in pages["user"] and "sched-host-9" not in pages["viewer"]
    assert "Running" in pages["viewer"]


def test_a_webhook_runs_target_shows_in_full_to_the_jobs_owner_and_admins_only(client, world):
    from cronhub.testing.factories import JobExecutionFactory

    JobExecutionFactory(job=world.mine, execution_type="webhook", target=world.mine.target_url)
    seen = {}
    for role in ROLES:
        client.force_login(getattr(world, role))
        seen[role] = client.get(reverse("admin:jobs_jobexecution_changelist")).content.decode()

    assert "SECRET-1" in seen["admin"] and "SECRET-1" in seen["user"]
    assert "SECRET-1" not in seen["viewer"] and "https://hooks.example.com/****" in seen["viewer"]


def test_a_runs_error_that_quotes_the_webhook_url_is_redacted_for_a_viewer(client, world):
    from cronhub.testing.factories import JobExecutionFactory

    run = JobExecutionFactory(
        job=world.mine, execution_type="webhook", target=world.mine.target_url, status="failed",
        error_message="Request failed: HTTPSConnectionPool(host='hooks.example.com', port=443): "
                      "Max retries exceeded with url: /t/SECRET-1")
    page = {}
    for role in ("viewer", "user"):
        client.force_login(getattr(world, role))
        page[role] = client.get(reverse("admin:jobs_jobexecution_change", args=[run.pk])).content.decode()

    assert "SECRET-1" not in page["viewer"] and "url: /****" in page["viewer"]
    assert "url: /t/SECRET-1" in page["user"]
