"""Bulk CSV import of jobs, shared by ``POST /jobs/bulk-upload``, ``manage.py
import_jobs`` and the admin.

Each row goes through the job rules (``jobs.rules``) in the order the import has
always reported them (first failure wins, the row is skipped). A real run
creates every valid row in one transaction: valid rows are created, invalid rows
reported, and an unexpected error rolls everything back, so no half-created job
is ever left. Only rows that pass every check reserve their name, so a failed
row never causes a false "Duplicate job name in CSV".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from cronhub import audit
from cronhub.errors import InvalidInput
from cronhub.values import FALSE_WORDS, TRUE_WORDS
from jobs import rules
from jobs.models import Job
from jobs.services.writes import job_create

OP = rules.Op.IMPORT

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
    "email_notifications": ("email notifications", "enable_email_notifications"),
    "notification_emails": ("notification emails", "notification_emails"),
    "notify_on_success": ("notify on success", "notify_on_success"),
    **{f.name: f.csv_headers for f in rules.FIELDS},
}
INACTIVE_WORDS = FALSE_WORDS | {"disable", "disabled", "inactive"}
ON_WORDS = TRUE_WORDS | {"enable", "enabled", "active"}  # the switch columns: anything else is off

# Spreadsheets run a cell that starts with one of these as a formula. The export writes such
# a cell with a leading apostrophe (what a spreadsheet shows as "text"), and a cell that
# already starts with an apostrophe gets one more, so the import can take exactly one off:
# a name "=SUM(A1)" is exported as "'=SUM(A1)" and imported as "=SUM(A1)" again, and "'x" as
# "''x" → "'x". A cell starting with "'" followed by anything else is read as written.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def neutralise_cell(value: str) -> str:
    """A cell a spreadsheet shows as text (see FORMULA_TRIGGERS)."""
    return QUOTE + value if value.startswith((*FORMULA_TRIGGERS, QUOTE)) else value


def restore_cell(value: str) -> str:
    """The value :func:`neutralise_cell` was given."""
    if value.startswith(QUOTE) and value[1:].startswith((*FORMULA_TRIGGERS, QUOTE)):
        return value[1:]
    return value


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
        """Nothing valid and at least one error: the upload answers 400."""
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
    """Decoded, parsed and normalised (blank columns and rows dropped): (header, rows, stats)."""
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
        value = restore_cell(row[index].strip())
        if value:
            return value
    return ""


# --- one row ----------------------------------------------------------------------------------

class RowError(Exception):
    """A row that fails a check: the rule's refusal and what the report adds to it."""

    def __init__(self, problem: InvalidInput, *, with_name: bool = True, **extra: Any):
        super().__init__(problem.text)
        self.body = {"error": problem.error, **({"message": problem.message} if problem.message else {}),
                     **extra}
        self.with_name = with_name


def _error_entry(number: int, cells: dict[str, str], problem: InvalidInput | RowError) -> dict[str, Any]:
    row_error = problem if isinstance(problem, RowError) else RowError(problem)
    entry: dict[str, Any] = {"row": number}
    if row_error.with_name:
        entry["job_name"] = cells["name"] or None
    entry.update(row_error.body)
    return entry


def _check_row(cells: dict[str, str], *, checks: rules.Checks, default_owner: str,
               reserved: set[str], existing: set[str]) -> dict[str, Any]:
    """Model field values for a valid row; raises RowError at the first failed check."""
    target_url = cells["target_url"] or None
    owner, repo, workflow = cells["owner"], cells["repo"], cells["workflow"]
    if cells["dispatch_url"]:
        owner, repo, workflow = rules.dispatch_url(cells["dispatch_url"])
        target_url = None
    elif (shorthand := rules.parse_shorthand(target_url)) is not None:
        owner, repo, workflow = shorthand
        target_url = None
    category = checks.resolver.category(cells["category"])
    end_date = rules.end_date(cells["end_date"], op=OP, today=checks.today)
    try:
        pic_team = checks.resolver.pic_team(cells["pic_team"])
    except InvalidInput as problem:
        raise RowError(problem, pic_team=cells["pic_team"] or None,
                       pic_team_slug=checks.resolver.pic_team_slug_guess(cells["pic_team"])) from None
    name, expression = cells["name"], cells["cron"]
    if not name or not expression:
        raise RowError(InvalidInput("Missing required fields", "name and cron_expression are required."),
                       with_name=False)
    if name in reserved:
        raise RowError(InvalidInput("Duplicate job name in CSV", field="name"))
    name = rules.text(name, "name")
    if name in existing:
        raise rules.duplicate_name(name, op=OP)
    expression = rules.cron_expression(expression)
    declared = rules.declared({f.name: cells[f.name] for f in rules.FIELDS if cells[f.name]})
    metadata = rules.metadata_text(cells["metadata"])
    if cells["branch"] and "branchDetails" not in metadata:
        metadata["branchDetails"] = cells["branch"]
    repo_parts = repo.split("/")
    if len(repo_parts) == 2 and all(part.strip() for part in repo_parts):
        owner, repo = (part.strip() for part in repo_parts)
    rules.check_scheme(target_url, op=OP)
    values = {"target_url": target_url, "github_owner": owner or default_owner or None,
              "github_repo": repo or None, "github_workflow_name": workflow or None}
    if not target_url and not values["github_owner"] and (repo or workflow):
        raise InvalidInput("Missing GitHub owner", 'Provide "github_owner" column or default_github_owner.',
                           field="github_owner")
    rules.complete_targets(values, op=OP)
    if target_url:
        values.update(dict.fromkeys(rules.GITHUB_FIELDS))
    for key in rules.TARGET_FIELDS:
        values[key] = rules.text(values[key], key) or None
    notify = cells["email_notifications"].lower() in ON_WORDS
    emails = rules.notification_emails(cells["notification_emails"].split(",")) if notify else []
    return {
        "name": name, "cron_expression": expression, **values,
        "metadata": metadata or None, "category": category, "end_date": end_date, "pic_team": pic_team,
        "enable_email_notifications": notify, "notification_emails": emails,
        "notify_on_success": notify and cells["notify_on_success"].lower() in ON_WORDS,
        "is_active": cells["status"].lower() not in INACTIVE_WORDS, **declared,
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
    default_owner = (default_github_owner or "").strip() or settings.DEFAULT_GITHUB_OWNER
    checks = rules.Checks()
    report = ImportReport(dry_run=dry_run, stats=stats)
    parsed = [{key: _cell(row, indexes) for key, indexes in columns.items()} for row in rows]
    existing = set(Job.objects.filter(name__in={cells["name"] for cells in parsed if cells["name"]})
                   .values_list("name", flat=True))
    reserved: set[str] = set()
    valid: list[tuple[dict[str, str], dict[str, Any]]] = []
    for number, cells in enumerate(parsed, start=2):
        try:
            values = _check_row(cells, checks=checks, default_owner=default_owner,
                                reserved=reserved, existing=existing)
        except (InvalidInput, RowError) as problem:
            report.errors.append(_error_entry(number, cells, problem))
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
    with transaction.atomic(), audit.acting(audit.IMPORT, user=user):
        for _cells, values in valid:
            job = job_create(data=values, user=user, announce=False,
                             reason=f"Imported from {filename}" if filename else "Imported from CSV")
            report.created_jobs.append(job)
    report.jobs = [{"id": job.id, "name": job.name, "is_active": job.is_active}
                   for job in report.created_jobs]
    return report
