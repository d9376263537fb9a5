"""Start-up refuses bad configuration with a message naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from cronhub.env import Settings
from cronhub.settings import _database_config

REPO = Path(__file__).resolve().parents[2]


def start_django(**overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCHEDULER_", "DATABASE_URL"))}
    env.update({"TESTING": "false", "DEBUG": "true", "CRONHUB_READ_DOT_ENV": "false",
                "DATABASE_URL": "sqlite://:memory:"})
    env.update(overrides)
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-c", "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='cronhub.settings'; "
                               "django.setup(); print('started')"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SCHEDULER_POLL_SECONDS", "abc"),
        ("SCHEDULER_LOCK_BACKEND", "zookeeper"),
        ("SCHEDULER_TIMEZONE", "Mars/Olympus_Mons"),
        ("SCHEDULER_MISFIRE_GRACE_SECONDS", "-5"),
        ("DEBUG", "maybe"),
        ("JWT_ACCESS_TOKEN_EXPIRES", "1h"),
        ("SMTP_PORT", "smtp"),
        ("OUTBOUND_TOTAL_TIMEOUT", "0"),
        ("OUTBOUND_TOTAL_TIMEOUT", "30s"),
        ("DATABASE_URL", "nosuchdb://x/y"),
        ("CACHE_URL", "nosuchcache://x"),
        ("LOGIN_THROTTLE_RATE", "ten/min"),
        ("LOGIN_THROTTLE_ADDRESS_RATE", "0/min"),
        ("TRUSTED_PROXY_HEADER", "X Forwarded: For"),
        ("TRUSTED_PROXY_COUNT", "0"),
    ],
)
def test_an_invalid_value_stops_start_up_naming_the_variable(variable, value):
    result = start_django(**{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr


def test_a_valid_configuration_starts():
    result = start_django(SCHEDULER_POLL_SECONDS="5", SCHEDULER_TIMEZONE="Europe/London")
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_production_requires_a_secret_key():
    result = start_django(DEBUG="false", SECRET_KEY=None)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_database_lock_backend_is_refused_on_sqlite():
    result = start_django(SCHEDULER_LOCK_BACKEND="database")
    assert result.returncode != 0
    assert "SCHEDULER_LOCK_BACKEND" in result.stderr


def test_production_defaults_are_safe_without_debug():
    code = ("from django.conf import settings as s; "
            "print(s.ALLOW_DEFAULT_ADMIN, s.EXPOSE_ERROR_DETAILS, s.SECRET_KEY == 'k' * 50)")
    env = {**os.environ, "TESTING": "false", "DEBUG": "false", "SECRET_KEY": "k" * 50,
           "CRONHUB_READ_DOT_ENV": "false", "DATABASE_URL": "sqlite://:memory:",
           "DJANGO_SETTINGS_MODULE": "cronhub.settings"}
    env.pop("ALLOW_DEFAULT_ADMIN", None)
    env.pop("EXPOSE_ERROR_DETAILS", None)
    result = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["False", "False", "True"], result.stderr


def test_poll_seconds_is_clamped_to_the_documented_range():
    assert Settings({"P": "3"}).int("P", 60, minimum=10, maximum=300, clamp=True) == 10
    assert Settings({"P": "9999"}).int("P", 60, minimum=10, maximum=300, clamp=True) == 300
    assert Settings({}).int("P", 60, minimum=10, maximum=300, clamp=True) == 60


def test_booleans_accept_the_usual_spellings_and_nothing_else():
    for word in ("1", "true", "YES", "on"):
        assert Settings({"B": word}).bool("B", False) is True
    for word in ("0", "False", "no", "off"):
        assert Settings({"B": word}).bool("B", True) is False
    with pytest.raises(ImproperlyConfigured, match="B: expected a boolean"):
        Settings({"B": "sometimes"}).bool("B", True)


def test_a_secret_can_come_from_a_file(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("ghp_from_file\n")
    assert Settings({"GITHUB_TOKEN_FILE": str(secret)}).str("GITHUB_TOKEN") == "ghp_from_file"


def test_an_unreadable_secret_file_names_the_variable(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="GITHUB_TOKEN_FILE"):
        Settings({"GITHUB_TOKEN_FILE": str(tmp_path / "missing")}).str("GITHUB_TOKEN")


def test_smtp_variables_win_over_mail_aliases():
    env = Settings({"MAIL_SERVER": "mail.example.com", "SMTP_HOST": "smtp.example.com"})
    assert env.str("SMTP_HOST", "", aliases=("MAIL_SERVER",)) == "smtp.example.com"
    assert Settings({"MAIL_SERVER": "mail.example.com"}).str("SMTP_HOST", "", aliases=("MAIL_SERVER",)) == (
        "mail.example.com"
    )


@pytest.mark.parametrize(
    ("url", "engine", "name"),
    [
        ("mysql+pymysql://u:p@db:3306/cron", "django.db.backends.mysql", "cron"),
        ("postgresql://u:p@db:5432/cron", "django.db.backends.postgresql", "cron"),
        ("postgres://u@db/cron", "django.db.backends.postgresql", "cron"),
    ],
)
def test_sqlalchemy_style_database_urls_are_understood(url, engine, name):
    config = _database_config(url)
    assert config["ENGINE"] == engine
    assert config["NAME"] == name


def test_outside_tests_the_cache_is_shared_by_the_web_processes_of_a_host():
    code = "from django.conf import settings as s; print(s.CACHES['default']['BACKEND'])"
    env = {**os.environ, "TESTING": "false", "DEBUG": "true", "CRONHUB_READ_DOT_ENV": "false",
           "DATABASE_URL": "sqlite://:memory:", "DJANGO_SETTINGS_MODULE": "cronhub.settings"}
    env.pop("CACHE_URL", None)
    shown = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code],
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert shown.stdout.strip() == "django.core.cache.backends.filebased.FileBasedCache", shown.stderr
