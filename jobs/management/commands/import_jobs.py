"""``manage.py import_jobs FILE [--dry-run]``: the bulk CSV import from the shell,
with a progress bar and the same per-row report as ``POST /jobs/bulk-upload``."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role, User
from jobs.services.imports import CsvFileError, jobs_import_csv


class Command(BaseCommand):
    help = "Import jobs from a CSV file (same format, checks and report as the bulk-upload API)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file (UTF-8).")
        parser.add_argument("--dry-run", action="store_true", help="Check every row, create nothing.")
        parser.add_argument("--default-github-owner", default=None,
                            help="Owner for rows with repo + workflow but no owner "
                                 "(default DEFAULT_GITHUB_OWNER).")
        parser.add_argument("--user", default=None,
                            help="Username recorded as the jobs' creator "
                                 "(default: the first active admin).")
        parser.add_argument("--json", action="store_true", dest="as_json",
                            help="Print the full report as JSON.")

    def handle(self, *args, file: str, dry_run: bool, default_github_owner, user, as_json: bool, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        creator = self._creator(user)
        try:
            report = jobs_import_csv(data=path.read_bytes(), user=creator, dry_run=dry_run,
                                     default_github_owner=default_github_owner, filename=path.name,
                                     progress=self._progress)
        except CsvFileError as problem:
            raise CommandError(f"Invalid CSV: {problem}") from None
        self.stderr.write("")
        body = report.as_dict()
        if as_json:
            self.stdout.write(_dumps(body))
        else:
            for error in report.errors:
                name = error.get("job_name")
                label = f"row {error['row']}" + (f" ({name})" if name else "")
                detail = f": {error['message']}" if error.get("message") else ""
                self.stdout.write(f"{label}: {error['error']}{detail}")
            verb = "would be created" if dry_run else "created"
            self.stdout.write(f"{body['message']}: {report.created_count} job(s) {verb}, "
                              f"{report.error_count} error(s).")
        if report.failed:
            raise CommandError(body["message"])

    def _creator(self, username: str | None) -> User:
        if username:
            found = User.objects.filter(username=username).first()
            if found is None:
                raise CommandError(f"--user {username}: no such user")
            return found
        admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("created_at").first()
        if admin is None:
            raise CommandError("No active admin to record as the creator: pass --user USERNAME.")
        return admin

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        self.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} rows", ending="")
        self.stderr.flush()


def _dumps(body) -> str:
    return json.dumps(body, ensure_ascii=False, indent=2, default=str)
