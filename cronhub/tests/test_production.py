"""The documented production environment (deploy/cronhub.env.example, docs/deploy.md), for real.

``check --deploy`` reports nothing with it; gunicorn started as the systemd unit starts it
(``migrate``, ``collectstatic``, ``gunicorn --config deploy/gunicorn.conf.py``), DEBUG off,
serves the admin's stylesheets and the API documents' assets itself (whitenoise), redirects
plain HTTP to HTTPS except for the probes, answers the metrics only with their token, and
logs one JSON object per line. Development logs each line once.

The only departures from the documented file: secrets and the database in a temporary
folder (SQLite, so the file lock), a free port, one worker set, static files collected
into the temporary folder.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from jobs.tests import scheduler_support as support

ROOT = Path(__file__).resolve().parents[2]
HOST = "cronhub.example.com"
VIA_PROXY = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


def documented_environment() -> dict[str, str]:
    values = {}
    for line in (ROOT / "deploy" / "cronhub.env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


@pytest.fixture
def prod_env(tmp_path) -> dict[str, str]:
    documented = documented_environment()
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    contents = {"SECRET_KEY_FILE": secrets.token_urlsafe(50),
                "DATABASE_URL_FILE": f"sqlite:///{tmp_path / 'cronhub.sqlite3'}",
                "METRICS_TOKEN_FILE": "scrape-" + secrets.token_urlsafe(16),
                "GITHUB_TOKEN_FILE": "ghp_unused"}
    for key in [k for k in documented if k.endswith("_FILE")]:
        path = secrets_dir / key.lower()
        path.write_text(contents[key] + "\n")
        path.chmod(0o600)
        documented[key] = str(path)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1",
           "CRONHUB_READ_DOT_ENV": "false", **documented,
           "SCHEDULER_LOCK_BACKEND": "file", "SCHEDULER_LOCK_PATH": str(tmp_path / "scheduler.lock"),
           "STATIC_ROOT": str(tmp_path / "static"), "CACHE_URL": f"filecache://{tmp_path / 'cache'}"}
    env["_METRICS_TOKEN"] = contents["METRICS_TOKEN_FILE"]
    return env


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_check_deploy_with_the_documented_environment_reports_nothing(prod_env):
    result = manage(prod_env, "check", "--deploy", "--fail-level", "DEBUG")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_without_the_https_settings_check_deploy_complains(prod_env):
    """The check above can fail: drop the HTTPS lines and it names them."""
    for key in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"):
        prod_env.pop(key)
    prod_env["SESSION_COOKIE_SECURE"] = "false"
    result = manage(prod_env, "check", "--deploy", "--fail-level", "DEBUG")
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012"):
        assert warning in result.stderr + result.stdout


class Gunicorn:
    def __init__(self, env: dict, log_path: Path):
        with socket.create_server(("127.0.0.1", 0)) as probe:
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py",
             "cronhub.wsgi:application"],
            cwd=ROOT, env={**env, "PORT": str(port), "GUNICORN_WORKERS": "2", "GUNICORN_THREADS": "2"},
            stdout=self._log, stderr=subprocess.STDOUT)
        support.wait_until(self._up, timeout=60, message="gunicorn to answer")

    def _up(self) -> bool:
        assert self.process.poll() is None, self.log_path.read_text()
        try:
            requests.get(self.url + "/api/v2/health/live", timeout=5)
            return True
        except requests.ConnectionError:
            return False

    def get(self, path: str, **kwargs) -> requests.Response:
        headers = {**VIA_PROXY, **kwargs.pop("headers", {})}
        return requests.get(self.url + path, headers=headers, timeout=20, allow_redirects=False, **kwargs)

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(timeout=30)
        self._log.close()
        return self.log_path.read_text(errors="replace")


def assets(page: str) -> list[str]:
    return sorted(set(re.findall(r'(?:href|src)="(/static/[^"]+)"', page)))


@pytest.mark.slow
def test_gunicorn_serves_the_admin_and_the_api_documents_with_their_assets(prod_env, tmp_path):
    # The unit's ExecStartPre lines, then its ExecStart.
    for step in (("migrate", "--noinput"), ("collectstatic", "--noinput")):
        result = manage(prod_env, *step)
        assert result.returncode == 0, result.stdout + result.stderr
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {k: v for k, v in prod_env.items() if not k.startswith("_")}
    server = Gunicorn({**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}, tmp_path / "gunicorn.log")
    try:
        login = server.get("/admin/login/")
        assert login.status_code == 200
        assert login.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        stylesheets = [a for a in assets(login.text) if a.endswith(".css")]
        hashed = r"/static/admin/css/base\.[0-9a-f]{12}\.css"
        assert any(re.fullmatch(hashed, a) for a in stylesheets), stylesheets
        for asset in stylesheets:
            response = server.get(asset, headers={"Accept-Encoding": "gzip"})
            assert response.status_code == 200, asset
            assert response.headers["Content-Type"].startswith("text/css")
            assert "immutable" in response.headers["Cache-Control"]  # hashed name: cached for good
            assert response.headers.get("Content-Encoding") == "gzip"
            assert len(response.content) > 100

        for page_path, expected in (("/docs", "swagger-ui"), ("/redoc", "redoc")):
            page = server.get(page_path)
            assert page.status_code == 200, page_path
            found = assets(page.text)
            assert any(expected in asset for asset in found), (page_path, found)
            for asset in found:
                response = server.get(asset)
                assert response.status_code == 200, asset
                assert len(response.content) > 100, asset

        # Plain HTTP is sent to HTTPS, but probes answer where they are asked.
        plain = server.get("/admin/login/", headers={"X-Forwarded-Proto": "http"})
        assert plain.status_code == 301 and plain.headers["Location"] == f"https://{HOST}/admin/login/"
        for probe in ("/api/v2/health/live", "/api/v2/health/ready", "/api/v2/health"):
            assert server.get(probe, headers={"X-Forwarded-Proto": "http"}).status_code == 200, probe
        assert server.get("/api/v2/health").json()["docs_url"] == f"https://{HOST}/docs"

        # Metrics: only with the token; every worker's requests added up.
        assert server.get("/metrics").status_code == 401
        assert server.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        for _ in range(6):
            server.get("/api/v2/health/live")
        scrape = server.get("/metrics", headers={"Authorization": f"Bearer {prod_env['_METRICS_TOKEN']}"})
        assert scrape.status_code == 200
        count = re.search(r'cronhub_http_requests_total\{method="GET",route="api/v2/health/live",'
                          r'status="200"\} (\d+)', scrape.text)
        assert count and int(float(count.group(1))) >= 7, scrape.text[:3000]
        assert re.search(r'cronhub_http_request_duration_seconds_count\{method="GET",route="static"\} \d',
                         scrape.text)
        assert re.search(r'cronhub_http_requests_total\{method="GET",route="admin/login/",status="301"\}',
                         scrape.text)
    finally:
        log = server.stop()
    lines = [line for line in log.splitlines() if line.strip()]
    assert lines
    records = [json.loads(line) for line in lines]  # one JSON object per line, nothing else
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert any(r["logger"] == "gunicorn.access" and "/admin/login/" in r["message"] for r in records)


DEBUG_ENV = {"DEBUG": "true", "CRONHUB_READ_DOT_ENV": "false", "LOG_FORMAT": "plain"}


def test_development_logs_each_line_once(tmp_path):
    env = {**os.environ, **DEBUG_ENV, "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}"}
    env.pop("TESTING", None)
    code = ("import logging; logging.getLogger('django.request').warning('marker-request'); "
            "logging.getLogger('cronhub.scheduler').warning('marker-scheduler')")
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert output.count("marker-request") == 1, output
    assert output.count("marker-scheduler") == 1, output


def test_json_logs_carry_the_job_run_and_fire_time(tmp_path):
    env = {**os.environ, **DEBUG_ENV, "LOG_FORMAT": "json",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    code = ("import datetime as dt, logging; from cronhub.logs import log_context\n"
            "with log_context(job_id='j-1', fire_time=dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)):\n"
            "    logging.getLogger('cronhub.scheduler').info('dispatch\\nsecond line',\n"
            "                                                extra={'run_id': 'r-9'})\n"
            "logging.getLogger('cronhub.scheduler').warning('outside')")
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    inside, outside = records
    assert inside["message"] == "dispatch\nsecond line" and inside["level"] == "info"
    assert (inside["job_id"], inside["run_id"], inside["fire_time"]) == ("j-1", "r-9", "2026-03-02T01:00:00Z")
    assert "job_id" not in outside and outside["logger"] == "cronhub.scheduler"


@pytest.mark.django_db
def test_web_metrics_are_404_without_a_configured_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    settings.METRICS_TOKEN = "t0ken"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer t0ken").status_code == 200
    assert client.post("/metrics", HTTP_AUTHORIZATION="Bearer t0ken").status_code == 405


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_scheduler_metrics_bind_the_configured_address(start_scheduler):
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    clock = support.Clock.__new__(support.Clock)
    clock.offset = 0.0
    scheduler = start_scheduler(clock=clock, SCHEDULER_METRICS_PORT=port,
                                SCHEDULER_METRICS_ADDRESS="127.0.0.2")

    def scraped():
        assert scheduler.alive(), scheduler.log()
        try:
            return requests.get(f"http://127.0.0.2:{port}/metrics", timeout=5)
        except requests.ConnectionError:
            return None

    response = support.wait_until(scraped, timeout=60, message="the scheduler's metrics")
    assert response.status_code == 200 and "cronhub_scheduler_leader" in response.text
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
