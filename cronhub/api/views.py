"""The public, app-independent routes: health (with liveness, readiness and the scheduler check),
the API index and the welcome document.

Links in bodies are absolute, built from ``PUBLIC_BASE_URL`` when set, else from the request
(its Host header, checked against ``ALLOWED_HOSTS``, and scheme), never from a fixed host.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from cronhub.api.base import PublicApiView
from cronhub.api.errors import DATABASE_RETRY_AFTER_SECONDS
from cronhub.api.fields import TimestampField
from cronhub.api.formats import iso_z_micro
from cronhub.api.shapes import render
from jobs.models import SchedulerState

log = logging.getLogger("cronhub.api")

SERVICE_NAME = "cronhub"


def base_url(request) -> str:
    """``https://host`` of links in bodies: the setting, else what the client called."""
    return settings.PUBLIC_BASE_URL or request.build_absolute_uri("/").rstrip("/")


class HealthSerializer(serializers.Serializer):
    status = serializers.CharField(help_text='"healthy"; "unhealthy" (with status code 503) when the '
                                             "database cannot be reached")
    service = serializers.CharField()
    version = serializers.CharField()
    timestamp = TimestampField(iso_z_micro)
    api = serializers.CharField()
    scheduler_running = serializers.BooleanField(help_text="A scheduler leader's heartbeat is recent")
    scheduled_jobs_count = serializers.IntegerField(help_text="Jobs the leader schedules (0 if none runs)")
    docs_url = serializers.CharField()
    database = serializers.ChoiceField(
        choices=["available", "unavailable"],
        help_text="Whether the database answered; while it does not, scheduler_running is false")


class WelcomeSerializer(serializers.Serializer):
    message = serializers.CharField()
    docs = serializers.CharField()
    redoc = serializers.CharField()
    health = serializers.CharField()


class HealthView(PublicApiView):
    @extend_schema(tags=["health"], auth=[], responses={200: HealthSerializer, 503: HealthSerializer},
                   summary="Service health, whether the database answers and a scheduler leader is running")
    def get(self, request):
        # The web process never runs a scheduler: it reads the leader's heartbeat row,
        # without creating it (a health check should not write).
        try:
            state = SchedulerState.objects.filter(pk=SchedulerState.SINGLETON_ID).first()
        except DatabaseError as exc:
            # Still answerable during an outage, and with a status monitors notice.
            log.warning("Health check: database unavailable: %s", exc)
            return Response(self._body(request, database=False, state=None), status=503,
                            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})
        return Response(self._body(request, database=True, state=state))

    @staticmethod
    def _body(request, *, database: bool, state: SchedulerState | None) -> dict:
        running = bool(state and state.is_alive())
        return render(HealthSerializer, {
            "status": "healthy" if database else "unhealthy",
            "service": SERVICE_NAME,
            "version": settings.APP_VERSION,
            "timestamp": timezone.now(),
            "api": "v2",
            "scheduler_running": running,
            "scheduled_jobs_count": state.scheduled_jobs_count if running else 0,
            "docs_url": f"{base_url(request)}/docs",
            "database": "available" if database else "unavailable",
        })


class WelcomeView(PublicApiView):
    @extend_schema(exclude=True)
    def get(self, request):
        return Response(render(WelcomeSerializer, {
            "message": "Welcome to the cronhub API v2", "docs": "/docs", "redoc": "/redoc",
            "health": "/api/v2/health"}))


# --- Liveness, readiness, the scheduler check, the API index --------------------------------
class LivenessSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["alive"])
    timestamp = TimestampField(iso_z_micro)


class ReadinessSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ready", "unavailable"])
    database = serializers.ChoiceField(choices=["available", "unavailable"])
    timestamp = TimestampField(iso_z_micro)


class SchedulerHealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["healthy", "unhealthy"],
        help_text='"healthy" when a leader\'s heartbeat is at most max_age_seconds old, '
                  'else "unhealthy" (503)')
    leader_host = serializers.CharField(allow_null=True,
                                        help_text="Host of the last leader (null if none ever ran)")
    leader_pid = serializers.IntegerField(allow_null=True)
    heartbeat_at = TimestampField(iso_z_micro, allow_null=True)
    heartbeat_age_seconds = serializers.FloatField(allow_null=True)
    max_age_seconds = serializers.IntegerField(help_text="SCHEDULER_HEALTH_MAX_AGE_SECONDS")
    stopped = serializers.BooleanField(help_text="The last leader stopped cleanly and none took over")
    database = serializers.ChoiceField(choices=["available", "unavailable"])


API_INDEX_LINKS = {
    "health": "/api/v2/health", "liveness": "/api/v2/health/live", "readiness": "/api/v2/health/ready",
    "scheduler_health": "/api/v2/health/scheduler", "openapi": "/api/v2/openapi.json",
    "docs": "/docs", "redoc": "/redoc", "login": "/api/v2/auth/login", "me": "/api/v2/auth/me",
    "api_tokens": "/api/v2/auth/tokens", "jobs": "/api/v2/jobs", "executions": "/api/v2/executions",
    "notifications": "/api/v2/notifications", "scheduler_status": "/api/v2/scheduler/status",
    "admin": "/admin/",
}

ApiIndexLinksSerializer = type("ApiIndexLinksSerializer", (serializers.Serializer,), {
    name: serializers.CharField(help_text=f"Absolute URL of {path}")
    for name, path in API_INDEX_LINKS.items()})


class ApiIndexSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    links = ApiIndexLinksSerializer()


def _unavailable_headers() -> dict[str, str]:
    return {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}


class LivenessView(PublicApiView):
    """The process answers: no database, no scheduler (restart the web app when this fails)."""

    @extend_schema(tags=["health"], auth=[], responses={200: LivenessSerializer},
                   summary="Liveness: the web process answers (touches nothing else)")
    def get(self, request):
        return Response(render(LivenessSerializer, {"status": "alive", "timestamp": timezone.now()}))


class ReadinessView(PublicApiView):
    """Ready for traffic: the database answers a query (take the host out of rotation when not)."""

    @extend_schema(tags=["health"], auth=[], responses={200: ReadinessSerializer, 503: ReadinessSerializer},
                   summary="Readiness: 200 when the database answers, 503 when it does not")
    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except DatabaseError as exc:
            log.warning("Readiness: database unavailable: %s", exc)
            return Response(render(ReadinessSerializer, {
                "status": "unavailable", "database": "unavailable", "timestamp": timezone.now()}),
                status=503, headers=_unavailable_headers())
        return Response(render(ReadinessSerializer, {
            "status": "ready", "database": "available", "timestamp": timezone.now()}))


class SchedulerHealthView(PublicApiView):
    """503 unless a scheduler leader's heartbeat is fresh: for a monitor that must page
    when no scheduler fires jobs (every host down, or all standbys)."""

    @extend_schema(tags=["health"], auth=[],
                   responses={200: SchedulerHealthSerializer, 503: SchedulerHealthSerializer},
                   summary="Scheduler check: 200 while a leader's heartbeat is fresh, else 503")
    def get(self, request):
        max_age = settings.SCHEDULER_HEALTH_MAX_AGE_SECONDS
        try:
            state = SchedulerState.objects.filter(pk=SchedulerState.SINGLETON_ID).first()
        except DatabaseError as exc:
            log.warning("Scheduler check: database unavailable: %s", exc)
            return Response(render(SchedulerHealthSerializer, {
                "status": "unhealthy", "leader_host": None, "leader_pid": None, "heartbeat_at": None,
                "heartbeat_age_seconds": None, "max_age_seconds": max_age, "stopped": False,
                "database": "unavailable"}), status=503, headers=_unavailable_headers())
        now = timezone.now()
        beat = state.heartbeat_at if state else None
        age = (now - beat).total_seconds() if beat else None
        stopped = bool(state and state.stopped_at and beat and state.stopped_at >= beat)
        healthy = age is not None and not stopped and age <= max_age
        body = render(SchedulerHealthSerializer, {
            "status": "healthy" if healthy else "unhealthy",
            "leader_host": (state.host or None) if state else None,
            "leader_pid": state.pid if state else None,
            "heartbeat_at": beat,
            "heartbeat_age_seconds": round(age, 3) if age is not None else None,
            "max_age_seconds": max_age, "stopped": stopped, "database": "available"})
        return Response(body, status=200 if healthy else 503)


class ApiIndexView(PublicApiView):
    """``GET /api/v2/``: where things are."""

    @extend_schema(tags=["health"], auth=[], responses={200: ApiIndexSerializer},
                   summary="The API's index: links to its documents, health checks and main collections")
    def get(self, request):
        base = base_url(request)
        return Response(render(ApiIndexSerializer, {
            "name": settings.APP_NAME, "version": settings.APP_VERSION,
            "links": {name: base + path for name, path in API_INDEX_LINKS.items()}}))
