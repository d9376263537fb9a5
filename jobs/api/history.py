"""``GET /jobs/{id}/history``: who changed the job, what and when (``cronhub.audit``), and
``GET /jobs/export``: the jobs as the CSV the import reads, or as JSON. Both are reads:
every role may ask, with the job's read rule, and webhook secrets are masked for callers
who may not see them (``cronhub.permissions``)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cronhub import permissions as may
from cronhub.api.errors import bad_request
from cronhub.api.fields import TimestampField
from cronhub.api.formats import iso_z_millis, query_int
from cronhub.api.permissions import IsAuthenticatedUser, ensure
from cronhub.api.shapes import render_many
from jobs.api.schema import bounded, errors, path_id, query
from jobs.api.views import find_job
from jobs.models import Job
from jobs.selectors import job_history
from jobs.services.exports import jobs_export_csv, jobs_export_json

TAG = ["jobs"]


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class HistoryEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = TimestampField(iso_z_millis)
    action = serializers.ChoiceField(choices=["created", "changed", "deleted"])
    author = serializers.CharField(help_text='The user\'s name, or "scheduler" for the scheduler\'s changes')
    via = serializers.CharField(help_text="api, admin, import, scheduler or command (empty: unknown)")
    reason = serializers.CharField(help_text="e.g. the imported file, or why the scheduler paused the job")
    changes = HistoryChangeSerializer(many=True, help_text=(
        "The fields that changed (all of them for a creation); webhook URLs masked unless the caller "
        "owns the job or is an admin"))


JobHistoryPage = inline_serializer("JobHistoryPage", {
    "job_id": serializers.CharField(), "job_name": serializers.CharField(),
    "history": HistoryEntrySerializer(many=True), "total": serializers.IntegerField(),
    "page": serializers.IntegerField(), "limit": serializers.IntegerField(),
    "total_pages": serializers.IntegerField()})


class JobHistoryView(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TAG, summary="Who changed the job, what and when (newest first)",
                   operation_id="job_history", parameters=[
                       path_id("job_id"), bounded("page", 1, None, "default 1"),
                       bounded("limit", 1, 200, "default 50")],
                   responses={200: JobHistoryPage, **errors(404)})
    def get(self, request, job_id: str):
        page = query_int(request.query_params, "page", 1, minimum=1)
        limit = query_int(request.query_params, "limit", 50, minimum=1, maximum=200)
        job = find_job(job_id)
        ensure(may.can_view_job_history(request.user, job), message="You cannot read this job's history.")
        result = job_history(job, user=request.user, page=page, limit=limit)
        return Response({"job_id": job.id, "job_name": job.name,
                         "history": render_many(HistoryEntrySerializer, result.entries),
                         "total": result.total, "page": result.page, "limit": result.limit,
                         "total_pages": result.total_pages})


class ExportedJobSerializer(serializers.Serializer):
    """A job as the body ``POST /jobs`` accepts, plus ``is_active``."""

    name = serializers.CharField()
    cron_expression = serializers.CharField()
    timezone = serializers.CharField()
    is_active = serializers.BooleanField()
    target_url = serializers.CharField(allow_null=True, help_text="Masked unless the caller owns the job "
                                                                  "or is an admin")
    github_owner = serializers.CharField(allow_null=True)
    github_repo = serializers.CharField(allow_null=True)
    github_workflow_name = serializers.CharField(allow_null=True)
    category = serializers.CharField()
    end_date = serializers.DateField(allow_null=True)
    pic_team = serializers.CharField(allow_null=True)
    metadata = serializers.DictField()
    enable_email_notifications = serializers.BooleanField()
    notification_emails = serializers.ListField(child=serializers.CharField())
    notify_on_success = serializers.BooleanField()


ExportJson = inline_serializer("JobExport", {"jobs": ExportedJobSerializer(many=True)})


class JobExportView(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TAG, summary="Every job as the CSV the bulk upload reads, or as JSON",
                   operation_id="jobs_export",
                   parameters=[query("type", {"type": "string", "enum": ["csv", "json"]},
                                     "csv (default) or json")],
                   responses={
                       (200, "application/json"): OpenApiResponse(ExportJson, description="type=json"),
                       (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=(
                           "type=csv (the default): the columns of the bulk upload, UTF-8 with a BOM, "
                           "spreadsheet formulas neutralised with a leading apostrophe")),
                       **errors()})
    def get(self, request):
        kind = (request.query_params.get("type") or "csv").strip().lower()
        if kind not in ("csv", "json"):
            raise bad_request("Invalid payload", '"type" must be csv or json.')
        ensure(may.can_export_jobs(request.user), message="You cannot export jobs.")
        jobs = Job.objects.all()
        if kind == "json":
            return Response(jobs_export_json(jobs, user=request.user))
        response = HttpResponse("\ufeff" + jobs_export_csv(jobs, user=request.user),
                                content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="cronhub-jobs.csv"'
        return response



