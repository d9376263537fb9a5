"""Renaming categories and PIC teams. Jobs store the slug (no foreign key), so a
rename regenerates the slug from the new name and rewrites it in every job, in
one transaction (BEHAVIOR.md §10)."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone

from jobs.models import Job
from taxonomy.models import JobCategory, PicTeam

GENERAL = "general"


class TaxonomyError(ValueError):
    """A refused change: ``error`` and ``message`` are the API's texts."""

    def __init__(self, error: str, message: str, *, status: int = 400):
        super().__init__(message)
        self.error = error
        self.message = message
        self.status = status


def slugify(text: str) -> str:
    """Trim, lowercase, every run outside [a-z0-9] becomes one '-', no '-' at the ends."""
    return re.sub(r"[^a-z0-9]+", "-", (text or "").strip().lower()).strip("-")


def _new_slug(instance: JobCategory | PicTeam, name: str, label: str) -> str:
    name = (name or "").strip()
    if not name:
        raise TaxonomyError("Invalid name", "Name cannot be empty.")
    slug = slugify(name)
    if not slug:
        raise TaxonomyError("Invalid slug", "Unable to generate a valid slug from name.")
    if slug != instance.slug and type(instance).objects.filter(slug=slug).exclude(pk=instance.pk).exists():
        raise TaxonomyError("Duplicate slug", f'{label} slug "{slug}" already exists.', status=409)
    return slug


def category_rename_check(*, category: JobCategory, name: str) -> str:
    """The slug a rename would give, or TaxonomyError explaining why it cannot happen."""
    if category.slug == GENERAL and (name or "").strip() != category.name:
        raise TaxonomyError("Invalid category", 'The "General" category cannot be renamed.')
    return _new_slug(category, name, "Category")


def team_rename_check(*, team: PicTeam, name: str) -> str:
    return _new_slug(team, name, "PIC team")


def _rename(instance, *, name: str, slug: str, job_field: str) -> int:
    old_slug = instance.slug
    instance.name = name.strip()
    instance.slug = slug
    instance.save(update_fields=["name", "slug", "updated_at"])
    if slug == old_slug:
        return 0
    return Job.objects.filter(**{job_field: old_slug}).update(**{job_field: slug}, updated_at=timezone.now())


@transaction.atomic
def category_rename(*, category: JobCategory, name: str) -> int:
    """Rename a category; returns how many jobs had their category slug rewritten."""
    slug = category_rename_check(category=category, name=name)
    return _rename(category, name=name, slug=slug, job_field="category")


@transaction.atomic
def team_rename(*, team: PicTeam, name: str) -> int:
    """Rename a PIC team; returns how many jobs had their pic_team slug rewritten."""
    slug = team_rename_check(team=team, name=name)
    return _rename(team, name=name, slug=slug, job_field="pic_team")
