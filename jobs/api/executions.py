"""Executions API: per-job list/detail/stats, global list/detail/statistics.

Readable by every role for every job (run history is shared knowledge). Lists run a fixed number of
queries whatever the page size.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cronhub.api.errors import not_found
from cronhub.api.fields import TimestampField
from cronhub.api.formats import iso_offset, iso_z_millis, query_int, query_range
from cronhub.api.permissions import IsAuthenticatedUser
from cronhub.api.shapes import render, render_many
from jobs.api.schema import bounded, errors, path_id, query
from jobs.models import Job, JobExecution
from jobs.selectors import (
    ExecutionFilters,
    execution_page,
    execution_statistics,
    job_execution_stats,
    job_executions,
    latest_execution,
    split_statuses,
)

TAG = ["executions"]


class AttemptSerializer(serializers.Serializer):
    """One entry of an execution's ``attempt_log``: a call, or a wait."""

    attempt = serializers.IntegerField(allow_null=True, help_text="The call's number; null for a wait.")
    at = serializers.CharField(help_text="When the call began or the wait was decided (UTC, ISO 8601).")
    outcome = serializers.CharField(help_text=(
        "success or failed (a call), rate_limited (GitHub answered with a rate limit), budget (held back by "
        "the token's budget, not sent), buffered (waits for the previous run), requeued (recovered)"))
    status = serializers.IntegerField(allow_null=True, help_text="The HTTP status of the answer, if any.")
    error = serializers.CharField(allow_null=True)
    duration_seconds = serializers.FloatField(required=False)
    retry_at = serializers.CharField(required=False, help_text="When the run is sent again after this entry.")


class ExecutionSerializer(serializers.Serializer):
    """An execution: the one declaration of its body and its documented schema (with
    ``scheduled_for`` and the GitHub run, additions to the historical shape)."""

    id = serializers.CharField()
    job_id = serializers.CharField()
    status = serializers.CharField(help_text="running, success, failed, missed, skipped or unknown (the call "
                                             "may have gone out, but its outcome could not be established)")
    trigger_type = serializers.CharField()
    started_at = TimestampField(iso_z_millis)
    completed_at = TimestampField(iso_z_millis, allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    execution_type = serializers.CharField(allow_null=True)
    target = serializers.CharField(allow_null=True)
    response_status = serializers.IntegerField(allow_null=True)
    error_message = serializers.CharField(allow_null=True)
    output = serializers.CharField(allow_null=True)
    scheduled_for = TimestampField(iso_z_millis, allow_null=True)
    github_run_id = serializers.IntegerField(allow_null=True)
    github_run_url = serializers.CharField(allow_null=True)
    github_run_status = serializers.CharField(allow_null=True, help_text=(
        "The workflow run's status as last seen: queued, in_progress, completed, ... (an addition)"))
    github_run_conclusion = serializers.CharField(allow_null=True, help_text=(
        "Once completed: success, failure, cancelled, timed_out, skipped, startup_failure, ... "
        "(an addition)"))
    github_run_started_at = TimestampField(iso_z_millis, allow_null=True)
    github_run_completed_at = TimestampField(iso_z_millis, allow_null=True)
    github_run_attempt = serializers.IntegerField(allow_null=True)
    note = serializers.CharField(allow_null=True, help_text=(
        "How the run came about when not plainly, e.g. re-sent after a scheduler restart (an addition)"))
    # Additions: retries, waits and GitHub's rate limits (docs/execution.md).
    attempts = serializers.IntegerField(help_text="Calls made for this run (0 while it waits for its first).")
    attempt_log = AttemptSerializer(many=True, help_text="One entry per call or wait, oldest first.")
    wait_reason = serializers.CharField(allow_null=True, help_text=(
        "While a running run waits: retry, rate_limit or previous_run (buffer_one)."))
    next_attempt_at = TimestampField(iso_z_millis, allow_null=True, help_text="When a waiting run is sent.")
    rate_limit_wait_seconds = serializers.FloatField(allow_null=True, help_text=(
        "Lateness GitHub's rate limits added before the dispatch went out."))


class ExecutionWithJobSerializer(ExecutionSerializer):
    """Plus the job's name and its current repository (global lists show them)."""

    job_name = serializers.CharField(source="job.name")
    github_repo = serializers.CharField(source="job.github_repo", allow_null=True)


JobRef = inline_serializer("JobRef", {"id": serializers.CharField(), "name": serializers.CharField()})
JobExecutionList = inline_serializer("JobExecutionList", {
    "job_id": serializers.CharField(), "job_name": serializers.CharField(),
    "total_executions": serializers.IntegerField(), "executions": ExecutionSerializer(many=True)})
JobExecutionStats = inline_serializer("JobExecutionStats", {
    "job_id": serializers.CharField(), "job_name": serializers.CharField(),
    "statistics": inline_serializer("JobExecutionStatistics", {
        "total_executions": serializers.IntegerField(), "success_count": serializers.IntegerField(),
        "failed_count": serializers.IntegerField(), "running_count": serializers.IntegerField(),
        "success_rate": serializers.FloatField(),
        "average_duration_seconds": serializers.FloatField(allow_null=True)}),
    "latest_execution": ExecutionSerializer(allow_null=True)})
JobExecutionDetail = inline_serializer("JobExecutionDetail", {
    "job": JobRef, "execution": ExecutionSerializer()})
ExecutionPageSchema = inline_serializer("ExecutionPage", {
    "executions": ExecutionWithJobSerializer(many=True), "total": serializers.IntegerField(),
    "page": serializers.IntegerField(), "limit": serializers.IntegerField(),
    "total_pages": serializers.IntegerField()})
ExecutionStatistics = inline_serializer("ExecutionStatistics", {
    "total_executions": serializers.IntegerField(), "successful_executions": serializers.IntegerField(),
    "failed_executions": serializers.IntegerField(), "running_executions": serializers.IntegerField(),
    "success_rate": serializers.FloatField(), "average_duration_seconds": serializers.FloatField(),
    "range": inline_serializer("ExecutionRange", {
        "from": serializers.CharField(allow_null=True), "to": serializers.CharField(allow_null=True)})})
ExecutionDetail = inline_serializer("ExecutionDetail", {"execution": ExecutionWithJobSerializer()})


def find_job(job_id: str) -> Job:
    job = Job.objects.filter(pk=job_id).only("id", "name").first()
    if job is None:
        raise not_found("Job not found", f"No job found with ID: {job_id}")
    return job


FILTER_PARAMS = [
    query("status", description="success|failed|running|missed|skipped|unknown, or a comma list"),
    query("trigger_type", description="scheduled|manual"),
    query("from", description="YYYY-MM-DD (00:00 UTC) or ISO 8601 date-time; inclusive"),
    query("to", description="YYYY-MM-DD (whole day included) or ISO 8601 date-time; exclusive"),
]


def _filters(params, **extra) -> ExecutionFilters:
    start, end = query_range(params)
    return ExecutionFilters(statuses=split_statuses(params.get("status")),
                            trigger_type=params.get("trigger_type") or None, start=start, end=end, **extra)


def _rate(success: int, total: int) -> float:
    return success * 100 / total if total else 0.0  # the contract's example: 33.333333333333336


class JobExecutionListView(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TAG, summary="A job's executions, newest first", operation_id="job_executions_list",
                   parameters=[path_id("job_id"), bounded("limit", 1, 200, "default 50"), *FILTER_PARAMS],
                   responses={200: JobExecutionList, **errors(404)})
    def get(self, request, job_id: str):
        limit = query_int(request.query_params, "limit", 50, minimum=1, maximum=200)  # checked before the 404
        job = find_job(job_id)
        rows = job_executions(job, _filters(request.query_params), limit=limit)
        # total_executions is the number returned, not the number matching: clients page on it.
        return Response({"job_id": job.id, "job_name": job.name, "total_executions": len(rows),
                         "executions": render_many(ExecutionSerializer, rows)})


class JobExecutionStatsView(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TAG, summary="A job's all-time execution stats", operation_id="job_execution_stats",
                   parameters=[path_id("job_id")],
                   responses={200: JobExecutionStats, **errors(404)})
    def get(self, request, job_id: str):
        job = find_job(job_id)
        totals = job_execution_stats(job)
        latest = latest_execution(job)
        average = totals["average"]
        return Response({
            "job_id": job.id,
            "job_name": job.name,
            "statistics": {
                "total_executions": totals["total"],
                "success_count": totals["success"],
                "failed_count": totals["failed"],
                "running_count": totals["running"],
                "success_rate": round(_rate(totals["success"], totals["total"]), 2),
                "average_duration_seconds": round(average, 2) if average is not None else None,
            },
            "latest_execution": render(ExecutionSerializer, latest) if latest is not None else None,
        })


class JobExecutionDetailView(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TAG, summary="One execution of a job", operation_id="job_execution_detail",
                   parameters=[path_id("job_id"), path_id("execution_id")],
                   responses={200: JobExecutionDetail, **errors(404)})
    def get(self, request, job_id: str, execution_id: str):
        job = find_job(job_id)
        execution = JobExecution.objects.filter(pk=execution_id, job_id=job.id).first()
        if execution is None:
            raise not_found("Execution not found",
                            f"No execution found with ID: {execution_id} for job: {job_id}")
        return Response({"job": {"id": job.id, "name": job.name},
                         "execution": render(ExecutionSerializer, execution)})


class ExecutionListView(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TAG, summary="All executions, paged, newest first", operation_id="executions_list",
                   parameters=[
        bounded("page", 1, 10**9, "default 1"), bounded("limit", 1, 200, "default 20"), query("job_id"),
        query("execution_type", description="github_actions|webhook"), *FILTER_PARAMS],
        responses={200: ExecutionPageSchema, **errors()})
    def get(self, request):
        params = request.query_params
        page = query_int(params, "page", 1, minimum=1, maximum=10**9)
        limit = query_int(params, "limit", 20, minimum=1, maximum=200)
        filters = _filters(params, job_id=params.get("job_id") or None,
                           execution_type=params.get("execution_type") or None)
        result = execution_page(filters, page=page, limit=limit)
        return Response({"executions": render_many(ExecutionWithJobSerializer, result.executions),
                         "total": result.total, "page": page, "limit": limit,
                         "total_pages": result.total_pages})


class ExecutionStatisticsView(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TAG, summary="Execution counts and mean duration over a range",
                   operation_id="executions_statistics",
                   parameters=[query("job_id"), FILTER_PARAMS[2], FILTER_PARAMS[3]],
                   responses={200: ExecutionStatistics, **errors()})
    def get(self, request):
        params = request.query_params
        start, end = query_range(params)
        filters = ExecutionFilters(job_id=params.get("job_id") or None, start=start, end=end)
        totals = execution_statistics(filters)
        # Unrounded rate, and the mean over every execution with a duration (clients format it).
        return Response({
            "total_executions": totals["total"],
            "successful_executions": totals["success"],
            "failed_executions": totals["failed"],
            "running_executions": totals["running"],
            "success_rate": _rate(totals["success"], totals["total"]),
            "average_duration_seconds": float(totals["average"] or 0.0),
            "range": {"from": iso_offset(start), "to": iso_offset(end)},
        })


class ExecutionDetailView(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TAG, summary="One execution with its job's name", operation_id="execution_detail",
                   parameters=[path_id("execution_id")],
                   responses={200: ExecutionDetail, **errors(404)})
    def get(self, request, execution_id: str):
        execution = JobExecution.objects.select_related("job").filter(pk=execution_id).first()
        if execution is None:
            raise not_found("Execution not found", f"No execution found with ID: {execution_id}")
        return Response({"execution": render(ExecutionWithJobSerializer, execution)})
