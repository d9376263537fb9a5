"""Run the weekly end-date maintenance by hand: auto-pause expired jobs, send this week's reminders.

Safe to run twice: a job is paused once and reminded at most once per week.
"""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from jobs.services import end_date_maintenance_run


class Command(BaseCommand):
    help = "Auto-pause jobs past their end date and remind owners of jobs ending within 30 days."

    def add_arguments(self, parser):
        parser.add_argument("--today", help="Pretend today is YYYY-MM-DD (scheduler zone); default: today.")

    def handle(self, *args, today=None, **options):
        day = None
        if today:
            try:
                day = dt.date.fromisoformat(today)
            except ValueError:
                raise CommandError(f"--today: expected YYYY-MM-DD, got {today!r}") from None
        summary = end_date_maintenance_run(today=day)
        self.stdout.write(json.dumps(summary))
