"""The shared sample bulk-upload CSV, with its end dates moved into the future
(they are in early 2026 and the import refuses past end dates)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from jobs.models import scheduler_today

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "sample_bulk_upload.csv"
TEAMS = ("PAM", "CAG", "QA Tech", "O2O", "FSBP")


def sample_path() -> Path:
    if not SAMPLE.exists():
        pytest.skip(f"the shared fixtures are not beside the repository ({SAMPLE} is missing)")
    return SAMPLE


def moved_forward(path: Path) -> bytes:
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
