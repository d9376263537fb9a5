"""Delete executions older than EXECUTION_RETENTION_DAYS (default 180), in batches."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from jobs.services import executions_prune


class Command(BaseCommand):
    help = "Delete job executions that started more than N days ago (default EXECUTION_RETENTION_DAYS)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-days", type=int, default=None,
                            help=f"default: EXECUTION_RETENTION_DAYS ({settings.EXECUTION_RETENTION_DAYS})")
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, older_than_days=None, batch_size=1000, **options):
        if older_than_days is not None and older_than_days < 0:
            raise CommandError("--older-than-days must be 0 or more")
        deleted = executions_prune(older_than_days=older_than_days, batch_size=max(1, batch_size))
        self.stdout.write(f"Deleted {deleted} execution(s).")
