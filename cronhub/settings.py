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
APP_NAME = env.str("APP_NAME", "Cron Job Scheduler API")
APP_VERSION = env.str("APP_VERSION", "2.0.0")
# The port the API is published on; only reported (health ``docs_url``). FASTAPI_PORT wins.
PORT = env.int("FASTAPI_PORT", 5001, minimum=1, maximum=65535, aliases=("PORT",))
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
    "django.contrib.admin",
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
    "accounts",
    "taxonomy",
    "jobs",
    "notifications",
    "integrations",
]

MIDDLEWARE = [
    "cronhub.api.cors.CorsMiddleware",
    # Inside CORS, so a 503 for an unreachable database still carries the CORS headers.
    "cronhub.api.middleware.DatabaseUnavailableMiddleware",
    "cronhub.api.middleware.ApiTrailingSlashRedirectMiddleware",
    "cronhub.api.middleware.ApiMethodNotAllowedMiddleware",
    "cronhub.api.middleware.ApiInputGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
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
_fastapi_url = env.str("FASTAPI_DATABASE_URL", "")
if _fastapi_url and _fastapi_url != DATABASE_URL:
    log.warning("FASTAPI_DATABASE_URL differs from DATABASE_URL; cronhub uses DATABASE_URL only")
SQL_ECHO = env.bool("SQL_ECHO", False)
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
LANGUAGE_CODE = "en-us"

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
SCHEDULER_HEARTBEAT_SECONDS = env.int("SCHEDULER_HEARTBEAT_SECONDS", 5, minimum=1, maximum=60)
SCHEDULER_METRICS_PORT = env.int("SCHEDULER_METRICS_PORT", 0, minimum=0, maximum=65535)
SCHEDULER_REMINDER_CRON = env.str("SCHEDULER_REMINDER_CRON", "0 9 * * 1")
EXECUTION_RETENTION_DAYS = env.int("EXECUTION_RETENTION_DAYS", 180, minimum=1)
APSCHEDULER_DATETIME_FORMAT = "Y-m-d H:i:s"
APSCHEDULER_RUN_NOW_TIMEOUT = 25

# --- Outbound integrations --------------------------------------------------------
GITHUB_TOKEN = env.str("GITHUB_TOKEN", "")
GITHUB_API_URL = env.str("GITHUB_API_URL", "https://api.github.com").rstrip("/")
DEFAULT_GITHUB_OWNER = env.str("DEFAULT_GITHUB_OWNER", "Pay-Baymax")
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

# --- Static files -------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", "") or str(BASE_DIR / "var" / "static")

# --- Logging ----------------------------------------------------------------------------
LOG_LEVEL = env.choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "DEBUG" if SQL_ECHO else "WARNING"},
        "apscheduler": {"level": "WARNING"},
    },
}

if not DEBUG and not TESTING:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", False)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", False)
