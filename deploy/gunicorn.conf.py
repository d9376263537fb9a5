"""gunicorn settings for the cronhub web app (deploy/cronhub-web.service).

Every value can be overridden from the environment (GUNICORN_*), so the unit
file and this config stay the same across hosts.

Keep-alive clients (the React app, scripts, a reverse proxy's upstream pool) reuse
connections, so the settings avoid closing one under a client:

- ``gthread`` workers hold keep-alive connections without tying up a thread while
  idle (the ``sync`` worker cannot keep connections alive at all);
- ``keepalive`` outlasts a reverse proxy's idle upstream timeout (nginx: 60 s), so
  the proxy, not gunicorn, closes an idle connection — a connection gunicorn closes
  while the proxy sends on it is a reset the client sees;
- worker recycling is off by default: a worker that restarts after ``max_requests``
  drops its open keep-alive connections, and requests already on their way on them
  fail with a connection reset (measured: 9 of ~20,000 requests at 8 clients). cronhub
  keeps no per-process caches that grow, so there is nothing to recycle for; set
  GUNICORN_MAX_REQUESTS to turn it on (a jitter spreads the restarts);
- on a graceful stop or restart (HUP), workers finish the requests in progress
  within ``graceful_timeout``.
"""

import multiprocessing
import os

worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Manual runs dispatch inside the request (OUTBOUND_TOTAL_TIMEOUT, 30 s by default), so leave room.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "45"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "500"))
# Connections a gthread worker holds open at once (idle keep-alive ones included).
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
backlog = int(os.environ.get("GUNICORN_BACKLOG", "2048"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
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


# Imported here, in the arbiter, before any worker exits: imported inside the hook, several
# workers exiting at once raced on a partially initialised module.
from prometheus_client import multiprocess as _multiprocess  # noqa: E402


def child_exit(server, worker):
    """Web metrics in multiprocess mode (cronhub/metrics.py): forget a dead worker's gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        _multiprocess.mark_process_dead(worker.pid)
