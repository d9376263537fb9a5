"""The React client's calls against a live server over real HTTP.

Each step sends what the client sends (axios: JSON content type on every call,
the bearer token, an Origin) and reads only what the client reads.
"""

import time

import jwt
import pytest
import requests
from django.conf import settings

from accounts.models import User
from cronhub.testing.factories import AdminFactory, JobFactory
from integrations.models import SlackSettings
from jobs.models import Job
from taxonomy.models import JobCategory, PicTeam

ORIGIN = "http://localhost:5173"


class ReactClient:
    """What src/services/api/client.ts does: base URL, JSON, bearer token, refresh-and-retry on 401."""

    def __init__(self, base: str):
        self.base = base + "/api/v2"
        self.session = requests.Session()
        self.session.headers.update({"Content-Type": "application/json", "Origin": ORIGIN})
        self.token: str | None = None
        self.refresh_token: str | None = None
        self.refreshes = 0

    def call(self, method: str, path: str, body=None, *, params=None, retry=True) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = self.session.request(
            method,
            self.base + path,
            json=body,
            params=params,
            headers=headers,
            timeout=30,
            allow_redirects=False,
        )
        assert response.headers.get("Access-Control-Allow-Origin") == "*", path  # a browser would need it
        if (
            response.status_code in (401, 422)
            and retry
            and self.refresh_token
            and not path.startswith("/auth/login")
            and path != "/auth/refresh"
        ):
            refreshed = self.session.post(
                self.base + "/auth/refresh",
                data=None,
                timeout=30,
                headers={"Authorization": f"Bearer {self.refresh_token}"},
            )
            if refreshed.status_code == 200:
                self.token = refreshed.json()["access_token"]
                self.refreshes += 1
                return self.call(method, path, body, params=params, retry=False)
        return response


@pytest.fixture
def admin(transactional_db):
    return AdminFactory(username="admin", email="admin@example.com")


def test_the_react_client_sequence_against_a_live_server(live_server, admin):
    client = ReactClient(live_server.url)

    # login (authService.login: {username, password} because the input has no "@")
    login = client.call("POST", "/auth/login", {"username": "admin", "password": "secret123"})
    assert login.status_code == 200
    body = login.json()
    client.token, client.refresh_token = body["access_token"], body["refresh_token"]
    assert {body["user"][k] for k in ("id", "role", "username", "email")} == {
        admin.pk,
        "admin",
        "admin@example.com",
    }
    assert jwt.decode(client.token, options={"verify_signature": False})["exp"] > time.time()  # Header.tsx

    # refresh with the refresh token in the header and a null body
    refreshed = client.session.post(
        client.base + "/auth/refresh", data=None, headers={"Authorization": f"Bearer {client.refresh_token}"}
    )
    assert refreshed.status_code == 200
    client.token = refreshed.json()["access_token"]

    me = client.call("GET", "/auth/me")
    assert me.status_code == 200 and me.json()["id"] == admin.pk

    # an expired access token: the client refreshes and retries once, transparently
    now = int(time.time())
    client.token = jwt.encode(
        {"sub": admin.pk, "type": "access", "iat": now - 7200, "exp": now - 3600},
        settings.JWT_SECRET_KEY,
        algorithm="HS256",
    )
    users = client.call("GET", "/auth/users")
    assert users.status_code == 200 and client.refreshes == 1
    assert [u["username"] for u in users.json()["users"]] == ["admin"]

    # Users page: create, read, edit
    created = client.call(
        "POST",
        "/auth/register",
        {"username": "carol", "email": "carol@example.com", "password": "secret99", "role": "user"},
    )
    assert created.status_code == 201
    carol_id = created.json()["user"]["id"]
    assert client.call("GET", f"/auth/users/{carol_id}").json()["user"]["username"] == "carol"
    edited = client.call(
        "PUT", f"/auth/users/{carol_id}", {"email": "carol2@example.com", "role": "viewer", "is_active": True}
    )
    assert edited.status_code == 200 and edited.json()["user"]["role"] == "viewer"
    assert User.objects.get(pk=carol_id).email == "carol2@example.com"

    # Notification settings and the jobs table columns
    prefs = client.call("GET", f"/auth/users/{admin.pk}/preferences").json()["preferences"]
    assert prefs["email_on_job_success"] is True and prefs["browser_notifications"] is False
    prefs = client.call("PUT", f"/auth/users/{admin.pk}/preferences", {"daily_digest": True}).json()[
        "preferences"
    ]
    assert prefs["daily_digest"] is True
    columns = client.call("GET", f"/auth/users/{admin.pk}/ui-preferences").json()["preferences"]
    columns = {**columns["jobs_table_columns"], "target_url": True}
    saved = client.call("PUT", f"/auth/users/{admin.pk}/ui-preferences", {"jobs_table_columns": columns})
    assert saved.json()["preferences"]["jobs_table_columns"] == columns

    # Settings: categories
    category = client.call("POST", "/job-categories", {"name": "Smoke Tests"})
    assert category.status_code == 201
    category_id = category.json()["category"]["id"]
    listed = client.call("GET", "/job-categories", params={"include_inactive": "true"}).json()["categories"]
    assert category_id in {c["id"] for c in listed}
    JobFactory(category="smoke-tests", pic_team="qa-core")
    renamed = client.call("PUT", f"/job-categories/{category_id}", {"name": "Smoke Suite"}).json()
    assert renamed["category"]["slug"] == "smoke-suite" and renamed["jobs_updated"] == 1
    assert (
        client.call("PUT", f"/job-categories/{category_id}", {"is_active": False}).json()["category"][
            "is_active"
        ]
        is False
    )
    assert client.call("DELETE", f"/job-categories/{category_id}").json()["category"]["is_active"] is False
    assert not JobCategory.objects.get(pk=category_id).is_active

    # Settings: PIC teams
    team = client.call("POST", "/pic-teams", {"name": "QA Core", "slack_handle": "@qa-core"})
    assert team.status_code == 201 and team.json()["pic_team"]["slug"] == "qa-core"
    team_id = team.json()["pic_team"]["id"]
    moved = client.call(
        "PUT", f"/pic-teams/{team_id}", {"name": "QA Platform", "slack_handle": "@qa-platform"}
    )
    assert moved.json()["pic_team"]["slug"] == "qa-platform" and moved.json()["jobs_updated"] == 1
    assert Job.objects.get().pic_team == "qa-platform"
    assert (
        client.call("PUT", f"/pic-teams/{team_id}", {"is_active": False}).json()["pic_team"]["is_active"]
        is False
    )
    assert client.call("DELETE", f"/pic-teams/{team_id}").status_code == 200
    assert [
        t["slug"]
        for t in client.call("GET", "/pic-teams", params={"include_inactive": "true"}).json()["pic_teams"]
    ] == ["qa-platform"]
    assert not PicTeam.objects.get(pk=team_id).is_active

    # Slack tab: save a URL, then the usual GET-then-PUT round trip of all three keys
    url = "https://hooks.slack.com/services/T1/B2/secret"
    assert (
        client.call(
            "PUT", "/settings/slack", {"is_enabled": True, "webhook_url": url, "channel": "#qa"}
        ).status_code
        == 200
    )
    shown = client.call("GET", "/settings/slack").json()["slack_settings"]
    assert shown["webhook_url"] != url and "secret" not in shown["webhook_url"]
    saved = client.call(
        "PUT",
        "/settings/slack",
        {"is_enabled": shown["is_enabled"], "webhook_url": shown["webhook_url"], "channel": "#qa-alerts"},
    )
    assert saved.status_code == 200 and saved.json()["slack_settings"]["channel"] == "#qa-alerts"
    assert SlackSettings.objects.get().webhook_url == url

    # Users page: delete; then logout, after which the refresh token is dead
    assert client.call("DELETE", f"/auth/users/{carol_id}").status_code == 200
    assert client.call("POST", "/auth/logout").status_code == 200
    dead = client.session.post(
        client.base + "/auth/refresh", headers={"Authorization": f"Bearer {client.refresh_token}"}
    )
    assert dead.status_code == 401 and dead.json() == {"detail": "Token has been revoked"}


def test_a_browser_preflight_against_the_live_server(live_server, transactional_db):
    response = requests.options(
        live_server.url + "/api/v2/auth/users",
        timeout=30,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200 and response.text == "OK"
    assert response.headers["Access-Control-Allow-Headers"] == "authorization, content-type"
