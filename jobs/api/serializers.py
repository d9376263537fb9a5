"""Jobs API: request bodies through ``jobs.rules``, and the job's one response shape.

Input serializers hand the body to the rules (the same ones the CSV import and
the admin use) and only declare fields for the OpenAPI document. The job shape
is one ordered field list, :data:`JOB_FIELDS`: it builds the real body (plain
dicts, because ``GET /jobs`` returns every job at once and DRF's field
machinery would dominate its latency) and the documented schema alike.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import models
from rest_framework import serializers

from cronhub.api.formats import iso_date, iso_z, iso_z_millis, iso_zoned
from cronhub.values import zone
from jobs import rules
from jobs.models import Job
from jobs.services.dispatch import run_overrides, test_run_target


class RulesInput(serializers.Serializer):
    """A body checked by ``jobs.rules``; the declared fields document it, plus every field
    of ``rules.FIELDS`` (typed from the model) as optional."""

    def get_fields(self):
        fields = super().get_fields()
        documented = _model_fields([f.name for f in rules.FIELDS if f.name not in fields])
        for name, model_field in documented.items():
            model_field.required = False
            fields[name] = model_field
        return fields


class JobCreateSerializer(RulesInput):
    """``POST /jobs`` body; ``validated_data`` holds model field values."""

    name = serializers.CharField()
    cron_expression = serializers.CharField()
    end_date = serializers.DateField()
    pic_team = serializers.CharField(required=False, help_text="Slug or display name of an active PIC team.")
    pic_team_slug = serializers.CharField(required=False)
    category = serializers.CharField(required=False, help_text="Slug or display name; default general.")
    timezone = serializers.CharField(required=False, help_text="IANA zone; default SCHEDULER_TIMEZONE.")
    target_url = serializers.CharField(required=False, allow_null=True)
    github_owner = serializers.CharField(required=False, allow_null=True)
    github_repo = serializers.CharField(required=False, allow_null=True)
    github_workflow_name = serializers.CharField(required=False, allow_null=True)
    metadata = serializers.DictField(required=False)
    enable_email_notifications = serializers.BooleanField(required=False)
    notification_emails = serializers.ListField(child=serializers.CharField(), required=False)
    notify_on_success = serializers.BooleanField(required=False)

    def to_internal_value(self, data: Any) -> dict:
        return rules.clean_create(data if isinstance(data, dict) else {})


class JobUpdateSerializer(JobCreateSerializer):
    """``PUT /jobs/{id}`` body (partial): ``validated_data`` holds only the fields that change."""

    name = serializers.CharField(required=False)
    cron_expression = serializers.CharField(required=False)
    end_date = serializers.DateField(required=False)
    is_active = serializers.BooleanField(required=False)

    def to_internal_value(self, data: Any) -> dict:
        return rules.clean_update(self.context["job"], data)


# --- the job's shape ---------------------------------------------------------------------------

JOB_FIELDS: tuple[str, ...] = (
    "id", "name", "cron_expression", "timezone", "target_url", "github_owner", "github_repo",
    "github_workflow_name", "metadata", "category", "end_date", "pic_team", "enable_email_notifications",
    "notification_emails", "notify_on_success", "created_by", "is_active", "created_at", "updated_at",
    *(f.name for f in rules.FIELDS if f.name not in {"timezone"}),
)
# The columns ``Job.objects.values(*JOB_COLUMNS)`` reads for it (``created_by`` is the user id).
JOB_COLUMNS = JOB_FIELDS


def _split_emails(value: str | None) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()] if value else []


# How a stored value is written in the body: by field, else by the model field's type.
_WRITE_FIELD: dict[str, Callable[[Any], Any]] = {
    "metadata": lambda value: value if isinstance(value, dict) else {},
    "notification_emails": _split_emails,
    # Secrets are never returned: header names with masked values, the mask for a set secret.
    **{name: (lambda value, name=name: rules.masked(name, value)) for name in rules.SECRET_FIELDS},
}
_WRITE_TYPE: dict[type, Callable[[Any], Any]] = {
    models.DateTimeField: iso_z,
    models.DateField: iso_date,
}


def _writer(name: str) -> Callable[[Any], Any] | None:
    if name in _WRITE_FIELD:
        return _WRITE_FIELD[name]
    model_field = Job._meta.get_field(name)
    return next((write for kind, write in _WRITE_TYPE.items() if isinstance(model_field, kind)), None)


_WRITERS = tuple((name, _writer(name)) for name in JOB_FIELDS)


def job_row(job: Job) -> dict[str, Any]:
    """A Job instance as the column dict ``Job.objects.values(*JOB_COLUMNS)`` gives."""
    row = {name: getattr(job, Job._meta.get_field(name).attname) for name in JOB_COLUMNS}
    row["last_execution_at"] = getattr(job, "last_execution_at", None)
    return row


def job_dict(row: dict[str, Any]) -> dict[str, Any]:
    """The job's body from a column dict (see ``job_row``)."""
    return {name: row[name] if write is None else write(row[name]) for name, write in _WRITERS}


def job_read_dict(row: dict[str, Any], *, next_execution_at: dt.datetime | None,
                  in_list: bool) -> dict[str, Any]:
    """The job + ``last_execution_at`` (list: Z-millis; elsewhere the detail spelling)
    + ``next_execution_at`` (in the job's zone)."""
    data = job_dict(row)
    last = row["last_execution_at"]
    data["last_execution_at"] = iso_z_millis(last) if in_list else iso_z(last)
    data["next_execution_at"] = iso_zoned(next_execution_at,
                                          zone(row["timezone"]) or zone(settings.SCHEDULER_TIMEZONE))
    return data


def _model_fields(names: list[str]) -> dict[str, serializers.Field]:
    """DRF fields typed from the model, for the documentation of job fields."""
    class Fields(serializers.ModelSerializer):
        class Meta:
            model = Job
            fields = names

    return dict(Fields().get_fields()) if names else {}


# Fields whose body type is not the model column's.
_DOCUMENTED_AS = {
    "id": serializers.CharField(),
    "metadata": serializers.DictField(),
    "notification_emails": serializers.ListField(child=serializers.CharField()),
    "created_by": serializers.CharField(allow_null=True),
    "created_at": serializers.CharField(),
    "updated_at": serializers.CharField(),
    "last_execution_at": serializers.CharField(allow_null=True),
    "next_execution_at": serializers.CharField(allow_null=True),
    "webhook_headers": serializers.DictField(
        child=serializers.CharField(), help_text=f"Header names; every value shows as {rules.MASK!r}."),
    "webhook_signing_secret": serializers.CharField(
        help_text=f"{rules.MASK!r} when a secret is set, else empty; write-only."),
}


class JobSerializer(serializers.Serializer):
    """The schema of a job in responses, from the same field list as ``job_dict``."""

    def get_fields(self):
        typed = _model_fields([name for name in JOB_FIELDS if name not in _DOCUMENTED_AS])
        fields = {}
        for name in (*JOB_FIELDS, "last_execution_at", "next_execution_at"):
            fields[name] = copy.deepcopy(_DOCUMENTED_AS.get(name) or typed[name])
        return fields


class JobListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    jobs = JobSerializer(many=True)
    # Only when ``page`` or ``limit`` was given:
    total = serializers.IntegerField(required=False)
    page = serializers.IntegerField(required=False)
    limit = serializers.IntegerField(required=False)
    total_pages = serializers.IntegerField(required=False)


class JobEnvelopeSerializer(serializers.Serializer):
    message = serializers.CharField(required=False)
    job = JobSerializer()


class DeletedJobRefSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()


class DeletedJobSerializer(serializers.Serializer):
    message = serializers.CharField()
    deleted_job = DeletedJobRefSerializer()


# --- running ---------------------------------------------------------------------------------

class ExecuteSerializer(serializers.Serializer):
    """``POST /jobs/{id}/execute`` overrides (never persisted)."""

    metadata = serializers.DictField(required=False, allow_null=True)
    target_url = serializers.CharField(required=False, allow_null=True)
    dispatch_url = serializers.CharField(required=False, allow_null=True)
    github_owner = serializers.CharField(required=False, allow_null=True)
    github_repo = serializers.CharField(required=False, allow_null=True)
    github_workflow_name = serializers.CharField(required=False, allow_null=True)
    github_token = serializers.CharField(required=False, allow_null=True)

    def to_internal_value(self, data: Any) -> dict:
        return run_overrides(job=self.context["job"], body=data)


class TestRunSerializer(serializers.Serializer):
    """``POST /jobs/test-run`` body: an unsaved target."""

    __test__ = False  # not a pytest test class

    target_url = serializers.CharField(required=False, allow_null=True)
    github_owner = serializers.CharField(required=False, allow_null=True)
    github_repo = serializers.CharField(required=False, allow_null=True)
    github_workflow_name = serializers.CharField(required=False, allow_null=True)
    metadata = serializers.DictField(required=False, allow_null=True)
    timeout_seconds = serializers.FloatField(required=False, help_text="Default 10, clamped to 1..30.")

    def to_internal_value(self, data: Any) -> dict:
        return test_run_target(data)


# --- bulk upload -------------------------------------------------------------------------------

class ImportStatsSerializer(serializers.Serializer):
    original_column_count = serializers.IntegerField()
    original_row_count = serializers.IntegerField()
    removed_column_count = serializers.IntegerField()
    removed_empty_row_count = serializers.IntegerField()


class ImportRowErrorSerializer(serializers.Serializer):
    """A refused row: its number in the file (the header is row 1) and the rule's refusal."""

    row = serializers.IntegerField()
    job_name = serializers.CharField(required=False, allow_null=True)
    error = serializers.CharField()
    message = serializers.CharField(required=False)
    pic_team = serializers.CharField(required=False, allow_null=True)
    pic_team_slug = serializers.CharField(required=False, allow_null=True)


class ImportedJobSerializer(serializers.Serializer):
    """A valid row: created (``id``) or, on a dry run, what would be created."""

    id = serializers.CharField(required=False)
    name = serializers.CharField()
    is_active = serializers.BooleanField()
    cron_expression = serializers.CharField(required=False)
    end_date = serializers.CharField(required=False)
    pic_team = serializers.CharField(required=False)


class ImportReportSerializer(serializers.Serializer):
    """The import's report; ``error`` only when no row was valid (then the answer is a 400)."""

    error = serializers.CharField(required=False)
    message = serializers.CharField()
    dry_run = serializers.BooleanField()
    stats = ImportStatsSerializer()
    created_count = serializers.IntegerField()
    error_count = serializers.IntegerField()
    errors = ImportRowErrorSerializer(many=True)
    jobs = ImportedJobSerializer(many=True)


class BulkUploadRefusedSerializer(serializers.Serializer):
    """400: a bare refusal (no file, not a readable CSV: ``error`` and ``message``) or, when
    no row was valid, the import report with its ``error``. One object rather than a choice
    of two: every report with an ``error`` is also a bare refusal, so "exactly one of" could
    never hold."""

    error = serializers.CharField()
    message = serializers.CharField(required=False)
    dry_run = serializers.BooleanField(required=False)
    stats = ImportStatsSerializer(required=False)
    created_count = serializers.IntegerField(required=False)
    error_count = serializers.IntegerField(required=False)
    errors = ImportRowErrorSerializer(many=True, required=False)
    jobs = ImportedJobSerializer(many=True, required=False)
