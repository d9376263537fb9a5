"""Jobs API: list, detail, create, update, delete, cron tools, bulk upload.

Each view: role check (permission class) → find the job → ownership → validate
(serializers) → call a write or selector → envelope.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cronhub import permissions as may
from cronhub import values
from cronhub.api.bodies import JSONParser, json_body
from cronhub.api.errors import ApiError, bad_request, not_found
from cronhub.api.formats import OutOfRange, iso_zoned, parse_instant, query_bool, query_int
from cronhub.api.permissions import IsAuthenticatedUser, IsWriter, ensure
from cronhub.values import bool_word
from jobs import cron, rules, services
from jobs.api import serializers as s
from jobs.api.listing import MAX_PAGE_SIZE, JobListQuery, job_list_json
from jobs.api.schema import bounded, errors, path_id, query
from jobs.models import Job, TriggerType
from jobs.selectors import job_get, job_next_execution_at
from jobs.services.imports import CsvFileError, jobs_import_csv
from jobs.services.writes import job_create, job_delete, job_update

TAG = ["jobs"]


class RoleByMethod:
    """Reads for any authenticated role, writes for writers.
    Bodies are JSON (read by ``json_body``); the parser list documents it."""

    parser_classes = [JSONParser]
    write_permission = IsWriter

    def get_permissions(self):
        return [IsAuthenticatedUser() if self.request.method == "GET" else self.write_permission()]


def find_job(job_id: str) -> Job:
    job = job_get(job_id)
    if job is None:
        raise not_found("Job not found", f"No job found with ID: {job_id}")
    return job


def job_read(job: Job, *, now: dt.datetime | None = None) -> dict[str, Any]:
    return s.job_read_dict(s.job_row(job), next_execution_at=job_next_execution_at(job, now), in_list=False)


def reloaded(job: Job) -> dict[str, Any]:
    """The saved job with both computed fields (M5: clients replace their row with it)."""
    return job_read(find_job(job.pk))


def job_list_query(params) -> JobListQuery:
    """``GET /jobs``'s optional narrowing; none given = the whole list as it has always been."""
    page = query_int(params, "page", 0, minimum=1, maximum=10**9) or None
    limit = query_int(params, "limit", 0, minimum=1, maximum=MAX_PAGE_SIZE) or None
    return JobListQuery(
        page=page, limit=limit,
        search=(params.get("search") or "").strip() or None,
        category=(params.get("category") or "").strip() or None,
        pic_team=(params.get("pic_team") or "").strip() or None,
        is_active=query_bool(params, "is_active") if params.get("is_active") not in (None, "") else None,
    )


class JobListView(RoleByMethod, APIView):
    @extend_schema(tags=TAG, summary="All jobs, newest first; optionally filtered and paged",
                   operation_id="jobs_list", parameters=[
        bounded("page", 1, 10**9, "with page or limit the answer is one page and says the total"),
        bounded("limit", 1, MAX_PAGE_SIZE, "default 50 when page is given"),
        query("search", description="part of the name, target URL or GitHub repository (any case)"),
        query("category", description="exact category"), query("pic_team", description="exact PIC team"),
        query("is_active", description="true|false")],
        responses={200: s.JobListSerializer, **errors()})
    def get(self, request):
        return HttpResponse(job_list_json(query=job_list_query(request.query_params)),
                            content_type="application/json")

    @extend_schema(tags=TAG, summary="Create a job", request=s.JobCreateSerializer,
                   responses={201: s.JobEnvelopeSerializer, **errors(403)})
    def post(self, request):
        body = json_body(request, require_object=False)
        serializer = s.JobCreateSerializer(data=body)
        serializer.is_valid(raise_exception=True)
        job = job_create(data=serializer.validated_data, user=request.user)
        return Response({"message": "Job created successfully", "job": reloaded(job)},
                        status=status.HTTP_201_CREATED)


class JobDetailView(RoleByMethod, APIView):
    @extend_schema(tags=TAG, summary="One job", operation_id="job_detail", parameters=[path_id("job_id")],
                   responses={200: s.JobEnvelopeSerializer, **errors(404)})
    def get(self, request, job_id: str):
        return Response({"job": job_read(find_job(job_id))})

    @extend_schema(tags=TAG, summary="Update a job (partial, atomic)", parameters=[path_id("job_id")],
                   request=s.JobUpdateSerializer,
                   responses={200: s.JobEnvelopeSerializer, **errors(403, 404)})
    def put(self, request, job_id: str):
        job = find_job(job_id)
        ensure(may.can_change_job(request.user, job), error="Insufficient permissions",
               message="You can only update your own jobs")
        serializer = s.JobUpdateSerializer(data=json_body(request), context={"job": job})
        serializer.is_valid(raise_exception=True)
        job_update(job=job, data=serializer.validated_data, user=request.user)
        return Response({"message": "Job updated successfully", "job": reloaded(job)})

    @extend_schema(tags=TAG, summary="Delete a job and its executions", parameters=[path_id("job_id")],
                   responses={200: s.DeletedJobSerializer, **errors(403, 404)})
    def delete(self, request, job_id: str):
        job = find_job(job_id)
        ensure(may.can_delete_job(request.user, job), error="Insufficient permissions",
               message="You can only delete your own jobs")
        deleted = job_delete(job=job, user=request.user)
        return Response({"message": "Job deleted successfully", "deleted_job": deleted})


class LiteralJobRoute:
    """``GET /jobs/validate-cron`` etc. are job lookups of that id in the contract (→ 404)."""

    @extend_schema(summary="Not a tool: looked up as a job id, which never exists",
                   responses=errors(404))
    def get(self, request):
        raise not_found("Job not found", f"No job found with ID: {request.path.rsplit('/', 1)[-1]}")


# --- running ----------------------------------------------------------------------------

class ExecuteView(APIView):
    permission_classes = [IsWriter]
    parser_classes = [JSONParser]

    @extend_schema(tags=TAG, summary="Run a job now, synchronously, with optional overrides",
                   parameters=[path_id("job_id")], request=s.ExecuteSerializer,
                   responses={200: inline_serializer("ExecuteResult", {
                       "message": serializers.CharField(), "job_id": serializers.CharField(),
                       "execution_id": serializers.CharField(), "status": serializers.CharField()}),
                       **errors(403, 404)})
    def post(self, request, job_id: str):
        job = find_job(job_id)
        ensure(may.can_run_job(request.user, job), error="Insufficient permissions",
               message="You can only execute your own jobs")
        if job.is_expired():
            # The expiry check comes before the body's, whatever the body says: the
            # service pauses the job and refuses (JobExpired, a 400).
            services.job_execute(job=job, trigger=TriggerType.MANUAL, overrides={})
        serializer = s.ExecuteSerializer(data=json_body(request, empty_as_object=True),
                                         context={"job": job})
        serializer.is_valid(raise_exception=True)
        execution = services.job_execute(job=job, trigger=TriggerType.MANUAL,
                                         overrides=serializer.validated_data)
        # Whatever the dispatch's outcome, the run happened: 200 (the row tells how it went).
        return Response({"message": "Job triggered successfully", "job_id": job.id,
                         "execution_id": execution.id, "status": execution.status})


class TestRunView(RoleByMethod, LiteralJobRoute, APIView):

    @extend_schema(tags=TAG, summary="Dispatch an unsaved configuration once (records nothing)",
                   request=s.TestRunSerializer, responses={200: inline_serializer("TestRunResult", {
                       "ok": serializers.BooleanField(), "type": serializers.CharField(),
                       "status_code": serializers.IntegerField(required=False),
                       "error": serializers.CharField(required=False), "message": serializers.CharField(),
                       "github_run_id": serializers.IntegerField(required=False),
                       "github_run_url": serializers.CharField(required=False)}), **errors(403)})
    def post(self, request):
        serializer = s.TestRunSerializer(data=json_body(request))
        serializer.is_valid(raise_exception=True)
        result = services.job_test_run(**serializer.validated_data)
        return Response(result.as_response())


# --- cron tools -------------------------------------------------------------------------

def _expression(body: dict) -> str:
    """``expression`` wins when truthy, else ``cron_expression`` (older clients send that)."""
    key = "expression" if body.get("expression") else "cron_expression"
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise bad_request("Invalid payload", f'"{key}" must be a string.')
    return value.strip()


# null and "" are accepted and judged invalid (200 valid:false), as any unreadable expression.
CronExpressionRequest = inline_serializer("CronExpressionRequest", {
    "expression": serializers.CharField(required=False, allow_null=True, allow_blank=True),
    "cron_expression": serializers.CharField(required=False, allow_null=True, allow_blank=True),
})


class ValidateCronView(LiteralJobRoute, APIView):
    permission_classes = [IsAuthenticatedUser]
    parser_classes = [JSONParser]

    @extend_schema(tags=TAG, summary="Validate a cron expression (invalid is 200 valid:false)",
                   request=CronExpressionRequest, responses={200: inline_serializer("CronValidation", {
                       "valid": serializers.BooleanField(), "message": serializers.CharField(),
                       "error": serializers.CharField(required=False),
                       "description": serializers.CharField(required=False)}), **errors()})
    def post(self, request):
        expression = _expression(json_body(request))
        try:
            schedule = cron.parse(expression)
        except cron.CronError as problem:
            return Response({"valid": False, "error": "Invalid cron expression", "message": str(problem)})
        return Response({"valid": True, "message": "Valid cron expression",
                         "description": schedule.describe()})


class CronDescriptionView(LiteralJobRoute, APIView):
    """M2: the React client's ``getCronDescription`` call, as the contract's safe extension."""

    permission_classes = [IsAuthenticatedUser]
    parser_classes = [JSONParser]

    @extend_schema(tags=TAG, summary="Describe a cron expression in words", request=CronExpressionRequest,
                   responses={200: inline_serializer("CronDescription", {
                       "description": serializers.CharField()}), **errors()})
    def post(self, request):
        try:
            schedule = cron.parse(_expression(json_body(request)))
        except cron.CronError as problem:
            raise bad_request("Invalid cron expression", str(problem)) from None
        return Response({"description": schedule.describe()})


def _preview_count(value: Any) -> int:
    """Missing/0/null → 5, at most 20, negative → none; numeric strings accepted."""
    if value is None:
        return 5
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise bad_request("Invalid payload", '"count" must be an integer.')
    try:
        number = int(value.strip()) if isinstance(value, str) else int(value)
    except (ValueError, OverflowError):
        raise bad_request("Invalid payload", '"count" must be an integer.') from None
    if number == 0:
        return 5
    return max(0, min(number, 20))


class CronPreviewView(LiteralJobRoute, APIView):
    permission_classes = [IsAuthenticatedUser]
    parser_classes = [JSONParser]

    @extend_schema(tags=TAG, summary="Next fire times of an expression", request=inline_serializer(
        "CronPreviewRequest", {
            "expression": serializers.CharField(required=False, allow_null=True, allow_blank=True),
            "cron_expression": serializers.CharField(required=False, allow_null=True, allow_blank=True),
            "count": serializers.IntegerField(required=False, allow_null=True,
                                              help_text="Default 5, at most 20."),
            "timezone": serializers.CharField(required=False, help_text="IANA zone; default scheduler zone."),
            "from": serializers.DateTimeField(required=False, help_text="Fire times strictly after it; "
                                              "default now."),
        }), responses={200: inline_serializer("CronPreview", {
            "timezone": serializers.CharField(),
            "next_runs": serializers.ListField(child=serializers.CharField()),
            "count": serializers.IntegerField()}), **errors()})
    def post(self, request):
        body = json_body(request)
        expression = _expression(body)
        count = _preview_count(body.get("count"))
        zone_name = rules.job_timezone(body.get("timezone"))
        start = timezone.now()
        if body.get("from") not in (None, ""):
            raw = body["from"]
            try:
                if not isinstance(raw, str):
                    raise TypeError
                start, _ = parse_instant(raw)
            except OutOfRange as problem:
                raise bad_request("Invalid payload", f'"from": {problem}') from None
            except (ValueError, TypeError, OverflowError):
                raise bad_request("Invalid payload",
                                  '"from" must be an ISO 8601 date or date-time.') from None
        try:
            schedule = cron.parse(expression)
        except cron.CronError as problem:
            raise bad_request("Invalid cron expression", str(problem)) from None
        zone = values.zone(zone_name)
        try:
            runs = schedule.next_fire_times(zone, start, count) if count else []
        except (OverflowError, ValueError):  # a start near year 9999 has no next time
            runs = []
        next_runs = [iso_zoned(run, zone) for run in runs]
        return Response({"timezone": zone_name, "next_runs": next_runs, "count": len(next_runs)})


# --- bulk upload ------------------------------------------------------------------------------

class BulkUploadView(RoleByMethod, LiteralJobRoute, APIView):
    parser_classes = [MultiPartParser]
    max_body_bytes = None  # bounded below by BULK_UPLOAD_MAX_BYTES, with its own message

    @extend_schema(tags=TAG, summary="Import jobs from a CSV (multipart)", request={
        "multipart/form-data": inline_serializer("BulkUploadRequest", {
            "file": serializers.FileField(),
            "default_github_owner": serializers.CharField(required=False),
            "dry_run": serializers.CharField(required=False, help_text="1/true/yes/y/on → validate only"),
        })}, responses={200: s.ImportReportSerializer, **errors(403, 413),
                         400: s.BulkUploadRefusedSerializer})
    def post(self, request):
        limit = settings.BULK_UPLOAD_MAX_BYTES
        too_large = ApiError(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "File too large",
                             f"The CSV file must be at most {limit} bytes (BULK_UPLOAD_MAX_BYTES).")
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit + 64 * 1024:  # refuse before reading a huge body; 64 KB for the form around it
            raise too_large
        content_type = (request.META.get("CONTENT_TYPE") or "").lower()
        if not content_type.startswith("multipart/form-data"):
            raise bad_request("Missing file", 'Upload a CSV file using form field "file".')
        upload = request.FILES.get("file")
        if upload is None:
            if "file" in request.POST:  # a file part without a file name arrives as text
                raise bad_request("Missing file", "No file selected.")
            raise bad_request("Missing file", 'Upload a CSV file using form field "file".')
        if upload.size > limit:
            raise too_large
        form = request.POST
        dry_run = bool_word(form.get("dry_run") or "") is True
        try:
            report = jobs_import_csv(data=upload.read(), user=request.user, dry_run=dry_run,
                                     default_github_owner=form.get("default_github_owner"),
                                     filename=upload.name)
        except CsvFileError as problem:
            raise bad_request("Invalid CSV", str(problem)) from None
        return Response(report.as_dict(), status=report.status_code)
