"""Scheduler operations across processes.

The web process never runs the scheduler: status reads the leader's heartbeat
row, and a resync is a request written into that row which the leader answers
(it may run on another host). ``POST /scheduler/resync`` waits up to
RESYNC_WAIT_SECONDS for the answer; a leader that is alive but slower than that
gets ``202`` with the request time, and performs the pass anyway.
"""

from __future__ import annotations

import time

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cronhub.api.errors import DetailError
from cronhub.api.fields import TimestampField
from cronhub.api.formats import iso_z_micro
from cronhub.api.permissions import IsAdmin
from jobs.api.schema import errors
from jobs.models import SchedulerState

TAG = ["scheduler"]
RESYNC_WAIT_SECONDS = 5.0
RESYNC_POLL_SECONDS = 0.1
RESULT_KEYS = ("ran_at", "db_jobs_total", "db_jobs_active", "scheduled_now", "scheduled_added",
               "scheduled_removed", "expired_auto_paused", "orphaned_removed", "invalid_cron")


def _result_fields(*, allow_null: bool) -> dict[str, serializers.Field]:
    """What a reconciliation pass reports: when it ran, then counts."""
    return {key: TimestampField(allow_null=allow_null) if key == "ran_at"
            else serializers.IntegerField(allow_null=allow_null) for key in RESULT_KEYS}


def status_dict(state: SchedulerState) -> dict:
    alive = state.is_alive()
    return {
        "scheduler_running": alive,
        "scheduler_is_leader": alive,
        "scheduled_jobs_count": state.scheduled_jobs_count if alive else 0,
        "last_resync_at": iso_z_micro(state.last_reconcile_at),
        "message": (f"Scheduler leader {state.host} (pid {state.pid}) is running." if alive else
                    "No scheduler is running: start `manage.py runscheduler` to fire jobs."),
        "leader": {
            "host": state.host or None,
            "pid": state.pid,
            "since": iso_z_micro(state.leader_since),
            "heartbeat_at": iso_z_micro(state.heartbeat_at),
            "stopped_at": iso_z_micro(state.stopped_at),
        },
        "next_runs": state.next_runs if alive and isinstance(state.next_runs, list) else [],
        "last_resync_result": state.last_resync_result,
    }


class SchedulerStatusView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(tags=TAG, summary="Is a scheduler leader running, and what it reported last",
                   responses={200: inline_serializer("SchedulerStatus", {
                       "scheduler_running": serializers.BooleanField(),
                       "scheduler_is_leader": serializers.BooleanField(),
                       "scheduled_jobs_count": serializers.IntegerField(),
                       "last_resync_at": serializers.CharField(allow_null=True),
                       "message": serializers.CharField(),
                       "leader": inline_serializer("SchedulerLeader", {
                           "host": serializers.CharField(allow_null=True),
                           "pid": serializers.IntegerField(allow_null=True),
                           "since": TimestampField(allow_null=True),
                           "heartbeat_at": TimestampField(allow_null=True),
                           "stopped_at": TimestampField(allow_null=True)}),
                       "next_runs": inline_serializer("SchedulerNextRun", {
                           "job_id": serializers.CharField(), "name": serializers.CharField(),
                           "fire_at": TimestampField()}, many=True),
                       "last_resync_result": inline_serializer(
                           "ResyncSummary", _result_fields(allow_null=False), allow_null=True),
                   }), **errors(403)})
    def get(self, request):
        return Response(status_dict(SchedulerState.load()))


def _result_body(result: dict | None) -> dict:
    body = {"message": "Scheduler resync completed"}
    for key in RESULT_KEYS:
        body[key] = (result or {}).get(key)
    return body


class SchedulerResyncView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(tags=TAG, summary="Ask the leader for a reconciliation pass and wait for it",
                   request=None, responses={
                       200: inline_serializer("ResyncResult", {
                           "message": serializers.CharField(), **_result_fields(allow_null=True)}),
                       202: inline_serializer("ResyncPending", {
                           "message": serializers.CharField(), "requested_at": serializers.CharField()}),
                       **errors(403, 409)})
    def post(self, request):
        state = SchedulerState.load()
        if not state.is_alive():
            raise DetailError(status.HTTP_409_CONFLICT, "Scheduler is not running as leader in this process.")
        requested_at = timezone.now()
        # Only this column: the leader keeps writing its heartbeat to the same row.
        SchedulerState.objects.filter(pk=state.pk).update(resync_requested_at=requested_at)
        deadline = time.monotonic() + RESYNC_WAIT_SECONDS
        while time.monotonic() < deadline:
            row = SchedulerState.objects.filter(pk=state.pk).values(
                "resync_completed_at", "last_resync_result").first()
            if row and row["resync_completed_at"] is not None and row["resync_completed_at"] >= requested_at:
                return Response(_result_body(row["last_resync_result"]))
            time.sleep(RESYNC_POLL_SECONDS)
        return Response({"message": "Resync requested; the scheduler leader has not answered within "
                                    f"{RESYNC_WAIT_SECONDS:g} s and will run it shortly.",
                         "requested_at": iso_z_micro(requested_at)}, status=status.HTTP_202_ACCEPTED)
