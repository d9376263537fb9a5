"""GET /api/v2/health and GET /: public, always 200."""

import datetime as dt

import pytest
from django.utils import timezone

from jobs.models import SchedulerState

pytestmark = pytest.mark.django_db

HEALTH = "/api/v2/health"


def test_health_without_a_scheduler(client, settings):
    before = timezone.now()
    response = client.get(HEALTH)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body == {
        "status": "healthy",
        "service": "cronhub",
        "version": "2.0.0",
        "timestamp": body["timestamp"],
        "api": "v2",
        "scheduler_running": False,
        "scheduled_jobs_count": 0,
        "docs_url": "http://testserver/docs",
        "database": "available",
    }
    stamp = dt.datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00"))
    assert body["timestamp"].endswith("Z") and len(body["timestamp"]) == len("2025-12-18T06:49:31.105845Z")
    assert before - dt.timedelta(seconds=1) <= stamp <= timezone.now()
    assert not SchedulerState.objects.exists()  # reading health writes nothing


def test_health_reports_a_live_leaders_heartbeat(client):
    SchedulerState.objects.create(
        pk=SchedulerState.SINGLETON_ID,
        host="web1",
        pid=42,
        heartbeat_at=timezone.now(),
        scheduled_jobs_count=12,
    )
    body = client.get(HEALTH).json()
    assert body["scheduler_running"] is True and body["scheduled_jobs_count"] == 12


def test_a_stale_or_stopped_leader_is_not_running(client):
    now = timezone.now()
    state = SchedulerState.objects.create(
        pk=SchedulerState.SINGLETON_ID, heartbeat_at=now - dt.timedelta(hours=1), scheduled_jobs_count=12
    )
    assert client.get(HEALTH).json()["scheduler_running"] is False
    state.heartbeat_at, state.stopped_at = now, now
    state.save()
    body = client.get(HEALTH).json()
    assert body["scheduler_running"] is False and body["scheduled_jobs_count"] == 0


def test_health_reports_the_configured_version(client, settings):
    settings.APP_VERSION = "9.9.9"
    assert client.get(HEALTH).json()["version"] == "9.9.9"


def test_docs_url_comes_from_the_request_or_the_public_base_url(client, settings):
    settings.ALLOWED_HOSTS = ["cronhub.example.com"]
    body = client.get(HEALTH, HTTP_HOST="cronhub.example.com", HTTP_X_FORWARDED_PROTO="https").json()
    assert body["docs_url"] == "http://cronhub.example.com/docs"  # no proxy header trusted: plain http
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    body = client.get(HEALTH, HTTP_HOST="cronhub.example.com", HTTP_X_FORWARDED_PROTO="https").json()
    assert body["docs_url"] == "https://cronhub.example.com/docs"
    settings.PUBLIC_BASE_URL = "https://jobs.example.org"
    assert client.get(HEALTH, HTTP_HOST="cronhub.example.com").json()["docs_url"] == \
        "https://jobs.example.org/docs"


def test_health_ignores_a_garbage_token(client):
    assert client.get(HEALTH, HTTP_AUTHORIZATION="Bearer garbage").status_code == 200


def test_head_is_not_supported_on_get_routes(client):
    assert client.head(HEALTH).status_code == 405
    assert client.head("/api/v2/auth/me").status_code == 405
    assert client.head("/api/v2/nowhere").status_code == 404


def test_health_with_a_trailing_slash_redirects(client):
    response = client.get(HEALTH + "/")
    assert response.status_code == 307
    assert response["Location"] == "http://testserver/api/v2/health"


def test_the_welcome_document(client):
    response = client.get("/", HTTP_AUTHORIZATION="Bearer garbage")
    assert response.status_code == 200
    assert response.json() == {
        "message": "Welcome to the cronhub API v2",
        "docs": "/docs",
        "redoc": "/redoc",
        "health": "/api/v2/health",
    }
