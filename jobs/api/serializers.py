"""Jobs API: input checks in the contract's order and the response shapes.

Input serializers run the checks of API.md §4.5 one after the other and stop at
the first failure with the contract's shape-A body (order matters: clients show
the first message). They only validate and shape; ``jobs/writes.py`` saves.
Output functions build plain dicts because ``GET /jobs`` returns every job at
once and DRF's field machinery would dominate its latency; the Serializer
classes around them describe the shapes for the OpenAPI document.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from typing import Any

from django.conf import settings
from rest_framework import serializers

from cronhub.api.errors import bad_request
from cronhub.api.formats import iso_date, iso_z, iso_z_millis, iso_zoned
from jobs import cron
from jobs.api.payload import truthy
from jobs.models import Job, scheduler_today
from jobs.references import ReferenceProblem, Resolver, parse_dispatch_url, parse_shorthand

MAX_LENGTHS = {"name": 255, "cron_expression": 100, "target_url": 500, "github_owner": 255,
               "github_repo": 255, "github_workflow_name": 255, "timezone": 64}
GITHUB_FIELDS = ("github_owner", "github_repo", "github_workflow_name")


# --- small field readers ---------------------------------------------------------------

def text(body: dict, key: str, *, error: str = "Invalid payload") -> str:
    """``str(value).strip()``, with ``null`` read as empty (Q-A13 fix) and objects refused."""
    value = body.get(key)
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        value = str(value)
    if not isinstance(value, str):
        raise bad_request(error, f'"{key}" must be a string.')
    value = value.strip()
    limit = MAX_LENGTHS.get(key)
    if limit is not None and len(value) > limit:
        raise bad_request(error, f'"{key}" must be at most {limit} characters.')
    return value


def check_cron(expression: str) -> None:
    problem = cron.validate(expression)
    if problem is not None:
        raise bad_request("Invalid cron expression", problem)


def check_timezone(value: Any) -> str:
    """An IANA zone name; blank/null → SCHEDULER_TIMEZONE."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return settings.SCHEDULER_TIMEZONE
    message = f"Unknown time zone {value!r}: use an IANA name such as Asia/Tokyo."
    if not isinstance(value, str) or len(value.strip()) > MAX_LENGTHS["timezone"]:
        raise bad_request("Invalid timezone", message)
    name = value.strip()
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise bad_request("Invalid timezone", message) from None
    return name


def check_metadata(value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request("Invalid metadata", "metadata must be a JSON object")
    return value


def check_emails(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise bad_request("Invalid notification_emails", "notification_emails must be a list")
    return [item.strip() for item in value if item.strip()]


def parse_end_date(value: Any, *, missing_error: str, missing_message: str) -> dt.date:
    if value is None or value == "" or value is False:
        raise bad_request(missing_error, missing_message)
    if not isinstance(value, str):
        raise bad_request("Invalid end_date", "Invalid end_date. Use YYYY-MM-DD.")
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise bad_request("Invalid end_date", "Invalid end_date. Use YYYY-MM-DD.") from None
    if day < scheduler_today():
        raise bad_request("Invalid end_date", "end_date must be today or in the future (JST).")
    return day


def normalise_targets(body: dict, *, scheme_message: str) -> dict[str, str | None]:
    """Steps 7–8 of create / 6–7 of update: trimmed values, shorthand → GitHub fields."""
    values: dict[str, str | None] = {}
    for key in ("target_url", *GITHUB_FIELDS):
        if key in body:
            values[key] = text(body, key) or None
    shorthand = parse_shorthand(values.get("target_url"))
    if shorthand is not None:
        values.update(zip(GITHUB_FIELDS, shorthand, strict=True))
        values["target_url"] = None
    url = values.get("target_url")
    if url and "://" not in url:
        raise bad_request("Invalid target_url", scheme_message)
    return values


# --- create ---------------------------------------------------------------------------

class JobCreateSerializer(serializers.Serializer):
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
        body = data if isinstance(data, dict) else {}
        missing = [key for key in ("name", "cron_expression", "end_date") if key not in body]
        if missing:
            raise bad_request("Missing required fields", missing_fields=missing)
        name = text(body, "name")
        if not name:
            raise bad_request("Job name cannot be empty")
        if Job.objects.filter(name=name).exists():
            raise bad_request("Duplicate job name",
                              f'A job with the name "{name}" already exists. Please use a unique name.')
        cron_expression = text(body, "cron_expression", error="Invalid cron expression")
        check_cron(cron_expression)
        zone = check_timezone(body.get("timezone"))
        targets = normalise_targets(body, scheme_message=(
            "target_url must include scheme (http:// or https://). For GitHub dispatch, use "
            "github_owner/github_repo/github_workflow_name or provide owner/repo/workflow."))
        resolver = Resolver()
        try:
            category = resolver.category(body.get("category"))
        except ReferenceProblem as problem:
            raise bad_request("Invalid category", str(problem)) from None
        metadata = check_metadata(body.get("metadata"))
        notify = truthy(body.get("enable_email_notifications"))
        emails = check_emails(body.get("notification_emails", [])) if notify else []
        end_date = parse_end_date(body.get("end_date"), missing_error="Missing required fields",
                                  missing_message='"end_date" is required (YYYY-MM-DD).')
        team_value = body.get("pic_team")
        if team_value is None or team_value == "":
            team_value = body.get("pic_team_slug")
        try:
            pic_team = resolver.pic_team(team_value)
        except ReferenceProblem as problem:
            raise bad_request("Invalid PIC team", str(problem)) from None
        if not targets.get("target_url") and not all(targets.get(key) for key in GITHUB_FIELDS):
            if targets.get("github_repo") and targets.get("github_workflow_name"):
                targets["github_owner"] = settings.DEFAULT_GITHUB_OWNER
            else:
                raise bad_request("Missing target configuration",
                                  'Please provide either "target_url" or GitHub Actions configuration '
                                  "(github_owner, github_repo, github_workflow_name)")
        return {
            "name": name, "cron_expression": cron_expression, "timezone": zone,
            "target_url": targets.get("target_url"),
            **{key: targets.get(key) for key in GITHUB_FIELDS},
            "metadata": metadata or None, "category": category, "end_date": end_date, "pic_team": pic_team,
            "enable_email_notifications": notify, "notification_emails": emails,
            "notify_on_success": notify and truthy(body.get("notify_on_success")),
        }


# --- update ----------------------------------------------------------------------------

class JobUpdateSerializer(JobCreateSerializer):
    """``PUT /jobs/{id}`` body (partial): ``validated_data`` holds only the fields that change,
    checked against the job as it will be after the update (API.md §4.5 PUT, steps 4–18)."""

    name = serializers.CharField(required=False)
    cron_expression = serializers.CharField(required=False)
    end_date = serializers.DateField(required=False)
    is_active = serializers.BooleanField(required=False)

    def to_internal_value(self, body: Any) -> dict:
        job: Job = self.context["job"]
        changes: dict[str, Any] = {}
        if "name" in body:
            name = text(body, "name")
            if not name:
                raise bad_request("Job name cannot be empty")
            if Job.objects.filter(name=name).exclude(pk=job.pk).exists():
                raise bad_request("Duplicate job name", f'A job with the name "{name}" already exists.')
            changes["name"] = name
        if "cron_expression" in body:
            changes["cron_expression"] = text(body, "cron_expression", error="Invalid cron expression")
            check_cron(changes["cron_expression"])
        if "timezone" in body:
            changes["timezone"] = check_timezone(body["timezone"])
        changes.update(normalise_targets(
            body, scheme_message="target_url must include scheme (http:// or https://)."))
        after = {key: changes.get(key, getattr(job, key)) for key in ("target_url", *GITHUB_FIELDS)}
        if not after["target_url"] and after["github_repo"] and after["github_workflow_name"] \
                and not after["github_owner"]:
            changes["github_owner"] = settings.DEFAULT_GITHUB_OWNER
            after["github_owner"] = settings.DEFAULT_GITHUB_OWNER
        if "metadata" in body:
            changes["metadata"] = check_metadata(body["metadata"]) or None
        resolver = Resolver()
        if "category" in body:
            try:
                changes["category"] = resolver.category(body["category"])
            except ReferenceProblem as problem:
                raise bad_request("Invalid category", str(problem)) from None
        if "end_date" in body:
            changes["end_date"] = parse_end_date(body["end_date"], missing_error="Invalid end_date",
                                                 missing_message="end_date is required (YYYY-MM-DD).")
        if "pic_team" in body or "pic_team_slug" in body:
            team_value = body.get("pic_team")
            if team_value is None or team_value == "":
                team_value = body.get("pic_team_slug")
            try:
                changes["pic_team"] = resolver.pic_team(team_value)
            except ReferenceProblem as problem:
                raise bad_request("Invalid PIC team", str(problem)) from None
        notify = job.enable_email_notifications
        if "enable_email_notifications" in body:
            notify = changes["enable_email_notifications"] = truthy(body["enable_email_notifications"])
            if not notify:
                changes["notification_emails"] = []
                changes["notify_on_success"] = False
        if "notification_emails" in body:
            value = body["notification_emails"]
            emails = check_emails([] if value is None else value)
            changes["notification_emails"] = emails if notify else []
        if "notify_on_success" in body:
            changes["notify_on_success"] = notify and truthy(body["notify_on_success"])
        if "is_active" in body:
            changes["is_active"] = truthy(body["is_active"])
        active = changes.get("is_active", job.is_active)
        end_date = changes.get("end_date", job.end_date)
        if active and end_date is not None and end_date < scheduler_today():
            raise bad_request("Job expired",
                              "Job cannot be enabled after end_date has passed. Update end_date first.")
        if not after["target_url"] and not all(after[key] for key in GITHUB_FIELDS):
            raise bad_request("Missing target configuration",
                              "Job must have either target_url or complete GitHub Actions configuration")
        return changes


# --- output ---------------------------------------------------------------------------------

def fast_iso_z(value: dt.datetime | None) -> str | None:
    """``iso_z`` without the zone conversion when the value is already UTC (the database's
    datetimes are): ``GET /jobs`` formats tens of thousands of them."""
    if value is None or value.tzinfo is not dt.UTC:
        return iso_z(value)
    return value.replace(tzinfo=None).isoformat() + "Z"


def fast_iso_z_millis(value: dt.datetime | None) -> str | None:
    if value is None or value.tzinfo is not dt.UTC:
        return iso_z_millis(value)
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def fire_time(value: dt.datetime | None, zone: zoneinfo.ZoneInfo) -> str | None:
    """Zoned spelling; fire times from the cron engine are already on the zone's clock."""
    if value is None or value.tzinfo is not zone or value.microsecond:
        return iso_zoned(value, zone)
    return value.isoformat()


JOB_COLUMNS = ("id", "name", "cron_expression", "timezone", "target_url", "github_owner", "github_repo",
               "github_workflow_name", "metadata", "category", "end_date", "pic_team",
               "enable_email_notifications", "notification_emails", "notify_on_success", "created_by",
               "is_active", "created_at", "updated_at")


def job_row(job: Job) -> dict[str, Any]:
    """A Job instance as the column dict ``Job.objects.values(*JOB_COLUMNS)`` gives."""
    row = {column: getattr(job, column) for column in JOB_COLUMNS if column != "created_by"}
    row["created_by"] = job.created_by_id
    row["last_execution_at"] = getattr(job, "last_execution_at", None)
    return row


def job_dict(row: dict[str, Any]) -> dict[str, Any]:
    """The plain Job of API.md §3.2 (+ ``timezone``) from a column dict (see ``job_row``)."""
    metadata = row["metadata"]
    emails = row["notification_emails"]
    return {
        "id": row["id"],
        "name": row["name"],
        "cron_expression": row["cron_expression"],
        "timezone": row["timezone"],
        "target_url": row["target_url"],
        "github_owner": row["github_owner"],
        "github_repo": row["github_repo"],
        "github_workflow_name": row["github_workflow_name"],
        "metadata": metadata if isinstance(metadata, dict) else {},
        "category": row["category"],
        "end_date": iso_date(row["end_date"]),
        "pic_team": row["pic_team"],
        "enable_email_notifications": row["enable_email_notifications"],
        "notification_emails": [item.strip() for item in emails.split(",") if item.strip()] if emails else [],
        "notify_on_success": row["notify_on_success"],
        "created_by": row["created_by"],
        "is_active": row["is_active"],
        "created_at": fast_iso_z(row["created_at"]),
        "updated_at": fast_iso_z(row["updated_at"]),
    }


def job_read_dict(row: dict[str, Any], *, next_execution_at: dt.datetime | None,
                  in_list: bool) -> dict[str, Any]:
    """JobRead: Job + ``last_execution_at`` (list: Z-millis; elsewhere the detail spelling)
    + ``next_execution_at`` (zoned in the job's zone)."""
    data = job_dict(row)
    last = row["last_execution_at"]
    data["last_execution_at"] = fast_iso_z_millis(last) if in_list else fast_iso_z(last)
    data["next_execution_at"] = fire_time(next_execution_at, _zone(row["timezone"]))
    return data


@functools.lru_cache(maxsize=512)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or settings.SCHEDULER_TIMEZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.SCHEDULER_TIMEZONE)


class JobSerializer(serializers.Serializer):
    """Schema of a job in responses (JobRead of API.md §3.2, plus ``timezone``)."""

    id = serializers.CharField()
    name = serializers.CharField()
    cron_expression = serializers.CharField()
    timezone = serializers.CharField()
    target_url = serializers.CharField(allow_null=True)
    github_owner = serializers.CharField(allow_null=True)
    github_repo = serializers.CharField(allow_null=True)
    github_workflow_name = serializers.CharField(allow_null=True)
    metadata = serializers.DictField()
    category = serializers.CharField()
    end_date = serializers.DateField(allow_null=True)
    pic_team = serializers.CharField(allow_null=True)
    enable_email_notifications = serializers.BooleanField()
    notification_emails = serializers.ListField(child=serializers.CharField())
    notify_on_success = serializers.BooleanField()
    created_by = serializers.CharField(allow_null=True)
    is_active = serializers.BooleanField()
    created_at = serializers.CharField()
    updated_at = serializers.CharField()
    last_execution_at = serializers.CharField(allow_null=True)
    next_execution_at = serializers.CharField(allow_null=True)


class JobListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    jobs = JobSerializer(many=True)


class JobEnvelopeSerializer(serializers.Serializer):
    message = serializers.CharField(required=False)
    job = JobSerializer()


class DeletedJobSerializer(serializers.Serializer):
    message = serializers.CharField()
    deleted_job = serializers.DictField(child=serializers.CharField())


# --- execute -------------------------------------------------------------------------------

class ExecuteSerializer(serializers.Serializer):
    """``POST /jobs/{id}/execute`` overrides (never persisted), checked in the contract's order."""

    metadata = serializers.DictField(required=False, allow_null=True)
    target_url = serializers.CharField(required=False, allow_null=True)
    dispatch_url = serializers.CharField(required=False, allow_null=True)
    github_owner = serializers.CharField(required=False, allow_null=True)
    github_repo = serializers.CharField(required=False, allow_null=True)
    github_workflow_name = serializers.CharField(required=False, allow_null=True)
    github_token = serializers.CharField(required=False, allow_null=True)

    def to_internal_value(self, body: Any) -> dict:
        job: Job = self.context["job"]
        if body.get("metadata") is not None and not isinstance(body["metadata"], dict):
            raise bad_request("Invalid payload", '"metadata" must be a JSON object.')
        for key in ("target_url", "dispatch_url", "github_token", *GITHUB_FIELDS):
            value = body.get(key)
            if value is not None and not isinstance(value, str):
                raise bad_request("Invalid payload", f'"{key}" must be a string.')
        overrides = {key: body[key] for key in body if key in self.fields}
        if job.target_url:
            url = (body.get("target_url") or "").strip() or job.target_url
            effective_ok = bool(url)
        else:
            owner, repo, workflow = job.github_owner, job.github_repo, job.github_workflow_name
            if (body.get("dispatch_url") or "").strip():
                try:
                    owner, repo, workflow = parse_dispatch_url(body["dispatch_url"])
                except ValueError as problem:
                    raise bad_request("Invalid payload", str(problem)) from None
            # Explicit fields win over dispatch_url; an empty one means the job's own value.
            explicit = [(body.get(key) or "").strip() or getattr(job, key) if key in body else None
                        for key in GITHUB_FIELDS]
            owner, repo, workflow = (e if e is not None else d
                                     for e, d in zip(explicit, (owner, repo, workflow), strict=True))
            effective_ok = bool(owner and repo and workflow)
        if not effective_ok:
            raise bad_request("Missing target configuration",
                              "Job has no valid target configuration to execute.")
        return overrides


class TestRunSerializer(serializers.Serializer):
    """``POST /jobs/test-run`` body: an unsaved target (API.md §4.5, checks in its order)."""

    __test__ = False  # not a pytest test class

    target_url = serializers.CharField(required=False, allow_null=True)
    github_owner = serializers.CharField(required=False, allow_null=True)
    github_repo = serializers.CharField(required=False, allow_null=True)
    github_workflow_name = serializers.CharField(required=False, allow_null=True)
    metadata = serializers.DictField(required=False, allow_null=True)
    timeout_seconds = serializers.FloatField(required=False, help_text="Default 10, clamped to 1..30.")

    def to_internal_value(self, body: Any) -> dict:
        metadata = body.get("metadata")
        if metadata and not isinstance(metadata, dict):
            raise bad_request("Invalid metadata", '"metadata" must be an object.')
        values = {key: text(body, key) or None for key in ("target_url", *GITHUB_FIELDS)}
        if not values["target_url"] and not all(values[key] for key in GITHUB_FIELDS):
            raise bad_request("Missing target configuration", "Provide target_url or GitHub config "
                              "(github_owner, github_repo, github_workflow_name).")
        timeout = body.get("timeout_seconds")
        if timeout is None:
            timeout = 10
        try:
            if isinstance(timeout, bool) or not isinstance(timeout, int | float | str):
                raise ValueError
            timeout = float(timeout)
            if timeout != timeout or timeout in (float("inf"), float("-inf")):
                raise ValueError
        except ValueError:
            raise bad_request("Invalid payload", '"timeout_seconds" must be a number.') from None
        url = values["target_url"]
        if url and not url.lower().startswith(("http://", "https://")):
            raise bad_request("Invalid target_url", "Webhook URL must start with http:// or https://")
        return {**values, "metadata": metadata or {}, "timeout_seconds": timeout}
