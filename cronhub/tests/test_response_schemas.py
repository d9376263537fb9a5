"""Every operation of the OpenAPI document answers the body the document describes.

The document is generated in-process; each case below makes one real request
(seeded with the factories and the personas) and validates the JSON body
against the schema documented for the status it got. The component schemas are
made strict first: an object that lists its properties admits no other key, and
OpenAPI's ``nullable`` becomes an explicit ``null`` alternative, so a key added,
dropped, renamed or retyped on either side fails here. A last test checks that
the cases cover exactly the document's operations, so a new endpoint without a
case fails too.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator

from cronhub.testing.factories import (
    TEST_PASSWORD,
    JobCategoryFactory,
    JobExecutionFactory,
    JobFactory,
    NotificationFactory,
    PicTeamFactory,
    SlackSettingsFactory,
)
from jobs.models import ExecutionStatus, SchedulerState, TriggerType, scheduler_today

pytestmark = pytest.mark.django_db

JSON = "application/json"


# --- the document, made strict ------------------------------------------------------------

_LITERAL_KEYS = {"enum", "required", "example", "examples", "default", "description", "title"}


def strict(schema: Any) -> Any:
    """An OpenAPI 3.0 schema as a strict JSON Schema (2020-12): closed objects, explicit nulls."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties":
            out[key] = {name: strict(sub) for name, sub in value.items()}
        elif key in _LITERAL_KEYS:
            out[key] = value
        else:
            out[key] = strict(value)
    if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if out.pop("nullable", False):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


@pytest.fixture(scope="module")
def document() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture(scope="module")
def components(document) -> dict:
    return strict(document["components"])


def documented_operations(document: dict) -> set[tuple[str, str]]:
    return {(method.upper(), route) for route, operations in document["paths"].items()
            for method in operations if method != "parameters"}


def check_body(document: dict, components: dict, method: str, route: str, response) -> None:
    """Fail with the operation id, the status and every jsonschema error path when the body
    is not what the document says for that status."""
    operation = document["paths"][route][method.lower()]
    name = f"{operation['operationId']} ({method} {route}) answered {response.status_code}"
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, (
        f"{name}, a status the document does not list (it lists {sorted(operation['responses'])})")
    content = documented.get("content", {})
    assert JSON in content, f"{name}: the document gives no JSON body for it"
    assert response["Content-Type"].startswith(JSON), f"{name} with Content-Type {response['Content-Type']}"
    body = json.loads(response.content)
    validator = Draft202012Validator({**strict(content[JSON]["schema"]), "components": components},
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    problems = sorted(validator.iter_errors(body), key=lambda error: list(error.absolute_path))
    if problems:
        lines = [f"{name}: the body does not match the documented schema"]
        for error in problems:
            lines.append(f"  at {error.json_path}: {error.message}  "
                         f"[schema: {'/'.join(str(part) for part in error.absolute_schema_path)}]")
        pytest.fail("\n".join(lines), pytrace=False)


# --- the world the requests run in ----------------------------------------------------------

@dataclass
class World:
    api: Callable
    admin: Any
    owner: Any
    other: Any
    viewer: Any
    job: Any
    execution: Any
    notification: Any
    others_notification: Any
    category: Any
    team: Any
    webhook_url: str
    github_job: Any
    settings: Any
    monkeypatch: Any
    fake_github: Any

    def as_admin(self):
        return self.api(self.admin)

    def as_owner(self):
        return self.api(self.owner)


@pytest.fixture
def world(api, admin_user, owner, other_user, viewer, webhook_server, fake_github, settings,
          monkeypatch) -> World:
    category = JobCategoryFactory(name="Regression", slug="regression")
    team = PicTeamFactory(name="Platform QA", slug="platform-qa")
    job = JobFactory(created_by=owner, target_url=webhook_server.url_for("/hook"), category=category.slug,
                     pic_team=team.slug, metadata={"env": "stg"}, enable_email_notifications=True,
                     notification_emails="qa@example.com", webhook_headers={"X-Key": "k"},
                     webhook_signing_secret="sec", max_attempts=3)
    github_job = JobFactory(github=True, created_by=None, category="general", pic_team=None, metadata=None)
    execution = JobExecutionFactory(job=job, status=ExecutionStatus.FAILED,
                                    trigger_type=TriggerType.SCHEDULED, error_message="HTTP 500",
                                    output="boom", response_status=500, scheduled_for=timezone.now(),
                                    github_run_id=4240, github_run_status="completed",
                                    github_run_url="https://github.com/acme/api/actions/runs/4240",
                                    github_run_conclusion="failure", github_run_attempt=1,
                                    github_run_started_at=timezone.now(),
                                    github_run_completed_at=timezone.now())
    JobExecutionFactory(job=job, status=ExecutionStatus.RUNNING, completed_at=None, duration_seconds=None,
                        response_status=None, attempts=1, wait_reason="retry", next_attempt_at=timezone.now(),
                        rate_limit_wait_seconds=1.5, attempt_log=[
                            {"attempt": None, "at": "2026-03-02T00:00:00Z", "outcome": "budget",
                             "status": None, "error": "secondary rate limit (80 per-minute) reached",
                             "retry_at": "2026-03-02T00:00:01Z"},
                            {"attempt": 1, "at": "2026-03-02T00:00:01Z", "outcome": "failed", "status": 503,
                             "error": "Webhook returned status 503", "duration_seconds": 0.1,
                             "retry_at": "2026-03-02T00:00:11Z"}])
    notification = NotificationFactory(user=owner, related_job=job, related_execution=execution)
    read = NotificationFactory(user=owner, title="Job Succeeded", type="success")
    read.mark_read()
    others = NotificationFactory(user=other_user)
    SlackSettingsFactory()
    return World(api=api, admin=admin_user, owner=owner, other=other_user, viewer=viewer, job=job,
                 execution=execution, notification=notification, others_notification=others,
                 category=category, team=team, webhook_url=webhook_server.url_for("/hook"),
                 github_job=github_job, settings=settings, monkeypatch=monkeypatch, fake_github=fake_github)


# --- the cases ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    method: str
    route: str
    status: int
    call: Callable[[World], Any]
    why: str  # what the request does, shown in the test id
    xfail: str | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.route} {self.status} {self.why}"


CASES: list[Case] = []


def case(method: str, route: str, status: int, why: str, *, xfail: str | None = None):
    def register(call: Callable[[World], Any]) -> Callable[[World], Any]:
        CASES.append(Case(method, route, status, call, why, xfail))
        return call
    return register


def post_json(client, url: str, body: Any):
    return client.post(url, body, format="json")


def put_json(client, url: str, body: Any):
    return client.put(url, body, format="json")


# health and authentication

case("GET", "/api/v2/health", 200, "anonymous")(lambda w: w.api().get("/api/v2/health"))
case("GET", "/api/v2/", 200, "the index")(lambda w: w.api().get("/api/v2/"))
case("GET", "/api/v2/health/live", 200, "anonymous")(lambda w: w.api().get("/api/v2/health/live"))
case("GET", "/api/v2/health/ready", 200, "database up")(lambda w: w.api().get("/api/v2/health/ready"))
case("GET", "/api/v2/health/scheduler", 503, "no leader")(lambda w: w.api().get("/api/v2/health/scheduler"))


@case("GET", "/api/v2/health/scheduler", 200, "a live leader")
def _live_leader(w: World):
    SchedulerState.objects.create(pk=SchedulerState.SINGLETON_ID, host="sched-1", pid=7,
                                  heartbeat_at=timezone.now())
    return w.api().get("/api/v2/health/scheduler")
case("POST", "/api/v2/auth/login", 200, "by username")(lambda w: post_json(
    w.api(), "/api/v2/auth/login", {"username": w.owner.username, "password": TEST_PASSWORD}))
case("POST", "/api/v2/auth/login", 400, "short password")(lambda w: post_json(
    w.api(), "/api/v2/auth/login", {"username": w.owner.username, "password": "x"}))
case("POST", "/api/v2/auth/login", 401, "wrong password")(lambda w: post_json(
    w.api(), "/api/v2/auth/login", {"username": w.owner.username, "password": "wrong-password"}))


@case("POST", "/api/v2/auth/login", 429, "throttled")
def _throttled(w: World):
    from django.core.cache import cache

    w.settings.LOGIN_THROTTLE_ENABLED = True
    w.settings.LOGIN_THROTTLE_RATE = "2/min"
    cache.clear()
    body = {"username": w.owner.username, "password": "wrong-password"}
    for _ in range(2):
        post_json(w.api(), "/api/v2/auth/login", body)
    response = post_json(w.api(), "/api/v2/auth/login", body)
    cache.clear()
    return response


case("POST", "/api/v2/auth/login/form", 200, "OAuth2 form")(lambda w: w.api().post(
    "/api/v2/auth/login/form", urlencode({"username": w.owner.email, "password": TEST_PASSWORD}),
    content_type="application/x-www-form-urlencoded"))
case("POST", "/api/v2/auth/login/form", 400, "no password")(lambda w: w.api().post(
    "/api/v2/auth/login/form", urlencode({"username": w.owner.email}),
    content_type="application/x-www-form-urlencoded"))


@case("POST", "/api/v2/auth/refresh", 200, "with a refresh token")
def _refresh(w: World):
    tokens = post_json(w.api(), "/api/v2/auth/login",
                       {"username": w.owner.username, "password": TEST_PASSWORD}).json()
    return w.api().post("/api/v2/auth/refresh", HTTP_AUTHORIZATION=f"Bearer {tokens['refresh_token']}")


case("POST", "/api/v2/auth/refresh", 401, "with an access token")(
    lambda w: w.as_owner().post("/api/v2/auth/refresh"))
case("GET", "/api/v2/auth/me", 200, "owner")(lambda w: w.as_owner().get("/api/v2/auth/me"))
case("GET", "/api/v2/auth/me", 401, "anonymous")(lambda w: w.api().get("/api/v2/auth/me"))
case("GET", "/api/v2/auth/verify", 200, "owner")(lambda w: w.as_owner().get("/api/v2/auth/verify"))
case("POST", "/api/v2/auth/logout", 200, "owner")(lambda w: w.as_owner().post("/api/v2/auth/logout"))
case("POST", "/api/v2/auth/register", 201, "admin")(lambda w: post_json(
    w.as_admin(), "/api/v2/auth/register",
    {"username": "nina_new", "email": "nina@example.com", "password": "secret123", "role": "user"}))
case("POST", "/api/v2/auth/register", 400, "bad e-mail")(lambda w: post_json(
    w.as_admin(), "/api/v2/auth/register",
    {"username": "nina_new", "email": "nope", "password": "secret123"}))
case("POST", "/api/v2/auth/register", 403, "not an admin")(lambda w: post_json(
    w.as_owner(), "/api/v2/auth/register",
    {"username": "nina_new", "email": "nina@example.com", "password": "secret123"}))
case("POST", "/api/v2/auth/register", 409, "taken username")(lambda w: post_json(
    w.as_admin(), "/api/v2/auth/register",
    {"username": w.owner.username, "email": "nina@example.com", "password": "secret123"}))

# API tokens

case("GET", "/api/v2/auth/tokens", 200, "owner")(lambda w: w.as_owner().get("/api/v2/auth/tokens"))
case("GET", "/api/v2/auth/tokens", 401, "anonymous")(lambda w: w.api().get("/api/v2/auth/tokens"))
case("POST", "/api/v2/auth/tokens", 201, "owner, write")(lambda w: post_json(
    w.as_owner(), "/api/v2/auth/tokens",
    {"name": "ci", "scope": "write", "expires_at": "2030-01-01T00:00:00Z"}))
case("POST", "/api/v2/auth/tokens", 400, "no name")(lambda w: post_json(
    w.as_owner(), "/api/v2/auth/tokens", {"scope": "read"}))
case("POST", "/api/v2/auth/tokens", 403, "viewer asks for write")(lambda w: post_json(
    w.api(w.viewer), "/api/v2/auth/tokens", {"name": "ci", "scope": "write"}))
case("POST", "/api/v2/auth/tokens", 401, "anonymous")(lambda w: post_json(
    w.api(), "/api/v2/auth/tokens", {"name": "ci"}))


def _token_id(w: World) -> str:
    return post_json(w.as_owner(), "/api/v2/auth/tokens", {"name": "ci"}).json()["api_token"]["id"]


case("DELETE", "/api/v2/auth/tokens/{token_id}", 200, "own token")(
    lambda w: w.as_owner().delete(f"/api/v2/auth/tokens/{_token_id(w)}"))
case("DELETE", "/api/v2/auth/tokens/{token_id}", 404, "someone else's")(
    lambda w: w.api(w.other).delete(f"/api/v2/auth/tokens/{_token_id(w)}"))
case("DELETE", "/api/v2/auth/tokens/{token_id}", 401, "anonymous")(
    lambda w: w.api().delete("/api/v2/auth/tokens/x"))


@case("DELETE", "/api/v2/auth/tokens/{token_id}", 403, "with an API token")
def _revoke_with_token(w: World):
    secret = post_json(w.as_owner(), "/api/v2/auth/tokens", {"name": "ci", "scope": "write"}).json()["token"]
    return w.api().delete(f"/api/v2/auth/tokens/{_token_id(w)}", HTTP_AUTHORIZATION=f"Bearer {secret}")


# users and preferences

case("GET", "/api/v2/auth/users", 200, "admin")(lambda w: w.as_admin().get("/api/v2/auth/users"))
case("GET", "/api/v2/auth/users/{user_id}", 200, "self")(
    lambda w: w.as_owner().get(f"/api/v2/auth/users/{w.owner.pk}"))
case("GET", "/api/v2/auth/users/{user_id}", 403, "someone else")(
    lambda w: w.as_owner().get(f"/api/v2/auth/users/{w.other.pk}"))
case("GET", "/api/v2/auth/users/{user_id}", 404, "unknown")(
    lambda w: w.as_admin().get("/api/v2/auth/users/no-such-user"))
case("PUT", "/api/v2/auth/users/{user_id}", 200, "admin changes role")(lambda w: put_json(
    w.as_admin(), f"/api/v2/auth/users/{w.other.pk}", {"role": "viewer", "email": "oscar2@example.com"}))
case("PUT", "/api/v2/auth/users/{user_id}", 200, "admin sets PIC teams")(lambda w: put_json(
    w.as_admin(), f"/api/v2/auth/users/{w.other.pk}", {"pic_teams": [w.team.slug]}))
case("PUT", "/api/v2/auth/users/{user_id}", 400, "nothing to update")(
    lambda w: put_json(w.as_owner(), f"/api/v2/auth/users/{w.owner.pk}", {}))
case("PUT", "/api/v2/auth/users/{user_id}", 409, "taken e-mail")(lambda w: put_json(
    w.as_owner(), f"/api/v2/auth/users/{w.owner.pk}", {"email": w.other.email}))
case("DELETE", "/api/v2/auth/users/{user_id}", 200, "admin")(
    lambda w: w.as_admin().delete(f"/api/v2/auth/users/{w.other.pk}"))
case("DELETE", "/api/v2/auth/users/{user_id}", 400, "own account")(
    lambda w: w.as_admin().delete(f"/api/v2/auth/users/{w.admin.pk}"))
case("GET", "/api/v2/auth/users/{user_id}/preferences", 200, "self")(
    lambda w: w.as_owner().get(f"/api/v2/auth/users/{w.owner.pk}/preferences"))
case("PUT", "/api/v2/auth/users/{user_id}/preferences", 200, "self")(lambda w: put_json(
    w.as_owner(), f"/api/v2/auth/users/{w.owner.pk}/preferences", {"email_on_job_failure": False}))
case("PUT", "/api/v2/auth/users/{user_id}/preferences", 200, "run notifications")(lambda w: put_json(
    w.as_owner(), f"/api/v2/auth/users/{w.owner.pk}/preferences", {"run_notifications": "mine"}))
case("PUT", "/api/v2/auth/users/{user_id}/preferences", 400, "unknown run notifications")(lambda w: put_json(
    w.as_owner(), f"/api/v2/auth/users/{w.owner.pk}/preferences", {"run_notifications": "some"}))
case("PUT", "/api/v2/auth/users/{user_id}/preferences", 403, "someone else")(lambda w: put_json(
    w.as_owner(), f"/api/v2/auth/users/{w.other.pk}/preferences", {"email_on_job_failure": False}))
case("GET", "/api/v2/auth/users/{user_id}/ui-preferences", 200, "self")(
    lambda w: w.as_owner().get(f"/api/v2/auth/users/{w.owner.pk}/ui-preferences"))
case("PUT", "/api/v2/auth/users/{user_id}/ui-preferences", 200, "self")(lambda w: put_json(
    w.as_owner(), f"/api/v2/auth/users/{w.owner.pk}/ui-preferences",
    {"jobs_table_columns": {"category": False}}))
case("GET", "/api/v2/auth/users/{user_id}/ui-preferences", 404, "unknown user")(
    lambda w: w.as_admin().get("/api/v2/auth/users/no-such-user/ui-preferences"))

# categories and PIC teams

case("GET", "/api/v2/job-categories", 200, "all, admin")(
    lambda w: w.as_admin().get("/api/v2/job-categories?include_inactive=true"))
case("GET", "/api/v2/job-categories", 400, "include_inactive not a boolean")(
    lambda w: w.as_owner().get("/api/v2/job-categories?include_inactive=maybe"))
case("POST", "/api/v2/job-categories", 201, "admin")(
    lambda w: post_json(w.as_admin(), "/api/v2/job-categories", {"name": "Smoke"}))
case("POST", "/api/v2/job-categories", 409, "duplicate slug")(
    lambda w: post_json(w.as_admin(), "/api/v2/job-categories", {"name": "Regression"}))
case("PUT", "/api/v2/job-categories/{category_id}", 200, "rename")(lambda w: put_json(
    w.as_admin(), f"/api/v2/job-categories/{w.category.pk}", {"name": "Regression Suite"}))
case("PUT", "/api/v2/job-categories/{category_id}", 404, "unknown")(lambda w: put_json(
    w.as_admin(), "/api/v2/job-categories/no-such-category", {"name": "x"}))
case("DELETE", "/api/v2/job-categories/{category_id}", 200, "disable")(
    lambda w: w.as_admin().delete(f"/api/v2/job-categories/{w.category.pk}"))
case("GET", "/api/v2/pic-teams", 200, "owner")(lambda w: w.as_owner().get("/api/v2/pic-teams"))
case("POST", "/api/v2/pic-teams", 201, "admin")(lambda w: post_json(
    w.as_admin(), "/api/v2/pic-teams", {"name": "Mobile QA", "slack_handle": "@mobile-qa"}))
case("POST", "/api/v2/pic-teams", 400, "no slack handle")(
    lambda w: post_json(w.as_admin(), "/api/v2/pic-teams", {"name": "Mobile QA"}))
case("PUT", "/api/v2/pic-teams/{team_id}", 200, "re-handle")(lambda w: put_json(
    w.as_admin(), f"/api/v2/pic-teams/{w.team.pk}", {"slack_handle": "@platform"}))
case("PUT", "/api/v2/pic-teams/{team_id}", 404, "unknown")(lambda w: put_json(
    w.as_admin(), "/api/v2/pic-teams/no-such-team", {"slack_handle": "@platform"}))
case("DELETE", "/api/v2/pic-teams/{team_id}", 200, "disable")(
    lambda w: w.as_admin().delete(f"/api/v2/pic-teams/{w.team.pk}"))

# Slack settings

case("GET", "/api/v2/settings/slack", 200, "admin")(lambda w: w.as_admin().get("/api/v2/settings/slack"))
case("GET", "/api/v2/settings/slack", 403, "not an admin")(
    lambda w: w.as_owner().get("/api/v2/settings/slack"))
case("PUT", "/api/v2/settings/slack", 200, "clear the channel")(
    lambda w: put_json(w.as_admin(), "/api/v2/settings/slack", {"channel": None}))
case("PUT", "/api/v2/settings/slack", 400, "enabled without a URL")(lambda w: put_json(
    w.as_admin(), "/api/v2/settings/slack", {"is_enabled": True, "webhook_url": ""}))

# notifications

case("GET", "/api/v2/notifications", 200, "owner")(
    lambda w: w.as_owner().get("/api/v2/notifications?from=2000-01-01"))
case("GET", "/api/v2/notifications", 200, "unread, empty page")(
    lambda w: w.as_owner().get("/api/v2/notifications?unread_only=true&page=9&per_page=500"))
case("GET", "/api/v2/notifications", 400, "page below 1")(
    lambda w: w.as_owner().get("/api/v2/notifications?page=0"))
case("GET", "/api/v2/notifications/unread-count", 200, "owner")(
    lambda w: w.as_owner().get("/api/v2/notifications/unread-count"))
case("GET", "/api/v2/notifications/unread-count", 400, "bad date")(
    lambda w: w.as_owner().get("/api/v2/notifications/unread-count?from=yesterday"))
case("PUT", "/api/v2/notifications/read-all", 200, "owner")(
    lambda w: w.as_owner().put("/api/v2/notifications/read-all"))
case("DELETE", "/api/v2/notifications/delete-read", 200, "owner")(
    lambda w: w.as_owner().delete("/api/v2/notifications/delete-read?to=2999-01-01"))
case("PUT", "/api/v2/notifications/{notification_id}/read", 200, "own")(
    lambda w: w.as_owner().put(f"/api/v2/notifications/{w.notification.pk}/read"))
case("PUT", "/api/v2/notifications/{notification_id}/read", 403, "someone else's")(
    lambda w: w.as_owner().put(f"/api/v2/notifications/{w.others_notification.pk}/read"))
case("PUT", "/api/v2/notifications/{notification_id}/read", 404, "unknown")(
    lambda w: w.as_owner().put("/api/v2/notifications/no-such-notification/read"))
case("DELETE", "/api/v2/notifications/{notification_id}", 200, "own")(
    lambda w: w.as_owner().delete(f"/api/v2/notifications/{w.notification.pk}"))

# jobs

case("GET", "/api/v2/jobs", 200, "every job")(lambda w: w.as_owner().get("/api/v2/jobs"))


@case("POST", "/api/v2/jobs", 201, "webhook job")
def _create_job(w: World):
    end_date = (scheduler_today() + dt.timedelta(days=30)).isoformat()
    return post_json(w.as_owner(), "/api/v2/jobs", {
        "name": "Nightly smoke", "cron_expression": "0 3 * * *", "end_date": end_date,
        "target_url": w.webhook_url, "pic_team": w.team.slug, "metadata": {"branch": "main"}})


case("POST", "/api/v2/jobs", 400, "missing fields")(
    lambda w: post_json(w.as_owner(), "/api/v2/jobs", {"name": "x"}))
case("GET", "/api/v2/jobs/{job_id}", 200, "one job")(
    lambda w: w.api(w.viewer).get(f"/api/v2/jobs/{w.job.pk}"))
case("GET", "/api/v2/jobs/{job_id}", 404, "unknown")(lambda w: w.as_owner().get("/api/v2/jobs/no-such-job"))
case("PUT", "/api/v2/jobs/{job_id}", 200, "owner")(lambda w: put_json(
    w.as_owner(), f"/api/v2/jobs/{w.job.pk}", {"cron_expression": "30 4 * * 1-5", "is_active": False}))
case("PUT", "/api/v2/jobs/{job_id}", 403, "not the owner")(lambda w: put_json(
    w.api(w.other), f"/api/v2/jobs/{w.job.pk}", {"is_active": False}))
case("DELETE", "/api/v2/jobs/{job_id}", 200, "owner")(
    lambda w: w.as_owner().delete(f"/api/v2/jobs/{w.job.pk}"))
case("POST", "/api/v2/jobs/{job_id}/execute", 200, "owner, webhook")(
    lambda w: w.as_owner().post(f"/api/v2/jobs/{w.job.pk}/execute"))
case("POST", "/api/v2/jobs/{job_id}/execute", 404, "unknown")(
    lambda w: w.as_owner().post("/api/v2/jobs/no-such-job/execute"))
case("POST", "/api/v2/jobs/test-run", 200, "webhook")(lambda w: post_json(
    w.as_owner(), "/api/v2/jobs/test-run", {"target_url": w.webhook_url, "metadata": {"env": "stg"}}))


@case("POST", "/api/v2/jobs/test-run", 200, "GitHub with run details")
def _test_run_github(w: World):
    w.fake_github.run_details(4242)
    return post_json(w.as_owner(), "/api/v2/jobs/test-run", {
        "github_owner": "acme", "github_repo": "api-tests", "github_workflow_name": "nightly.yml"})


case("POST", "/api/v2/jobs/test-run", 200, "webhook refused")(lambda w: post_json(
    w.as_owner(), "/api/v2/jobs/test-run", {"target_url": "http://127.0.0.1:9/closed", "timeout_seconds": 1}))
case("POST", "/api/v2/jobs/test-run", 403, "viewer")(lambda w: post_json(
    w.api(w.viewer), "/api/v2/jobs/test-run", {"target_url": w.webhook_url}))


@case("POST", "/api/v2/jobs/{job_id}/execute", 200, "GitHub with run details")
def _execute_github(w: World):
    w.fake_github.run_details(4243)
    return w.as_admin().post(f"/api/v2/jobs/{w.github_job.pk}/execute")


case("POST", "/api/v2/jobs/validate-cron", 200, "invalid")(lambda w: post_json(
    w.as_owner(), "/api/v2/jobs/validate-cron", {"expression": "0 3 * *"}))
case("POST", "/api/v2/jobs/validate-cron", 200, "valid")(lambda w: post_json(
    w.as_owner(), "/api/v2/jobs/validate-cron", {"expression": "0 3 * * *"}))
case("POST", "/api/v2/jobs/cron-description", 200, "valid")(lambda w: post_json(
    w.as_owner(), "/api/v2/jobs/cron-description", {"expression": "0 3 * * 1-5"}))
case("POST", "/api/v2/jobs/cron-description", 400, "invalid")(lambda w: post_json(
    w.as_owner(), "/api/v2/jobs/cron-description", {"expression": "not cron"}))
case("POST", "/api/v2/jobs/cron-preview", 200, "three runs")(lambda w: post_json(
    w.as_owner(), "/api/v2/jobs/cron-preview", {"expression": "0 3 * * *", "count": 3, "timezone": "UTC"}))


@case("POST", "/api/v2/jobs/bulk-upload", 200, "dry run")
def _bulk_upload(w: World):
    end_date = (scheduler_today() + dt.timedelta(days=30)).isoformat()
    text = "\n".join(["name,cron,target_url,end_date,pic_team,category,metadata,dispatch_url",
                      f"csv job,0 3 * * *,https://h.example/x,{end_date},{w.team.slug},,,",
                      f"bad cron,0 3 * *,https://h.example/x,{end_date},{w.team.slug},,,"])
    upload = SimpleUploadedFile("jobs.csv", text.encode(), content_type="text/csv")
    return w.as_owner().post("/api/v2/jobs/bulk-upload", {"file": upload, "dry_run": "true"},
                             format="multipart")


@case("POST", "/api/v2/jobs/bulk-upload", 200, "import")
def _bulk_import(w: World):
    end_date = (scheduler_today() + dt.timedelta(days=30)).isoformat()
    text = "\n".join(["name,cron,target_url,end_date,pic_team,category,metadata,dispatch_url",
                      f'csv job,0 3 * * *,https://h.example/x,{end_date},{w.team.slug},,"{{""a"": 1}}",'])
    upload = SimpleUploadedFile("jobs.csv", text.encode(), content_type="text/csv")
    return w.as_owner().post("/api/v2/jobs/bulk-upload", {"file": upload}, format="multipart")




@case("POST", "/api/v2/jobs/bulk-upload", 400, "every row refused")
def _bulk_refused(w: World):
    text = "name,cron,target_url,end_date,pic_team\nbad cron,0 3 * *,https://h.example/x,2999-01-01,nope"
    upload = SimpleUploadedFile("jobs.csv", text.encode(), content_type="text/csv")
    return w.as_owner().post("/api/v2/jobs/bulk-upload", {"file": upload}, format="multipart")


@case("POST", "/api/v2/jobs/bulk-upload", 413, "file too large")
def _bulk_too_large(w: World):
    w.settings.BULK_UPLOAD_MAX_BYTES = 16
    upload = SimpleUploadedFile("jobs.csv", b"name,cron\n" * 10, content_type="text/csv")
    return w.as_owner().post("/api/v2/jobs/bulk-upload", {"file": upload}, format="multipart")


case("POST", "/api/v2/jobs/bulk-upload", 400, "no file")(
    lambda w: w.as_owner().post("/api/v2/jobs/bulk-upload", {}, format="multipart"))


# Literal routes read with GET are job lookups of that id: only their 404 is documented.
for _literal in ("bulk-upload", "validate-cron", "cron-preview", "cron-description", "test-run"):
    case("GET", f"/api/v2/jobs/{_literal}", 404, "looked up as a job id")(
        lambda w, literal=_literal: w.as_owner().get(f"/api/v2/jobs/{literal}"))

# history and export


@case("GET", "/api/v2/jobs/{job_id}/history", 200, "created then changed, as a viewer")
def _history(w: World):
    put_json(w.as_owner(), f"/api/v2/jobs/{w.job.pk}", {"cron_expression": "30 4 * * 1-5"})
    return w.api(w.viewer).get(f"/api/v2/jobs/{w.job.pk}/history?limit=1&page=1")


case("GET", "/api/v2/jobs/{job_id}/history", 404, "unknown job")(
    lambda w: w.as_owner().get("/api/v2/jobs/no-such-job/history"))
case("GET", "/api/v2/jobs/{job_id}/history", 400, "limit out of range")(
    lambda w: w.as_owner().get(f"/api/v2/jobs/{w.job.pk}/history?limit=0"))
case("GET", "/api/v2/jobs/export", 200, "as JSON")(
    lambda w: w.api(w.viewer).get("/api/v2/jobs/export?type=json"))
case("GET", "/api/v2/jobs/export", 400, "unknown type")(
    lambda w: w.as_owner().get("/api/v2/jobs/export?type=xml"))

# executions

case("GET", "/api/v2/jobs/{job_id}/executions", 200, "a job's")(
    lambda w: w.as_owner().get(f"/api/v2/jobs/{w.job.pk}/executions"))
case("GET", "/api/v2/jobs/{job_id}/executions", 404, "unknown job")(
    lambda w: w.as_owner().get("/api/v2/jobs/no-such-job/executions"))
case("GET", "/api/v2/jobs/{job_id}/executions/stats", 200, "never ran")(
    lambda w: w.as_owner().get(f"/api/v2/jobs/{w.github_job.pk}/executions/stats"))
case("GET", "/api/v2/jobs/{job_id}/executions/stats", 200, "a job's")(
    lambda w: w.as_owner().get(f"/api/v2/jobs/{w.job.pk}/executions/stats"))
case("GET", "/api/v2/jobs/{job_id}/executions/{execution_id}", 200, "one")(
    lambda w: w.as_owner().get(f"/api/v2/jobs/{w.job.pk}/executions/{w.execution.pk}"))
case("GET", "/api/v2/executions", 200, "paged")(lambda w: w.as_owner().get("/api/v2/executions?limit=5"))
case("GET", "/api/v2/executions", 400, "limit out of range")(
    lambda w: w.as_owner().get("/api/v2/executions?limit=0"))
case("GET", "/api/v2/executions/statistics", 200, "over a range")(
    lambda w: w.as_owner().get("/api/v2/executions/statistics?from=2000-01-01&to=2999-01-01"))
case("GET", "/api/v2/executions/{execution_id}", 200, "one")(
    lambda w: w.as_owner().get(f"/api/v2/executions/{w.execution.pk}"))
case("GET", "/api/v2/executions/{execution_id}", 404, "unknown")(
    lambda w: w.as_owner().get("/api/v2/executions/no-such-execution"))

# scheduler


def _live_leader(**extra) -> None:
    now = timezone.now()
    SchedulerState.objects.update_or_create(pk=SchedulerState.SINGLETON_ID, defaults={
        "host": "sched-1", "pid": 4242, "leader_since": now - dt.timedelta(hours=1), "heartbeat_at": now,
        "last_reconcile_at": now - dt.timedelta(minutes=5), "scheduled_jobs_count": 1,
        "next_runs": [{"job_id": "x", "name": "Nightly", "fire_at": "2025-12-19T03:00:00+09:00"}],
        "stopped_at": None, **extra})


RESYNC_RESULT = {"ran_at": "2025-12-18T07:05:12.000311Z", "db_jobs_total": 2, "db_jobs_active": 2,
                 "scheduled_now": 2, "scheduled_added": 0, "scheduled_removed": 0, "expired_auto_paused": 0,
                 "orphaned_removed": 0, "invalid_cron": 0}


@case("GET", "/api/v2/scheduler/status", 200, "live leader")
def _status(w: World):
    _live_leader(last_resync_result=RESYNC_RESULT)
    return w.as_admin().get("/api/v2/scheduler/status")


case("GET", "/api/v2/scheduler/status", 403, "not an admin")(
    lambda w: w.as_owner().get("/api/v2/scheduler/status"))
case("GET", "/api/v2/scheduler/status", 200, "no scheduler")(
    lambda w: w.as_admin().get("/api/v2/scheduler/status"))


@case("POST", "/api/v2/scheduler/resync", 200, "answered")
def _resync(w: World):
    # A leader whose answer is already recorded after the request time: no waiting.
    _live_leader(resync_completed_at=timezone.now() + dt.timedelta(minutes=1),
                 last_resync_result=RESYNC_RESULT)
    return w.as_admin().post("/api/v2/scheduler/resync")




@case("POST", "/api/v2/scheduler/resync", 202, "leader slow to answer")
def _resync_pending(w: World):
    from jobs.api import scheduler

    w.monkeypatch.setattr(scheduler, "RESYNC_WAIT_SECONDS", 0.2)
    _live_leader()
    return w.as_admin().post("/api/v2/scheduler/resync")


case("POST", "/api/v2/scheduler/resync", 409, "no leader")(
    lambda w: w.as_admin().post("/api/v2/scheduler/resync"))


# GitHub's workflow_run webhook

WEBHOOK_SECRET = "schema-test-secret"


def _delivery(w: World, event: str, body: dict, *, secret: str | None = WEBHOOK_SECRET):
    from integrations import github

    w.settings.GITHUB_WEBHOOK_SECRET = WEBHOOK_SECRET
    raw = json.dumps(body).encode()
    headers = {"HTTP_X_GITHUB_EVENT": event}
    if secret is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = github.webhook_signature(raw, secret)
    return w.api().post("/api/v2/github/webhook", raw, content_type=JSON, **headers)


@case("POST", "/api/v2/github/webhook", 200, "workflow_run completed")
def _github_webhook_run(w: World):
    w.fake_github.run_details(4244)
    w.as_admin().post(f"/api/v2/jobs/{w.github_job.pk}/execute")
    w.fake_github.set_run(4244, "completed", conclusion="success")
    return _delivery(w, "workflow_run", w.fake_github.workflow_run_event(4244))


case("POST", "/api/v2/github/webhook", 200, "ping")(
    lambda w: _delivery(w, "ping", {"zen": "Keep it logically awesome.", "hook_id": 1}))
case("POST", "/api/v2/github/webhook", 401, "wrongly signed")(
    lambda w: _delivery(w, "workflow_run", {"action": "completed"}, secret="not-the-secret"))
case("POST", "/api/v2/github/webhook", 400, "not a workflow run")(
    lambda w: _delivery(w, "workflow_run", {"action": "completed", "workflow_run": {"id": "x"}}))


@case("POST", "/api/v2/github/webhook", 503, "no secret configured")
def _github_webhook_off(w: World):
    w.settings.GITHUB_WEBHOOK_SECRET = ""
    return w.api().post("/api/v2/github/webhook", b"{}", content_type=JSON,
                        HTTP_X_GITHUB_EVENT="ping", HTTP_X_HUB_SIGNATURE_256="sha256=00")


# --- the tests --------------------------------------------------------------------------------

def _param(item: Case):
    marks = [pytest.mark.xfail(strict=True, reason=item.xfail)] if item.xfail else []
    return pytest.param(item, id=item.id, marks=marks)


@pytest.mark.parametrize("item", [_param(item) for item in CASES])
def test_the_body_is_what_the_document_says(document, components, world, item: Case):
    response = item.call(world)
    assert response.status_code == item.status, (
        f"{item.method} {item.route} ({item.why}): expected {item.status}, got {response.status_code}: "
        f"{response.content[:500]!r}")
    check_body(document, components, item.method, item.route, response)


def test_every_documented_operation_has_a_case_and_every_case_an_operation(document):
    cased = {(item.method, item.route) for item in CASES}
    documented = documented_operations(document)
    assert not documented - cased, f"operations without a case: {sorted(documented - cased)}"
    assert not cased - documented, f"cases of operations the document lacks: {sorted(cased - documented)}"


def test_every_operation_with_a_documented_success_has_a_case_that_succeeds(document):
    succeeded = {(item.method, item.route) for item in CASES if 200 <= item.status < 300}
    for route, operations in document["paths"].items():
        for method, operation in operations.items():
            if any(code.startswith("2") for code in operation["responses"]):
                assert (method.upper(), route) in succeeded, f"{operation['operationId']}: no success case"


# Response properties whose content is free by design: a job's metadata is the user's own JSON,
# a validation error echoes whatever input it refused, with the checker's context values.
# A job's webhook headers are the user's own names (their values always show masked).
FREE_FORM = {("Job", "metadata"), ("Job", "webhook_headers"), ("ValidationItem", "input"),
             ("ValidationItem", "ctx"),
             # a history entry's old and new values are the changed field's, whatever its type
             ("HistoryChange", "old"), ("HistoryChange", "new"), ("ExportedJob", "metadata"),
             ("ExportedJob", "webhook_headers")}
def _untyped(schema: dict) -> bool:
    """No type to hold a value to: an object without properties, an array of such, or no type at all."""
    if any(key in schema for key in ("$ref", "allOf", "oneOf", "anyOf", "enum")):
        return False
    kind = schema.get("type")
    if kind == "object":
        return not schema.get("properties")
    if kind == "array":
        return _untyped(schema.get("items", {}))
    return kind is None


def test_response_properties_have_types_so_drift_inside_them_is_caught(document):
    """A property documented as "any object" would let any content through; only the free-form ones may be."""
    untyped = {(name, prop) for name, schema in document["components"]["schemas"].items()
               if not name.endswith("Request")  # request bodies: not what this module checks
               for prop, sub in schema.get("properties", {}).items() if _untyped(sub)}
    assert untyped - FREE_FORM == set(), "response properties documented without a type"


def test_the_strict_schemas_refuse_an_unknown_key_and_a_null_where_none_is_documented(document,
                                                                                     components):
    """The checker itself: drift of either kind is caught."""
    schema = {"$ref": "#/components/schemas/JobCategory", "components": components}
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    good = {"id": "c1", "slug": "regression", "name": "Regression", "is_active": True,
            "created_at": "2025-12-18T06:49:31.105845Z", "updated_at": "2025-12-18T06:49:31Z"}
    assert not list(validator.iter_errors(good))
    assert list(validator.iter_errors({**good, "extra": 1}))
    assert list(validator.iter_errors({**good, "name": None}))
    assert list(validator.iter_errors({**good, "created_at": "yesterday"}))
    missing = dict(good)
    del missing["slug"]
    assert list(validator.iter_errors(missing))


# --- one timestamp convention for every endpoint (docs/api.md, "Timestamps") -----------------

INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
FIRE_TIME_KEYS = {"next_execution_at", "next_runs", "fire_at"}


def _instants(value: Any, path: tuple = ()):
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _instants(child, (*path, key))
    elif isinstance(value, list):
        for child in value:
            yield from _instants(child, path)
    elif isinstance(value, str) and INSTANT.match(value):
        yield path, value


@pytest.mark.parametrize("item", [_param(item) for item in CASES if item.status < 300])
def test_every_instant_follows_the_one_convention(world, item: Case):
    """A recorded moment is UTC ending in Z; a fire time carries its job's offset."""
    response = item.call(world)
    if not response["Content-Type"].startswith(JSON):
        return
    for path, text in _instants(json.loads(response.content)):
        if FIRE_TIME_KEYS & set(path):
            assert re.search(r"[+-]\d{2}:\d{2}$", text), (item.id, path, text)
        else:
            assert text.endswith("Z"), (item.id, path, text)
        dt.datetime.fromisoformat(text.replace("Z", "+00:00"))  # and it parses
