"""Bulk CSV import of jobs (BEHAVIOR.md §9), shared by ``POST /jobs/bulk-upload``,
``manage.py import_jobs`` and the admin.

Rows are checked in the contract's order (first failure wins, the row is
skipped). A real run creates every valid row in one transaction: valid rows are
created, invalid rows reported, and an unexpected error rolls everything back,
so no half-created job is ever left. Two recommended fixes are applied: only
rows that pass every check reserve their name (no false "Duplicate job name in
CSV" after a failed row) and target URLs must carry a scheme.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from jobs import cron
from jobs.models import Job, scheduler_today
from jobs.references import ReferenceProblem, Resolver, parse_dispatch_url, parse_shorthand
from jobs.services.writes import job_create

ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("job name", "name"),
    "cron": ("cron schedule (jst)", "cron expression", "cron", "cron_expression"),
    "status": ("status", "is_active", "active"),
    "target_url": ("target url", "target_url", "url"),
    "owner": ("github owner", "owner", "github_owner"),
    "repo": ("repo", "github repo", "github_repo"),
    "workflow": ("workflow name", "github workflow name", "github_workflow_name"),
    "dispatch_url": ("dispatch url", "dispatch_url", "github dispatch url", "github_dispatch_url"),
    "category": ("category", "job category", "job_category"),
    "end_date": ("end date", "end_date"),
    "pic_team": ("pic team", "pic_team", "pic team slug", "pic_team_slug"),
    "branch": ("branch", "ref"),
    "metadata": ("request body", "request_body", "metadata"),
    # Addition: a per-job time zone column (default SCHEDULER_TIMEZONE).
    "timezone": ("timezone", "time zone", "time_zone"),
}
INACTIVE_WORDS = {"disable", "disabled", "inactive", "false", "0", "no", "n", "off"}
MAX_LENGTHS = {"name": 255, "cron": 100, "target_url": 500, "owner": 255, "repo": 255, "workflow": 255}
DRY_RUN_WORDS = {"1", "true", "yes", "y", "on"}


class CsvFileError(ValueError):
    """The file as a whole cannot be read as a CSV; ``str()`` is the user message."""


@dataclass
class ImportReport:
    dry_run: bool
    stats: dict[str, int]
    errors: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    created_jobs: list[Job] = field(default_factory=list)

    @property
    def created_count(self) -> int:
        return len(self.jobs)

    @property
    def error_count(self) -> int:
        return len(self.errors)

    @property
    def failed(self) -> bool:
        """Nothing valid and at least one error: the upload answers 400 (API.md §4.5)."""
        return self.created_count == 0 and self.error_count > 0

    @property
    def status_code(self) -> int:
        return 400 if self.failed else 200

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.failed:
            body["error"] = "CSV validation failed" if self.dry_run else "Bulk upload failed"
            body["message"] = ("CSV validation failed" if self.dry_run
                               else "No jobs were created. Fix CSV errors and try again.")
        else:
            body["message"] = "CSV validated successfully" if self.dry_run else "Bulk upload processed"
        body.update({"dry_run": self.dry_run, "stats": self.stats, "created_count": self.created_count,
                     "error_count": self.error_count, "errors": self.errors, "jobs": self.jobs})
        return body


# --- reading the file ---------------------------------------------------------------------

def read_table(data: bytes) -> tuple[list[str], list[list[str]], dict[str, int]]:
    """Decoded, parsed and normalised (BEHAVIOR.md §9.1): (header, rows, stats)."""
    if b"\x00" in data:
        raise CsvFileError("The file is not a CSV text file.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvFileError("The file is not UTF-8 text; save the CSV as UTF-8 and upload it again.") from None
    try:
        raw_rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise CsvFileError(f"The file is not a readable CSV: {exc}.") from None
    if not raw_rows:
        raise CsvFileError("CSV is empty.")
    raw_header, raw_data = raw_rows[0], raw_rows[1:]
    kept = [index for index, name in enumerate(raw_header) if name.strip()]
    if not kept:
        raise CsvFileError("CSV header row has no usable column names.")
    header = [raw_header[index].strip() for index in kept]
    rows = []
    for raw in raw_data:
        padded = raw + [""] * (len(raw_header) - len(raw))
        cells = [padded[index] for index in kept]
        if any(cell.strip() for cell in cells):
            rows.append(cells)
    stats = {
        "original_column_count": len(raw_header),
        "original_row_count": len(raw_data),
        "removed_column_count": len(raw_header) - len(kept),
        "removed_empty_row_count": len(raw_data) - len(rows),
    }
    return header, rows, stats


def _column_map(header: list[str]) -> dict[str, list[int]]:
    """For each field, the column indexes of its aliases in alias order (right-most duplicate wins)."""
    position = {name.lower(): index for index, name in enumerate(header)}
    return {key: [position[alias] for alias in aliases if alias in position]
            for key, aliases in ALIASES.items()}


def _cell(row: list[str], indexes: list[int]) -> str:
    for index in indexes:
        value = row[index].strip()
        if value:
            return value
    return ""


# --- one row ----------------------------------------------------------------------------------

class RowError(Exception):
    def __init__(self, error: str, message: str | None = None, *, with_name: bool = True, **extra: Any):
        super().__init__(message or error)
        self.body = {"error": error, **({"message": message} if message is not None else {}), **extra}
        self.with_name = with_name


def _end_date(raw: str, today: dt.date) -> dt.date:
    if not raw:
        raise RowError("Missing required fields", "end_date (YYYY-MM-DD) is required.")
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise RowError("Invalid end_date", "Invalid end_date. Use YYYY-MM-DD.") from None
    if day < today:
        raise RowError("Invalid end_date", "end_date must be today or in the future (JST).")
    return day


def _check_row(cells: dict[str, str], *, resolver: Resolver, today: dt.date, default_owner: str,
               reserved: set[str], existing: set[str]) -> dict[str, Any]:
    """Model field values for a valid row; raises RowError at the first failed check."""
    target_url = cells["target_url"] or None
    owner, repo, workflow = cells["owner"], cells["repo"], cells["workflow"]
    if cells["dispatch_url"]:
        try:
            owner, repo, workflow = parse_dispatch_url(cells["dispatch_url"])
        except ValueError as problem:
            raise RowError("Invalid dispatch_url", str(problem)) from None
        target_url = None
    elif (shorthand := parse_shorthand(target_url)) is not None:
        owner, repo, workflow = shorthand
        target_url = None
    try:
        category = resolver.category(cells["category"])
    except ReferenceProblem as problem:
        raise RowError("Invalid category", str(problem)) from None
    end_date = _end_date(cells["end_date"], today)
    try:
        pic_team = resolver.pic_team(cells["pic_team"])
    except ReferenceProblem as problem:
        raise RowError("Invalid PIC team", str(problem), pic_team=cells["pic_team"] or None,
                       pic_team_slug=resolver.pic_team_slug_guess(cells["pic_team"])) from None
    name, expression = cells["name"], cells["cron"]
    if not name or not expression:
        raise RowError("Missing required fields", "name and cron_expression are required.", with_name=False)
    if name in reserved:
        raise RowError("Duplicate job name in CSV")
    if name in existing:
        raise RowError("Duplicate job name", f'A job with the name "{name}" already exists.')
    problem = cron.validate(expression)
    if problem is not None:
        raise RowError("Invalid cron expression", problem)
    zone = settings.SCHEDULER_TIMEZONE
    if cells["timezone"]:
        zone = cells["timezone"]
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise RowError("Invalid timezone", f"Unknown time zone {zone!r}: use an IANA name such as "
                           "Asia/Tokyo.") from None
    metadata: Any = {}
    if cells["metadata"]:
        try:
            metadata = json.loads(cells["metadata"])
        except ValueError as exc:
            raise RowError("Invalid JSON in Request Body", str(exc)) from None
        if not isinstance(metadata, dict):
            raise RowError("Invalid Request Body", "Request Body must be a JSON object.")
    if cells["branch"] and "branchDetails" not in metadata:
        metadata["branchDetails"] = cells["branch"]
    repo_parts = repo.split("/")
    if len(repo_parts) == 2 and all(part.strip() for part in repo_parts):
        owner, repo = (part.strip() for part in repo_parts)
    if target_url and "://" not in target_url:
        raise RowError("Invalid target_url", "target_url must include scheme (http:// or https://).")
    if not target_url:
        owner = owner or default_owner
        if not owner and (repo or workflow):
            raise RowError("Missing GitHub owner",
                           'Provide "github_owner" column or default_github_owner.')
        if not (owner and repo and workflow):
            raise RowError("Missing target configuration", "Provide target_url or GitHub config "
                           "(github_owner, github_repo, github_workflow_name).")
    for key, value in (("name", name), ("cron", expression), ("target_url", target_url or ""),
                       ("owner", owner), ("repo", repo), ("workflow", workflow)):
        if len(value) > MAX_LENGTHS[key]:
            raise RowError("Invalid value", f"{ALIASES[key][0].title()} must be at most "
                           f"{MAX_LENGTHS[key]} characters.")
    github = (None, None, None) if target_url else (owner, repo, workflow)
    return {
        "name": name, "cron_expression": expression, "timezone": zone, "target_url": target_url,
        "github_owner": github[0], "github_repo": github[1], "github_workflow_name": github[2],
        "metadata": metadata or None, "category": category, "end_date": end_date, "pic_team": pic_team,
        "enable_email_notifications": False, "notification_emails": [], "notify_on_success": False,
        "is_active": cells["status"].lower() not in INACTIVE_WORDS,
    }


# --- the service ----------------------------------------------------------------------------------

def jobs_import_csv(*, data: bytes, user, dry_run: bool, default_github_owner: str | None = None,
                    filename: str | None = None,
                    progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Check every row and (unless ``dry_run``) create the valid ones in one transaction.

    Raises CsvFileError when the file itself is unusable (not UTF-8, empty, no header).
    ``progress(done, total)`` is called after each row (the command's progress bar).
    """
    header, rows, stats = read_table(data)
    columns = _column_map(header)
    default_owner = (default_github_owner or "").strip() or settings.DEFAULT_GITHUB_OWNER or "Pay-Baymax"
    resolver = Resolver()
    today = scheduler_today()
    report = ImportReport(dry_run=dry_run, stats=stats)
    parsed = [{key: _cell(row, indexes) for key, indexes in columns.items()} for row in rows]
    existing = set(Job.objects.filter(name__in={cells["name"] for cells in parsed if cells["name"]})
                   .values_list("name", flat=True))
    reserved: set[str] = set()
    valid: list[tuple[dict[str, str], dict[str, Any]]] = []
    for number, cells in enumerate(parsed, start=2):
        try:
            values = _check_row(cells, resolver=resolver, today=today, default_owner=default_owner,
                                reserved=reserved, existing=existing)
        except RowError as problem:
            entry: dict[str, Any] = {"row": number}
            if problem.with_name:
                entry["job_name"] = cells["name"] or None
            entry.update(problem.body)
            report.errors.append(entry)
        else:
            reserved.add(values["name"])
            valid.append((cells, values))
        if progress is not None:
            progress(number - 1, len(parsed))
    if dry_run:
        report.jobs = [{"name": values["name"], "is_active": values["is_active"],
                        "cron_expression": values["cron_expression"], "end_date": cells["end_date"],
                        "pic_team": values["pic_team"]} for cells, values in valid]
        return report
    with transaction.atomic():
        for _cells, values in valid:
            job = job_create(data=values, user=user, announce=False)
            report.created_jobs.append(job)
    report.jobs = [{"id": job.id, "name": job.name, "is_active": job.is_active}
                   for job in report.created_jobs]
    return report
