"""While the database cannot be reached, the web app answers 503 with Retry-After, never 500.

A real gunicorn process serves the app. The outage is real too: on SQLite the
database file is moved away (a directory takes its place, so it cannot be opened
or re-created); on PostgreSQL/MariaDB the app reaches the database through a TCP
proxy that is then cut (connections dropped, new ones refused). Neither the API's
bodies nor the admin's page may name the database, its file or its host, DEBUG on
or off.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from accounts.models import Role, User
from cronhub.testing.factories import TEST_PASSWORD
from cronhub.testing.servers import TcpProxy
from jobs.tests import scheduler_support as support

pytestmark = [pytest.mark.slow, pytest.mark.dbcompat, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
UNAVAILABLE = {"error": "Service unavailable", "message": "The database is unavailable; try again shortly."}
HEALTH_KEYS = {"status", "service", "version", "timestamp", "api", "scheduler_running",
               "scheduled_jobs_count", "docs_url", "database"}


class Outage:
    """Makes the shared database unreachable for the server and back; ``secrets`` must never show."""

    def __init__(self, db: support.SharedDatabase, tmp_path: Path):
        self.db = db
        self.proxy: TcpProxy | None = None
        if db.vendor == "sqlite":
            self.path = Path(urlsplit(db.url).path)
            self.away = tmp_path / "moved-away"
            self.server_url = db.url
            self.secrets = [str(self.path), self.path.name]
        else:
            parts = urlsplit(db.url)
            self.proxy = TcpProxy(parts.hostname, parts.port or (5432 if db.vendor == "postgresql" else 3306))
            self.proxy.start()
            netloc = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
            self.server_url = urlunsplit(parts._replace(netloc=f"{netloc}127.0.0.1:{self.proxy.port}"))
            self.secrets = ["127.0.0.1", str(self.proxy.port), parts.path.strip("/")]

    def begin(self) -> None:
        if self.proxy is not None:
            self.proxy.cut()
            return
        self.away.mkdir()
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{self.path}{suffix}")
            if source.exists():
                source.rename(self.away / f"{self.path.name}{suffix}")
        self.path.mkdir()  # a directory in its place: SQLite can neither open nor create the file

    def end(self) -> None:
        if self.proxy is not None:
            self.proxy.restore()
            return
        self.path.rmdir()
        for moved in self.away.iterdir():
            moved.rename(self.path.parent / moved.name)

    def close(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()


@pytest.fixture
def outage(db_shared, tmp_path):
    outage = Outage(db_shared, tmp_path)
    yield outage
    outage.close()


class Server:
    """``gunicorn cronhub.wsgi`` on 127.0.0.1:<free port>, one worker."""

    def __init__(self, database_url: str, *, debug: bool, log_path: Path):
        listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        self.log_path = log_path
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SCHEDULER_", "DATABASE_URL"))}
        env.pop("TEST_DATABASE_NAME", None)
        env.update({"DATABASE_URL": database_url, "TESTING": "true", "CRONHUB_READ_DOT_ENV": "false",
                    "DEBUG": str(debug).lower(), "EXPOSE_ERROR_DETAILS": str(debug).lower(),
                    "SECRET_KEY": "outage-test-" + "k" * 50, "PYTHONUNBUFFERED": "1"})
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "cronhub.wsgi", "--bind", f"fd://{listener.fileno()}",
             "--workers", "1", "--threads", "2", "--timeout", "60"],
            cwd=ROOT, env=env, pass_fds=[listener.fileno()], stdout=self._log, stderr=subprocess.STDOUT)
        listener.close()  # gunicorn has its own copy
        support.wait_until(self._up, timeout=60, message="gunicorn to answer")

    def _up(self) -> bool:
        try:
            requests.get(self.url + "/api/v2/nowhere", timeout=5)
            return True
        except requests.ConnectionError:
            return False

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(timeout=30)
        self._log.close()
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def serve(outage, tmp_path):
    started: list[Server] = []

    def start(*, debug: bool) -> Server:
        server = Server(outage.server_url, debug=debug, log_path=tmp_path / f"gunicorn-{len(started)}.log")
        started.append(server)
        return server

    yield start
    for server in started:
        print(f"----- gunicorn -----\n{server.stop()}")


def make_admin(db: support.SharedDatabase) -> None:
    user = User(username="outage_admin", email="outage@example.com", role=Role.ADMIN)
    user.set_password(TEST_PASSWORD)
    user.save(using=db.alias)


def admin_session(base: str) -> requests.Session:
    """A browser session logged in to the admin (the login form, CSRF token included)."""
    browser = requests.Session()
    browser.get(base + "/admin/login/", timeout=10).raise_for_status()
    response = browser.post(base + "/admin/login/?next=/admin/", timeout=10, allow_redirects=False, data={
        "username": "outage_admin", "password": TEST_PASSWORD, "next": "/admin/",
        "csrfmiddlewaretoken": browser.cookies["csrftoken"]})
    assert response.status_code == 302 and "sessionid" in browser.cookies, response.text[:500]
    return browser


def assert_names_nothing(text: str, outage: Outage) -> None:
    for secret in outage.secrets:
        assert secret not in text


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_an_unreachable_database_answers_503_with_retry_after_and_names_no_host(
        debug, db_shared, outage, serve):
    make_admin(db_shared)
    server = serve(debug=debug)
    base = server.url
    token = requests.post(base + "/api/v2/auth/login", timeout=10,
                          json={"username": "outage_admin", "password": TEST_PASSWORD}).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    browser = admin_session(base)
    healthy = requests.get(base + "/api/v2/health", timeout=10)
    assert healthy.status_code == 200 and healthy.json()["database"] == "available"

    outage.begin()
    try:
        health = requests.get(base + "/api/v2/health", timeout=10)
        jobs = requests.get(base + "/api/v2/jobs", headers=bearer, timeout=10)
        login = requests.post(base + "/api/v2/auth/login", timeout=10,
                              json={"username": "outage_admin", "password": TEST_PASSWORD})
        admin_page = browser.get(base + "/admin/", timeout=10)
    finally:
        outage.end()

    assert health.status_code == 503 and health.headers["Retry-After"] == "5"
    body = health.json()
    assert set(body) == HEALTH_KEYS
    assert body["database"] == "unavailable" and body["status"] == "unhealthy"
    assert body["scheduler_running"] is False
    for response in (jobs, login):
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert response.json() == UNAVAILABLE
    assert admin_page.status_code == 503 and admin_page.headers["Retry-After"] == "5"
    assert admin_page.headers["Content-Type"].startswith("text/html")
    assert "Service unavailable" in admin_page.text
    for response in (health, jobs, login, admin_page):
        # The health body's docs_url names the server the client called (base), not the database.
        assert_names_nothing(response.text.replace(base, ""), outage)

    # Back again: the same requests work without restarting anything.
    recovered = support.wait_until(
        lambda: (r := requests.get(base + "/api/v2/health", timeout=10)).status_code == 200 and r,
        timeout=20, message="health to recover")
    assert recovered.json()["database"] == "available"
    assert requests.get(base + "/api/v2/jobs", headers=bearer, timeout=10).status_code == 200
