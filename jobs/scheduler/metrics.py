"""Prometheus metrics of the scheduler process (text exposition on
``SCHEDULER_METRICS_ADDRESS`` (default 127.0.0.1):``SCHEDULER_METRICS_PORT`` when the port is above 0)."""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

log = logging.getLogger("cronhub.scheduler.metrics")

REGISTRY = CollectorRegistry(auto_describe=True)

DISPATCH_LATENESS = Histogram(
    "cronhub_dispatch_lateness_seconds",
    "Dispatch start minus the fire time it belongs to.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
    registry=REGISTRY,
)
EXECUTIONS = Counter(
    "cronhub_executions", "Scheduled executions by outcome.", ["status"], registry=REGISTRY,
)
MISSED_RUNS = Counter(
    "cronhub_missed_runs", "Fire times recorded as missed (never dispatched).", registry=REGISTRY,
)
RECOVERED_RUNS = Counter(
    "cronhub_recovered_runs", "Runs left running by a stopped process and taken over, by what was done "
    "(sent, re-sent, missed, unknown, failed, not-ours).", ["action"], registry=REGISTRY,
)
GITHUB_RUN_LOOKUPS = Counter(
    "cronhub_github_run_lookups", "Lookups of followed GitHub workflow runs, by what came of them "
    "(unchanged = 304, updated, concluded, located, searching, problem, failed, unknown, not-due, "
    "rate-limited).",
    ["outcome"], registry=REGISTRY,
)
DEFERRED_RUNS = Counter(
    "cronhub_deferred_runs", "Runs left waiting to be sent later, by why (retry, rate_limit, previous_run).",
    ["reason"], registry=REGISTRY,
)
RATE_LIMIT_WAIT = Histogram(
    "cronhub_rate_limit_wait_seconds",
    "Lateness GitHub's rate limits added to a dispatch: from its first wait to the moment it went out.",
    buckets=(1, 5, 10, 30, 60, 120, 300, 600, 900, 1800),
    registry=REGISTRY,
)
LEADER = Gauge("cronhub_scheduler_leader", "1 while this process holds the leader lock.", registry=REGISTRY)
SCHEDULED_JOBS = Gauge("cronhub_scheduled_jobs", "Job entries in the engine.", registry=REGISTRY)
DISPATCH_PROCESSES = Gauge(
    "cronhub_dispatch_processes", "Dispatch processes ready to take a share of a burst.",
    registry=REGISTRY,
)
DISPATCH_PROCESS_EXITS = Counter(
    "cronhub_dispatch_process_exits", "Dispatch processes that exited while the leader still used them.",
    registry=REGISTRY,
)
RECONCILE_DURATION = Histogram(
    "cronhub_reconcile_duration_seconds", "Duration of a full reconciliation pass.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10), registry=REGISTRY,
)


def serve(port: int, addr: str = "127.0.0.1"):
    """Start the exposition server in a daemon thread; returns the server (``server_port``)."""
    server, _thread = start_http_server(port, addr=addr, registry=REGISTRY)
    log.info("metrics on http://%s:%d/metrics", addr, server.server_port)
    return server
