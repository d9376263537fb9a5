"""The public, app-independent routes: health and the welcome document."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from cronhub.api.base import PublicApiView
from cronhub.api.fields import TimestampField
from cronhub.api.formats import iso_z_micro
from cronhub.api.shapes import render
from jobs.models import SchedulerState

# Existing clients check this literal, whatever serves the API now.
SERVICE_NAME = "cron-job-scheduler-fastapi"


class HealthSerializer(serializers.Serializer):
    status = serializers.CharField()
    service = serializers.CharField()
    version = serializers.CharField()
    timestamp = TimestampField(iso_z_micro)
    api = serializers.CharField()
    scheduler_running = serializers.BooleanField(help_text="A scheduler leader's heartbeat is recent")
    scheduled_jobs_count = serializers.IntegerField(help_text="Jobs the leader schedules (0 if none runs)")
    docs_url = serializers.CharField()


class WelcomeSerializer(serializers.Serializer):
    message = serializers.CharField()
    docs = serializers.CharField()
    redoc = serializers.CharField()
    health = serializers.CharField()


class HealthView(PublicApiView):
    @extend_schema(tags=["health"], auth=[], responses={200: HealthSerializer},
                   summary="Service health and whether a scheduler leader is running")
    def get(self, request):
        # The web process never runs a scheduler: it reads the leader's heartbeat row,
        # without creating it (a health check should not write).
        state = SchedulerState.objects.filter(pk=SchedulerState.SINGLETON_ID).first()
        running = bool(state and state.is_alive())
        return Response(render(HealthSerializer, {
            "status": "healthy",
            "service": SERVICE_NAME,
            "version": settings.APP_VERSION,
            "timestamp": timezone.now(),
            "api": "v2",
            "scheduler_running": running,
            "scheduled_jobs_count": state.scheduled_jobs_count if running else 0,
            "docs_url": f"http://localhost:{settings.PORT}/docs",
        }))


class WelcomeView(PublicApiView):
    @extend_schema(exclude=True)
    def get(self, request):
        return Response(render(WelcomeSerializer, {
            "message": "Welcome to Cron Job Scheduler API v2", "docs": "/docs", "redoc": "/redoc",
            "health": "/api/v2/health"}))
