"""Rules jobs share with the API, the CSV import and the admin: how a category or
PIC team named by a client resolves to a slug (BEHAVIOR.md §10), and how GitHub
shorthand and dispatch URLs turn into owner/repo/workflow (BEHAVIOR.md §11).
"""

from __future__ import annotations

from integrations import github
from taxonomy.models import JobCategory, PicTeam
from taxonomy.services import slugify

GENERAL = "general"

CATEGORY_UNKNOWN = "Unknown category. Create it in Settings → Categories first, or choose General."
PIC_REQUIRED = "PIC team is required. Create one in Settings → PIC Teams."
PIC_UNKNOWN = "Unknown PIC team. Create it in Settings → PIC Teams first."
PIC_DISABLED = "PIC team is disabled. Enable it in Settings → PIC Teams or choose another."


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


def parse_shorthand(value: str | None) -> tuple[str, str, str] | None:
    """``owner/repo/workflow`` typed where a URL goes (BEHAVIOR.md §11), else None."""
    if not value or not github.is_shorthand(value):
        return None
    owner, repo, workflow = (part for part in value.strip().split("/") if part)
    return owner, repo, workflow


# Any form of BEHAVIOR.md §11, path-only included (Q-B18); ValueError with the contract's text.
parse_dispatch_url = github.parse_dispatch_url
