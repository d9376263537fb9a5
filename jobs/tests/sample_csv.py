"""The sample bulk-upload CSV (``fixtures/sample_bulk_upload.csv``) and the helper
that moves its end dates into the future.

The file has the shape of a real team's upload, with project names and Slack ids
made up: GitHub ``workflow_dispatch`` jobs with multi-line JSON request bodies,
weekday crons (some with a trailing space), Enable/Disable statuses and five PIC
teams. 108 rows name 46 jobs (62 rows repeat a name for another weekday, which the
import refuses as duplicates); 25 of the 46 are enabled. Its end dates are in early
2026, so an unmodified upload fails on them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from jobs.models import scheduler_today

SAMPLE = Path(__file__).resolve().parent / "fixtures" / "sample_bulk_upload.csv"
TEAMS = ("PAM", "CAG", "QA Tech", "O2O", "FSBP")


def sample_path() -> Path:
    return SAMPLE


def moved_forward(path: Path = SAMPLE) -> bytes:
    """The file with every End Date shifted by whole years so the earliest is after today."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    column = rows[0].index("End Date")
    dates = [dt.date.fromisoformat(row[column]) for row in rows[1:] if row and row[column].strip()]
    years = max(0, scheduler_today().year - min(dates).year + 1)
    for row in rows[1:]:
        if row and row[column].strip():
            day = dt.date.fromisoformat(row[column])
            row[column] = day.replace(year=day.year + years).isoformat()
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()
