"""gunicorn settings for the cronhub web app (deploy/cronhub-web.service).

Every value can be overridden from the environment (GUNICORN_*), so the unit
file and this config stay the same across hosts.
"""

import multiprocessing
import os

workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# Manual runs dispatch inside the request (OUTBOUND_TOTAL_TIMEOUT, 30 s by default), so leave room.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# --- Listening address, logs and metrics (from the web app's own settings, .env included) ---
# HOST/PORT as the web app reads them (process environment, else the project's .env), so the
# unit, scripts/dev.sh and this file agree; GUNICORN_BIND still wins when set.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cronhub.settings")
from django.conf import settings as _cronhub  # noqa: E402 - after the settings module is named

_host = _cronhub.HOST
bind = os.environ.get("GUNICORN_BIND") or f"{f'[{_host}]' if ':' in _host else _host}:{_cronhub.PORT}"

if _cronhub.LOG_FORMAT == "json":  # gunicorn's own lines (start-up, access log) as JSON too
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "cronhub.logs.JsonFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json",
                                 "stream": "ext://sys.stderr"}},
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": loglevel.upper(), "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }


def child_exit(server, worker):
    """Web metrics in multiprocess mode (cronhub/metrics.py): forget a dead worker's gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
