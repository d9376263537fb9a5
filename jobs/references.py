"""Rules jobs share with the API, the CSV import and the admin: how a category or
PIC team named by a client resolves to a slug (BEHAVIOR.md §10), and how GitHub
shorthand and dispatch URLs turn into owner/repo/workflow (BEHAVIOR.md §11).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from taxonomy.models import JobCategory, PicTeam

GENERAL = "general"

CATEGORY_UNKNOWN = "Unknown category. Create it in Settings → Categories first, or choose General."
PIC_REQUIRED = "PIC team is required. Create one in Settings → PIC Teams."
PIC_UNKNOWN = "Unknown PIC team. Create it in Settings → PIC Teams first."
PIC_DISABLED = "PIC team is disabled. Enable it in Settings → PIC Teams or choose another."
DISPATCH_URL_INVALID = (
    "Invalid dispatch URL format. Expected one of: <owner>/<repo>/<workflow>, "
    "/<owner>/<repo>/actions/workflows/<workflow>, or "
    "https://github.com/<owner>/<repo>/actions/workflows/<workflow>."
)

_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """``"  Smoke Tests!! "`` → ``smoke-tests``; non-Latin text → ``""``."""
    return _NON_SLUG.sub("-", (text or "").strip().lower()).strip("-")


class ReferenceProblem(ValueError):
    """A category or PIC team that cannot be used; ``str()`` is the user message."""


class Resolver:
    """Caches lookups for one request or one CSV file (one query per table)."""

    def __init__(self):
        self._categories = None
        self._teams = None

    def _load(self):
        if self._categories is None:
            self._categories = list(JobCategory.objects.all())
            self._teams = list(PicTeam.objects.all())

    @staticmethod
    def _find(rows, value: str):
        slug = slugify(value)
        for row in rows:
            if slug and row.slug == slug:
                return slug, row
        lowered = value.strip().lower()
        for row in rows:
            if row.name.strip().lower() == lowered:
                return row.slug, row
        return slug, None

    def category(self, value) -> str:
        """A category slug; ``general`` when blank. Raises ReferenceProblem when unknown.

        Disabled categories stay assignable and ``general`` is always valid (Q-A15).
        """
        if value is None or (isinstance(value, str) and not value.strip()):
            return GENERAL
        if not isinstance(value, str):
            raise ReferenceProblem(CATEGORY_UNKNOWN)
        self._load()
        slug, found = self._find(self._categories, value)
        if slug == GENERAL:
            return GENERAL
        if found is None:
            raise ReferenceProblem(CATEGORY_UNKNOWN)
        return slug

    def pic_team(self, value) -> str:
        """An active PIC team's slug. Raises ReferenceProblem with the contract's messages."""
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ReferenceProblem(PIC_REQUIRED)
        if not isinstance(value, str):
            raise ReferenceProblem(PIC_UNKNOWN)
        self._load()
        slug, found = self._find(self._teams, value)
        if found is None:
            raise ReferenceProblem(PIC_UNKNOWN)
        if not found.is_active:
            raise ReferenceProblem(PIC_DISABLED)
        return slug

    def pic_team_slug_guess(self, value) -> str | None:
        """The slug a raw PIC-team cell resolves to (for error reports), or None."""
        if not isinstance(value, str) or not value.strip():
            return None
        self._load()
        return self._find(self._teams, value)[0] or None


def _segments(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def parse_shorthand(value: str | None) -> tuple[str, str, str] | None:
    """``owner/repo/workflow`` (no scheme, three segments, no dot in the owner) or None."""
    text = (value or "").strip()
    if not text or "://" in text:
        return None
    parts = _segments(text)
    if len(parts) == 3 and "." not in parts[0]:
        return parts[0], parts[1], parts[2]
    return None


def parse_dispatch_url(value: str) -> tuple[str, str, str]:
    """A GitHub dispatch URL in any form of BEHAVIOR.md §11 → (owner, repo, workflow).

    Raises ValueError with the contract's message. The path-only form
    ``/<owner>/<repo>/actions/workflows/<workflow>`` is accepted (Q-B18 fix).
    """
    text = (value or "").strip()
    if not text:
        raise ValueError(DISPATCH_URL_INVALID)
    has_scheme = "://" in text
    if has_scheme:
        path_parts = _segments(urlsplit(text).path)
    elif text.startswith("/"):
        path_parts = _segments(text)  # path only: there is no host to skip
    else:
        path_parts = _segments(urlsplit("https://" + text).path)
    for start in (("repos",), ()):
        offset = len(start)
        if (len(path_parts) >= offset + 5 and tuple(path_parts[:offset]) == start
                and path_parts[offset + 2] == "actions" and path_parts[offset + 3] == "workflows"):
            return path_parts[offset], path_parts[offset + 1], path_parts[offset + 4]
    if not has_scheme:
        bare = _segments(text)
        if len(bare) == 3:
            return bare[0], bare[1], bare[2]
    raise ValueError(DISPATCH_URL_INVALID)
