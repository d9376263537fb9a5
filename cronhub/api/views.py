"""The public, app-independent routes: health and the welcome document."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
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

# Existing clients check this literal, whatever serves the API now.
SERVICE_NAME = "cron-job-scheduler-fastapi"


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
            return Response(self._body(database=False, state=None), status=503,
                            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})
        return Response(self._body(database=True, state=state))

    @staticmethod
    def _body(*, database: bool, state: SchedulerState | None) -> dict:
        running = bool(state and state.is_alive())
        return render(HealthSerializer, {
            "status": "healthy" if database else "unhealthy",
            "service": SERVICE_NAME,
            "version": settings.APP_VERSION,
            "timestamp": timezone.now(),
            "api": "v2",
            "scheduler_running": running,
            "scheduled_jobs_count": state.scheduled_jobs_count if running else 0,
            "docs_url": f"http://localhost:{settings.PORT}/docs",
            "database": "available" if database else "unavailable",
        })


class WelcomeView(PublicApiView):
    @extend_schema(exclude=True)
    def get(self, request):
        return Response(render(WelcomeSerializer, {
            "message": "Welcome to Cron Job Scheduler API v2", "docs": "/docs", "redoc": "/redoc",
            "health": "/api/v2/health"}))
