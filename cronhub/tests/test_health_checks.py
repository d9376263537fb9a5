"""Liveness, readiness and the scheduler check, in-process and against real processes:
gunicorn serving the app, a real ``runscheduler`` leader, a real database outage
(the machinery of test_database_outage.py)."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
import requests
from django.utils import timezone

from cronhub.tests.test_database_outage import Server, outage, serve  # noqa: F401 - fixtures
from jobs.models import SchedulerState
from jobs.tests import scheduler_support as support

LIVE, READY, SCHEDULER = "/api/v2/health/live", "/api/v2/health/ready", "/api/v2/health/scheduler"


@pytest.mark.django_db
def test_liveness_and_readiness(client):
    live = client.get(LIVE)
    assert live.status_code == 200 and live.json()["status"] == "alive"
    ready = client.get(READY)
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready" and ready.json()["database"] == "available"


def test_liveness_touches_no_database(client):
    # No django_db mark: any query would raise here.
    assert client.get(LIVE).status_code == 200


@pytest.mark.django_db
def test_no_leader_ever_is_503(client):
    response = client.get(SCHEDULER)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy" and body["leader_host"] is None
    assert body["heartbeat_at"] is None and body["heartbeat_age_seconds"] is None
    assert not SchedulerState.objects.exists()  # the check writes nothing


@pytest.mark.django_db
def test_the_threshold_is_configurable(client, settings):
    SchedulerState.objects.create(pk=SchedulerState.SINGLETON_ID, host="sched-a", pid=9,
                                  heartbeat_at=timezone.now() - dt.timedelta(seconds=40))
    settings.SCHEDULER_HEALTH_MAX_AGE_SECONDS = 30
    stale = client.get(SCHEDULER)
    assert stale.status_code == 503
    assert stale.json()["leader_host"] == "sched-a" and 40 <= stale.json()["heartbeat_age_seconds"] < 45
    settings.SCHEDULER_HEALTH_MAX_AGE_SECONDS = 60
    fresh = client.get(SCHEDULER)
    assert fresh.status_code == 200
    assert fresh.json()["status"] == "healthy" and fresh.json()["max_age_seconds"] == 60


@pytest.mark.django_db
def test_a_leader_that_stopped_cleanly_is_503_at_once(client):
    now = timezone.now()
    SchedulerState.objects.create(pk=SchedulerState.SINGLETON_ID, host="sched-a", pid=9,
                                  heartbeat_at=now, stopped_at=now)
    response = client.get(SCHEDULER)
    assert response.status_code == 503 and response.json()["stopped"] is True


@pytest.mark.django_db
def test_probes_are_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(LIVE).status_code == 200
    assert client.get(READY).status_code == 200
    assert client.get("/api/v2/jobs").status_code == 301


@pytest.mark.django_db
def test_the_api_root_is_an_index_of_links(client, settings):
    settings.ALLOWED_HOSTS = ["cronhub.example.com"]
    response = client.get("/api/v2/", HTTP_HOST="cronhub.example.com")
    assert response.status_code == 200
    links = response.json()["links"]
    assert links["docs"] == "http://cronhub.example.com/docs"
    assert links["readiness"] == "http://cronhub.example.com/api/v2/health/ready"
    for url in links.values():  # every link leads somewhere real
        path = url.removeprefix("http://cronhub.example.com")
        assert client.get(path, HTTP_HOST="cronhub.example.com").status_code != 404, path


NO_SHIFT = support.Clock.__new__(support.Clock)  # the scheduler on the real clock: heartbeat ages are real
NO_SHIFT.offset = 0.0


@pytest.mark.slow
@pytest.mark.dbcompat
@pytest.mark.django_db(transaction=True)
def test_the_scheduler_check_follows_a_real_leader(db_shared, start_scheduler, tmp_path):
    server = Server(db_shared.url, debug=False, log_path=tmp_path / "gunicorn.log")
    try:
        before = requests.get(server.url + SCHEDULER, timeout=10)
        assert before.status_code == 503 and before.json()["leader_host"] is None

        scheduler = start_scheduler(clock=NO_SHIFT)
        healthy = support.wait_until(
            lambda: (r := requests.get(server.url + SCHEDULER, timeout=10)).status_code == 200 and r,
            timeout=60, message="the scheduler check to turn healthy")
        body = healthy.json()
        assert body["leader_host"] == socket.gethostname() and body["leader_pid"] == scheduler.pid
        assert 0 <= body["heartbeat_age_seconds"] <= body["max_age_seconds"]

        assert scheduler.terminate() == 0
        after = requests.get(server.url + SCHEDULER, timeout=10)
        assert after.status_code == 503
        assert after.json()["stopped"] is True and after.json()["leader_host"] == socket.gethostname()
    finally:
        print(server.stop())


@pytest.mark.slow
@pytest.mark.dbcompat
@pytest.mark.django_db(transaction=True)
def test_database_down_readiness_and_scheduler_check_503_liveness_200(db_shared, outage, serve):  # noqa: F811
    base = serve(debug=False).url
    assert requests.get(base + READY, timeout=10).status_code == 200

    outage.begin()
    try:
        live = requests.get(base + LIVE, timeout=10)
        ready = requests.get(base + READY, timeout=10)
        scheduler = requests.get(base + SCHEDULER, timeout=10)
    finally:
        outage.end()

    assert live.status_code == 200
    assert ready.status_code == 503 and ready.headers["Retry-After"] == "5"
    assert ready.json()["database"] == "unavailable" and ready.json()["status"] == "unavailable"
    assert scheduler.status_code == 503 and scheduler.json()["database"] == "unavailable"
    for response in (ready, scheduler):
        for secret in outage.secrets:
            assert secret not in response.text
    support.wait_until(lambda: requests.get(base + READY, timeout=10).status_code == 200,
                       timeout=20, message="readiness to recover")
