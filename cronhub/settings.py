"""Django settings for cronhub, read from the environment (see .env.example).

A `.env` file in the project directory is loaded into the environment once at
start-up, so every variable behaves the same whether it comes from the file or
the process environment (none is read from the raw environment only). A bad
value stops start-up with a message naming the variable.
"""

from __future__ import annotations

import logging
import os
import re
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from cronhub.env import Settings

BASE_DIR = Path(__file__).resolve().parent.parent

if os.environ.get("CRONHUB_READ_DOT_ENV", "true").lower() not in ("0", "false", "no", "off"):
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

env = Settings()
log = logging.getLogger("cronhub.settings")

# --- Core -------------------------------------------------------------------
APP_NAME = env.str("APP_NAME", "cronhub API")
APP_VERSION = env.str("APP_VERSION", "2.0.0")
# Where the web app listens (scripts/dev.sh, deploy/gunicorn.conf.py read the same variables).
HOST = env.str("HOST", "127.0.0.1")
PORT = env.int("PORT", 8000, minimum=1, maximum=65535)
# The public address of the web app, e.g. https://cronhub.example.com: links in API bodies
# (health ``docs_url``, the API index). Empty: taken from each request (Host header).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", "").rstrip("/")
DEBUG = env.bool("DEBUG", False)
TESTING = env.bool("TESTING", False)

_DEV_SECRET_KEY = "dev-secret-key-please-change-in-production"
SECRET_KEY = env.str("SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "SECRET_KEY: required when DEBUG is off (set SECRET_KEY or SECRET_KEY_FILE)"
        )
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", "*" if (DEBUG or TESTING) else "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    # Django's admin with cronhub's site: every role signs in, internals under "System".
    "cronhub.admin_config.CronhubAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_apscheduler",
    # The audit trail of jobs, teams, categories and Slack settings (cronhub/audit.py)
    "simple_history",
    "accounts",
    "taxonomy",
    "jobs",
    "notifications",
    "integrations",
]

MIDDLEWARE = [
    # Web metrics (cronhub/metrics.py): outermost, so every answer is counted and timed.
    "cronhub.metrics.RequestMetricsMiddleware",
    "cronhub.api.cors.CorsMiddleware",
    # Inside CORS, so a 503 for an unreachable database still carries the CORS headers.
    "cronhub.api.middleware.DatabaseUnavailableMiddleware",
    "cronhub.api.middleware.ApiTrailingSlashRedirectMiddleware",
    "cronhub.api.middleware.ApiMethodNotAllowedMiddleware",
    "cronhub.api.middleware.ApiInputGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (admin, API docs) straight from gunicorn: hashed names, gzip, far-future caching.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's Accept-Language; accounts.middleware then applies the user's own
    # preference (language and zone) and keeps the API in English.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After authentication: changes made through the API and the admin name their author.
    "cronhub.audit.AuditMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cronhub.urls"
WSGI_APPLICATION = "cronhub.wsgi.application"
ASGI_APPLICATION = "cronhub.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
_DEFAULT_SQLITE = BASE_DIR / "instance" / "cron_jobs.db"


_SUPPORTED_ENGINES = {
    "django.db.backends.sqlite3",
    "django.db.backends.postgresql",
    "django.db.backends.mysql",
}


def _database_config(url: str) -> dict:
    """Map the contract's SQLAlchemy-style URLs onto Django's, then parse."""
    for prefix, replacement in (
        ("mysql+pymysql://", "mysql://"),
        ("mysql+mysqldb://", "mysql://"),
        ("mariadb+pymysql://", "mysql://"),
        ("mariadb://", "mysql://"),
        ("postgresql+psycopg://", "postgres://"),
        ("postgresql+psycopg2://", "postgres://"),
        ("postgresql://", "postgres://"),
    ):
        if url.startswith(prefix):
            url = replacement + url[len(prefix):]
            break
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types for bad URLs
        raise ImproperlyConfigured(f"DATABASE_URL: cannot parse {url!r}: {exc}") from exc
    if config.get("ENGINE") not in _SUPPORTED_ENGINES:
        raise ImproperlyConfigured(f"DATABASE_URL: unsupported database scheme in {url!r}")
    engine = config["ENGINE"]
    if engine.endswith("sqlite3"):
        name = config.get("NAME") or str(_DEFAULT_SQLITE)
        if name != ":memory:":
            Path(name).parent.mkdir(parents=True, exist_ok=True)
        config["NAME"] = name
        if name != ":memory:":
            # Tests use a file too: an in-memory database shared between threads
            # locks whole tables and ignores the busy timeout, which concurrency
            # tests (several threads claiming one fire time) must not hit.
            test_name = Path(name).with_name(f"test_{Path(name).name}")
            config.setdefault("TEST", {}).setdefault("NAME", str(test_name))
        # Several processes (web workers, scheduler) share one file: wait for
        # locks instead of failing with "database is locked".
        config.setdefault("OPTIONS", {}).setdefault("timeout", 20)
        config["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
        config["OPTIONS"].setdefault(
            "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        )
    elif "mysql" in engine:
        config.setdefault("OPTIONS", {}).setdefault("charset", "utf8mb4")
        config["OPTIONS"].setdefault("init_command", "SET sql_mode='STRICT_TRANS_TABLES'")
    config.setdefault("CONN_HEALTH_CHECKS", True)
    config.setdefault("TEST", {})
    test_name = os.environ.get("TEST_DATABASE_NAME")
    if test_name:
        config["TEST"]["NAME"] = test_name
    return config


DATABASE_URL = env.str("DATABASE_URL", f"sqlite:///{_DEFAULT_SQLITE}")
DATABASES = {"default": _database_config(DATABASE_URL)}
SQL_ECHO = env.bool("SQL_ECHO", False)
# Partial indexes (``Index(condition=...)``) are an optimisation on SQLite and PostgreSQL;
# MariaDB builds them as full indexes, which work the same (models.W037 says so at every start).
SILENCED_SYSTEM_CHECKS = ["models.W037"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ---------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
if TESTING:  # hashing cost is not what the tests measure
    PASSWORD_HASHERS.insert(0, "django.contrib.auth.hashers.MD5PasswordHasher")
AUTH_PASSWORD_VALIDATORS = []  # the API's own rule (>= 6 characters) applies

ALLOW_DEFAULT_ADMIN = env.bool("ALLOW_DEFAULT_ADMIN", DEBUG)
DEFAULT_ADMIN_USERNAME = env.str("DEFAULT_ADMIN_USERNAME", "admin")
DEFAULT_ADMIN_PASSWORD = env.str("DEFAULT_ADMIN_PASSWORD", "admin123")
DEFAULT_ADMIN_EMAIL = env.str("DEFAULT_ADMIN_EMAIL", "admin@example.com")
ADMIN_USERNAME = env.str("ADMIN_USERNAME", "admin")
ADMIN_PASSWORD = env.str("ADMIN_PASSWORD", "admin123")
ADMIN_EMAIL = env.str("ADMIN_EMAIL", "admin@example.com")

JWT_SECRET_KEY = env.str("JWT_SECRET_KEY", "") or SECRET_KEY
JWT_ALGORITHM = env.choice("JWT_ALGORITHM", "hs256", ("hs256", "hs384", "hs512")).upper()
JWT_ACCESS_TOKEN_EXPIRES = env.int("JWT_ACCESS_TOKEN_EXPIRES", 3600, minimum=1)
JWT_REFRESH_TOKEN_EXPIRES = env.int("JWT_REFRESH_TOKEN_EXPIRES", 2592000, minimum=1)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=JWT_ACCESS_TOKEN_EXPIRES),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=JWT_REFRESH_TOKEN_EXPIRES),
    "ALGORITHM": JWT_ALGORITHM,
    "SIGNING_KEY": JWT_SECRET_KEY,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "sub",
    "TOKEN_TYPE_CLAIM": "type",
    "JTI_CLAIM": "jti",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.BearerTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "cronhub.api.bodies.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "cronhub.api.errors.exception_handler",
    # A plain OPTIONS is 405 like any other unsupported method; CORS preflights are
    # answered by the CORS middleware before any view.
    "DEFAULT_METADATA_CLASS": None,
}
# Login throttle (accounts/throttling.py): attempts per (account, client address) and per
# client address, counted in the database; the client address from a trusted proxy header.
LOGIN_THROTTLE_ENABLED = env.bool("LOGIN_THROTTLE_ENABLED", not TESTING)
_RATE = r"\d+\s*/\s*(s|sec|second|m|min|minute|h|hour|d|day)"
LOGIN_THROTTLE_RATE = env.str("LOGIN_THROTTLE_RATE", "10/min")
# Empty: the same as LOGIN_THROTTLE_RATE.
LOGIN_THROTTLE_ADDRESS_RATE = env.str("LOGIN_THROTTLE_ADDRESS_RATE", "")
for _name, _rate in (("LOGIN_THROTTLE_RATE", LOGIN_THROTTLE_RATE),
                     ("LOGIN_THROTTLE_ADDRESS_RATE", LOGIN_THROTTLE_ADDRESS_RATE or LOGIN_THROTTLE_RATE)):
    if not re.fullmatch(_RATE, _rate, re.I) or int(_rate.split("/")[0]) < 1:
        raise ImproperlyConfigured(f"{_name}: expected N/s, N/min, N/hour or N/day, got {_rate!r}")
TRUSTED_PROXY_HEADER = env.str("TRUSTED_PROXY_HEADER", "")
if TRUSTED_PROXY_HEADER and not re.fullmatch(r"[A-Za-z0-9-]+", TRUSTED_PROXY_HEADER):
    raise ImproperlyConfigured(
        f"TRUSTED_PROXY_HEADER: expected a header name such as X-Forwarded-For, got {TRUSTED_PROXY_HEADER!r}"
    )
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", 1, minimum=1, maximum=20)

SPECTACULAR_SETTINGS = {
    "TITLE": APP_NAME,
    "VERSION": APP_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "DESCRIPTION": "REST API of cronhub (`/api/v2`): authentication, users, jobs, executions, "
                   "notifications, categories, PIC teams, Slack settings and scheduler operations.",
    # The documents and their UI are public and ignore any Authorization header.
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI and ReDoc assets come from the drf-spectacular-sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"RoleEnum": "accounts.models.Role"},
}

# --- CORS (browser clients on other origins) -----------------------------------
CORS_ORIGINS = env.list("CORS_ORIGINS", "*")
CORS_ALLOW_ALL_ORIGINS = "*" in CORS_ORIGINS
CORS_ALLOWED_ORIGINS = [] if CORS_ALLOW_ALL_ORIGINS else CORS_ORIGINS
# An explicit origin list echoes the origin with credentials; "*" never does.
CORS_ALLOW_CREDENTIALS = not CORS_ALLOW_ALL_ORIGINS
# The API and its public documents (not the admin site, which relies on cookies).
CORS_URLS_REGEX = r"^/(api/.*|docs|redoc)?$"
CORS_PREFLIGHT_MAX_AGE = 600
CORS_ALLOW_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
EXPOSE_ERROR_DETAILS = env.bool("EXPOSE_ERROR_DETAILS", DEBUG)

# --- Cache ---------------------------------------------------------------------
# Django's cache. Nothing of cronhub's own depends on it (the login throttle counts in
# the database); a file cache by default so every web process on a host shares it,
# rediscache://host:6379/1 (needs the `redis` package) across hosts.
_cache_default = "locmemcache://" if TESTING else f"filecache://{BASE_DIR / 'var' / 'cache'}"
CACHE_URL = env.str("CACHE_URL", "") or _cache_default
try:
    CACHES = {"default": environ.Env.cache_url_config(CACHE_URL)}
except Exception as exc:  # django-environ raises several types for bad URLs
    raise ImproperlyConfigured(f"CACHE_URL: cannot parse {CACHE_URL!r}: {exc}") from exc

# --- Time -----------------------------------------------------------------------
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ja", "日本語")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date-time spelling in every page (cronhub/clock.py), whatever the language.
FORMAT_MODULE_PATH = ["cronhub.formats"]
# The language of e-mails and Slack messages (they go to lists and channels, not to one
# person's request); in-app notifications and the API's texts are always English.
CRONHUB_NOTIFICATION_LANGUAGE = env.choice("CRONHUB_NOTIFICATION_LANGUAGE", "en", ("en", "ja"))

# --- Scheduler --------------------------------------------------------------------
SCHEDULER_ENABLED = env.bool("SCHEDULER_ENABLED", True)
SCHEDULER_TIMEZONE = env.timezone("SCHEDULER_TIMEZONE", "Asia/Tokyo")
SCHEDULER_LOCK_BACKEND = env.choice("SCHEDULER_LOCK_BACKEND", "file", ("file", "database"))
if DATABASES["default"]["ENGINE"].endswith("sqlite3") and SCHEDULER_LOCK_BACKEND == "database":
    raise ImproperlyConfigured(
        "SCHEDULER_LOCK_BACKEND: 'database' needs PostgreSQL or MySQL/MariaDB; use 'file' with SQLite"
    )
_lock_default = (
    Path(DATABASES["default"]["NAME"]).with_name("scheduler.lock")
    if DATABASES["default"]["ENGINE"].endswith("sqlite3") and DATABASES["default"]["NAME"] != ":memory:"
    else Path.cwd() / "scheduler.lock"
)
SCHEDULER_LOCK_PATH = env.str("SCHEDULER_LOCK_PATH", "") or str(_lock_default)
SCHEDULER_POLL_SECONDS = env.int("SCHEDULER_POLL_SECONDS", 60, minimum=10, maximum=300, clamp=True)
SCHEDULER_MISFIRE_GRACE_SECONDS = env.int("SCHEDULER_MISFIRE_GRACE_SECONDS", 300, minimum=0)
SCHEDULER_SHUTDOWN_GRACE_SECONDS = env.int("SCHEDULER_SHUTDOWN_GRACE_SECONDS", 30, minimum=0)
SCHEDULER_MAX_WORKERS = env.int("SCHEDULER_MAX_WORKERS", 10, minimum=1, maximum=500)
# Webhook fires go through the burst pipeline (batched claims, concurrent calls, batched records).
SCHEDULER_BURST_PIPELINE = env.bool("SCHEDULER_BURST_PIPELINE", True)
# Extra processes the leader shares a burst's webhook fires with, one more core each
# (jobs/scheduler/workers.py); 0 = the leader sends them all itself.
SCHEDULER_DISPATCH_PROCESSES = env.int("SCHEDULER_DISPATCH_PROCESSES", 0, minimum=0, maximum=32)
SCHEDULER_HEARTBEAT_SECONDS = env.int("SCHEDULER_HEARTBEAT_SECONDS", 5, minimum=1, maximum=60)
SCHEDULER_METRICS_PORT = env.int("SCHEDULER_METRICS_PORT", 0, minimum=0, maximum=65535)
SCHEDULER_REMINDER_CRON = env.str("SCHEDULER_REMINDER_CRON", "0 9 * * 1")
EXECUTION_RETENTION_DAYS = env.int("EXECUTION_RETENTION_DAYS", 180, minimum=1)
APSCHEDULER_DATETIME_FORMAT = "Y-m-d H:i:s"
APSCHEDULER_RUN_NOW_TIMEOUT = 25

# --- Outbound integrations --------------------------------------------------------
GITHUB_TOKEN = env.str("GITHUB_TOKEN", "")
GITHUB_API_URL = env.str("GITHUB_API_URL", "https://api.github.com").rstrip("/")
# GitHub's secondary rate limit on content-creating requests (workflow dispatches) per
# minute; the upcoming-runs calendar flags minutes that would exceed it.
GITHUB_SECONDARY_LIMIT_PER_MINUTE = env.int("GITHUB_SECONDARY_LIMIT_PER_MINUTE", 80, minimum=1)
DEFAULT_GITHUB_OWNER = env.str("DEFAULT_GITHUB_OWNER", "")
# Following dispatched workflow runs to their conclusion (docs/execution.md, "Following GitHub runs").
GITHUB_FOLLOW_RUNS = env.bool("GITHUB_FOLLOW_RUNS", True)
GITHUB_FOLLOW_MIN_SECONDS = env.int("GITHUB_FOLLOW_MIN_SECONDS", 10, minimum=1, maximum=3600)
GITHUB_FOLLOW_MAX_SECONDS = env.int("GITHUB_FOLLOW_MAX_SECONDS", 180, minimum=1, maximum=3600)
GITHUB_FOLLOW_LIMIT_SECONDS = env.int("GITHUB_FOLLOW_LIMIT_SECONDS", 6 * 3600, minimum=1)
GITHUB_FOLLOW_LOCATE_SECONDS = env.int("GITHUB_FOLLOW_LOCATE_SECONDS", 120, minimum=0, maximum=3600)
# The secret of GitHub's workflow_run webhook (POST /api/v2/github/webhook); unset: deliveries refused.
GITHUB_WEBHOOK_SECRET = env.str("GITHUB_WEBHOOK_SECRET", "")
FRONTEND_BASE_URL = env.str("FRONTEND_BASE_URL", "http://localhost:5173").rstrip("/")
WEBHOOK_BLOCK_PRIVATE = env.bool("WEBHOOK_BLOCK_PRIVATE", False)
OUTBOUND_CONNECT_TIMEOUT = env.int("OUTBOUND_CONNECT_TIMEOUT", 10, minimum=1, maximum=300)
OUTBOUND_READ_TIMEOUT = env.int("OUTBOUND_READ_TIMEOUT", 30, minimum=1, maximum=3600)
# One outbound call in all: connect, TLS, sending, every read and every redirect.
OUTBOUND_TOTAL_TIMEOUT = env.int("OUTBOUND_TOTAL_TIMEOUT", 30, minimum=1, maximum=3600)
OUTBOUND_USER_AGENT = f"cronhub/{APP_VERSION}"
# Retries (docs/execution.md, "Retries"): the longest wait between two attempts of a run.
RETRY_BACKOFF_MAX_SECONDS = env.int("RETRY_BACKOFF_MAX_SECONDS", 600, minimum=1, maximum=86400)
# GitHub's secondary rate limit per token (content-creating requests), by default and per API host
# ("ghe.example.com=40/300,api.github.com=80/500": per minute / per hour).
GITHUB_SECONDARY_PER_MINUTE = env.int("GITHUB_SECONDARY_PER_MINUTE", 80, minimum=1, maximum=10000)
GITHUB_SECONDARY_PER_HOUR = env.int("GITHUB_SECONDARY_PER_HOUR", 500, minimum=1, maximum=100000)


def _rate_limits(text: str) -> dict[str, tuple[int, int]]:
    limits = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            host, numbers = item.split("=", 1)
            per_minute, per_hour = (int(n) for n in numbers.split("/", 1))
            if per_minute < 1 or per_hour < 1:
                raise ValueError
        except ValueError:
            raise ImproperlyConfigured(
                f"GITHUB_RATE_LIMITS: expected host=per_minute/per_hour[,...]; got {item!r}") from None
        limits[host.strip().lower()] = (per_minute, per_hour)
    return limits


GITHUB_RATE_LIMITS = _rate_limits(env.str("GITHUB_RATE_LIMITS", ""))
# The windows of those two limits, in seconds (the tests shorten them).
GITHUB_RATE_WINDOWS = (60.0, 3600.0)
# A dispatch that could not go out within this because of rate limits is failed, with that reason.
GITHUB_RATE_LIMIT_MAX_WAIT_SECONDS = env.int("GITHUB_RATE_LIMIT_MAX_WAIT_SECONDS", 900, minimum=0)
BULK_UPLOAD_MAX_BYTES = env.int("BULK_UPLOAD_MAX_BYTES", 2 * 1024 * 1024, minimum=1)
# Also the largest API request body (413 above it); the CSV upload has its own limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(BULK_UPLOAD_MAX_BYTES * 2, 2_621_440)

# --- E-mail (MAIL_* / SMTP_* mapped onto Django's EMAIL_*) --------------------------
MAIL_ENABLED = env.bool("MAIL_ENABLED", True)
EMAIL_HOST = env.str("SMTP_HOST", "", aliases=("MAIL_SERVER",))
EMAIL_PORT = env.int("SMTP_PORT", 587, minimum=1, maximum=65535, aliases=("MAIL_PORT",))
EMAIL_USE_TLS = env.bool("SMTP_USE_TLS", True, aliases=("MAIL_USE_TLS",))
EMAIL_HOST_USER = env.str("SMTP_USERNAME", "", aliases=("MAIL_USERNAME",))
EMAIL_HOST_PASSWORD = env.str("SMTP_PASSWORD", "", aliases=("MAIL_PASSWORD",))
EMAIL_TIMEOUT = env.int("SMTP_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = (
    env.str("MAIL_FROM", "", aliases=("MAIL_DEFAULT_SENDER",)) or EMAIL_HOST_USER or "cronhub@localhost"
)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
if TESTING:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# --- Production: static files, HTTPS, health, metrics, logs --------------------------
# Static files: `manage.py collectstatic` copies them to STATIC_ROOT (hashed and compressed)
# and whitenoise serves them from every web process, with or without a proxy in front.
STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", "") or str(BASE_DIR / "var" / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Tests render pages without a collectstatic run: plain names there.
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if TESTING
                    else "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Development and tests look files up on each request (no collectstatic run needed there).
WHITENOISE_AUTOREFRESH = DEBUG or TESTING

# HTTPS. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto (the
# proxy must set it on every request); "Header: value" names another value than "https".
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", False)
# Monitors and load balancers probe over plain HTTP on the private side: never redirected.
SECURE_REDIRECT_EXEMPT = [r"^api/v2/health(/live|/ready|/scheduler)?$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", False)
_proxy_ssl = env.str("SECURE_PROXY_SSL_HEADER", "")
if _proxy_ssl:
    _header, _, _value = _proxy_ssl.partition(":")
    if not re.fullmatch(r"[A-Za-z0-9-]+", _header.strip()):
        raise ImproperlyConfigured(
            f"SECURE_PROXY_SSL_HEADER: expected a header name such as X-Forwarded-Proto, got {_proxy_ssl!r}")
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _header.strip().upper().replace("-", "_"), _value.strip() or "https")
# Cookies over HTTPS only, unless DEBUG (or the test suite, which talks plain HTTP).
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", not (DEBUG or TESTING))
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", not (DEBUG or TESTING))

# In-app notifications older than this are deleted by the scheduler's daily maintenance.
NOTIFICATION_RETENTION_DAYS = env.int("NOTIFICATION_RETENTION_DAYS", 90, minimum=1)

# Health: /api/v2/health/scheduler is 503 when the leader's heartbeat is older than this.
SCHEDULER_HEALTH_MAX_AGE_SECONDS = env.int(
    "SCHEDULER_HEALTH_MAX_AGE_SECONDS", max(15, SCHEDULER_HEARTBEAT_SECONDS * 3), minimum=1)

# Web metrics (Prometheus text) at METRICS_PATH, answered only to `Authorization: Bearer
# METRICS_TOKEN`; without a token the path is 404. Several gunicorn workers: set
# PROMETHEUS_MULTIPROC_DIR for the web service (docs/deploy.md).
METRICS_PATH = env.str("METRICS_PATH", "/metrics")
if not METRICS_PATH.startswith("/") or METRICS_PATH.startswith(("/api/", "/admin/", "/static/")):
    raise ImproperlyConfigured(f"METRICS_PATH: expected a path such as /metrics, got {METRICS_PATH!r}")
METRICS_TOKEN = env.str("METRICS_TOKEN", "")
# The scheduler's exposition server (manage.py runscheduler); port 0 = off.
SCHEDULER_METRICS_ADDRESS = env.str("SCHEDULER_METRICS_ADDRESS", "127.0.0.1")

# Logs: one line per event, plain text or JSON (LOG_FORMAT=json), on stderr.
LOG_LEVEL = env.choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
LOG_FORMAT = env.choice("LOG_FORMAT", "plain", ("plain", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "cronhub.logs.ContextFilter"}},
    "formatters": {
        "plain": {"()": "cronhub.logs.PlainFormatter"},
        "json": {"()": "cronhub.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT,
                             "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's default configuration gives "django" its own console handler (with DEBUG on)
        # on top of the root's: every django.* line appeared twice. One handler, the root's.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.server": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.db.backends": {"level": "DEBUG" if SQL_ECHO else "WARNING"},
        "apscheduler": {"level": "WARNING"},
    },
}
