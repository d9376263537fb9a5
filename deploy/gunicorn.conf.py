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

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
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
