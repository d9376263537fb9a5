"""Creating, renaming and disabling job categories and PIC teams (API.md §4.8–4.9, BEHAVIOR.md §10).

Jobs refer to both by slug without a foreign key, so a rename rewrites the slug
in every matching job (refreshing their ``updated_at``) in the same transaction.
Every check runs before anything is written (Q-A9, Q-A23).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status

from cronhub.api.bodies import truthy
from cronhub.api.errors import ApiError, bad_request
from jobs.models import Job
from taxonomy.models import JobCategory, PicTeam, SlugNamed

GENERAL = "general"
SLUG_MAX_LENGTH = 100
NAME_MAX_LENGTH = 255
HANDLE_MAX_LENGTH = 255

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """Trim, lowercase, runs of characters outside ``[a-z0-9]`` → ``-``, no ``-`` at either end."""
    return _NOT_SLUG.sub("-", text.strip().lower()).strip("-")


@dataclass(frozen=True)
class _Kind:
    model: type[SlugNamed]
    label: str  # in messages: "Category slug ...", "No category found ..."
    job_field: str


CATEGORY = _Kind(JobCategory, "category", "category")
PIC_TEAM = _Kind(PicTeam, "PIC team", "pic_team")


@dataclass(frozen=True)
class UpdateResult:
    item: SlugNamed
    jobs_updated: int


def _name(value: Any, *, missing_error: str, missing_message: str) -> str:
    if value is not None and not isinstance(value, str):
        raise bad_request(missing_error, "Name must be a string.")
    name = (value or "").strip()
    if not name:
        raise bad_request(missing_error, missing_message)
    if len(name) > NAME_MAX_LENGTH:
        raise bad_request("Invalid name", f"Name must be at most {NAME_MAX_LENGTH} characters.")
    return name


def _slug_from(text: str) -> str:
    slug = slugify(text)
    if not slug:
        raise bad_request("Invalid slug", "Unable to generate a valid slug from name.")
    if len(slug) > SLUG_MAX_LENGTH:
        raise bad_request("Invalid slug", f"The slug must be at most {SLUG_MAX_LENGTH} characters.")
    return slug


def _duplicate(kind: _Kind, slug: str) -> ApiError:
    label = "Category" if kind is CATEGORY else kind.label
    return ApiError(status.HTTP_409_CONFLICT, "Duplicate slug", f'{label} slug "{slug}" already exists.')


def _slack_handle(value: Any, *, error: str, message: str) -> str:
    if value is not None and not isinstance(value, str):
        raise bad_request(error, "slack_handle must be a string.")
    handle = (value or "").strip()
    if not handle:
        raise bad_request(error, message)
    if len(handle) > HANDLE_MAX_LENGTH:
        raise bad_request(error, f"slack_handle must be at most {HANDLE_MAX_LENGTH} characters.")
    return handle


def _create(kind: _Kind, data: dict, **extra) -> SlugNamed:
    name = _name(data.get("name"), missing_error="Missing required fields",
                 missing_message='"name" is required.')
    extra = {key: resolve() for key, resolve in extra.items()}
    requested = data.get("slug")
    if requested is not None and not isinstance(requested, str):
        raise bad_request("Invalid slug", "slug must be a string.")
    slug = _slug_from(requested if requested and requested.strip() else name)
    if kind.model.objects.filter(slug=slug).exists():
        raise _duplicate(kind, slug)
    try:
        with transaction.atomic():
            return kind.model.objects.create(slug=slug, name=name, is_active=True, **extra)
    except IntegrityError:  # created concurrently
        raise _duplicate(kind, slug) from None


def _not_found(kind: _Kind, item_id: str) -> ApiError:
    return ApiError(status.HTTP_404_NOT_FOUND, "Not found", f"No {kind.label} found with ID: {item_id}")


@transaction.atomic
def _update(kind: _Kind, item_id: str, data: dict, *, protect_general: bool) -> UpdateResult:
    item = kind.model.objects.select_for_update().filter(pk=item_id).first()
    if item is None:
        raise _not_found(kind, item_id)
    if "slug" in data:  # rejected before anything changes (Q-A23)
        raise bad_request("Invalid payload", "Slug cannot be edited directly; it is derived from name.")
    changes: dict[str, Any] = {}
    new_slug = item.slug
    if "name" in data:
        name = _name(data["name"], missing_error="Invalid name", missing_message="Name cannot be empty.")
        if protect_general and item.slug == GENERAL and name != item.name:
            raise bad_request("Invalid category", 'The "General" category cannot be renamed.')
        new_slug = _slug_from(name)
        if new_slug != item.slug and kind.model.objects.filter(slug=new_slug).exclude(pk=item.pk).exists():
            raise _duplicate(kind, new_slug)
        changes["name"] = name
    if "is_active" in data:
        changes["is_active"] = truthy(data["is_active"])
    if kind is PIC_TEAM and "slack_handle" in data:
        changes["slack_handle"] = _slack_handle(data["slack_handle"], error="Invalid slack_handle",
                                                message="slack_handle cannot be empty.")

    jobs_updated = 0
    if new_slug != item.slug:
        jobs_updated = Job.objects.filter(**{kind.job_field: item.slug}).update(
            **{kind.job_field: new_slug, "updated_at": timezone.now()}
        )
        changes["slug"] = new_slug
    for field, value in changes.items():
        setattr(item, field, value)
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:  # the new slug was taken concurrently
        raise _duplicate(kind, new_slug) from None
    return UpdateResult(item=item, jobs_updated=jobs_updated)


def _disable(kind: _Kind, item_id: str) -> SlugNamed:
    item = kind.model.objects.filter(pk=item_id).first()
    if item is None:
        raise _not_found(kind, item_id)
    item.is_active = False
    item.save(update_fields=["is_active", "updated_at"])
    return item


# --- categories ---------------------------------------------------------------------------

def category_create(*, data: dict) -> JobCategory:
    """``data``: ``name`` and an optional ``slug`` (slugified; defaults to the name's slug)."""
    return _create(CATEGORY, data)


def category_update(*, category_id: str, data: dict) -> UpdateResult:
    """``data``: optional ``name`` (renames and re-slugs, rewriting jobs) and ``is_active``."""
    return _update(CATEGORY, category_id, data, protect_general=True)


def category_disable(*, category_id: str) -> JobCategory:
    """Soft delete: jobs keep the slug (and ``general`` stays valid for them, Q-A15)."""
    return _disable(CATEGORY, category_id)


# --- PIC teams ---------------------------------------------------------------------------

def pic_team_create(*, data: dict) -> PicTeam:
    """``data``: ``name``, ``slack_handle`` (required, free text) and an optional ``slug``."""
    def handle() -> str:
        return _slack_handle(data.get("slack_handle"), error="Missing required fields",
                             message='"slack_handle" is required.')

    return _create(PIC_TEAM, data, slack_handle=handle)


def pic_team_update(*, team_id: str, data: dict) -> UpdateResult:
    """``data``: optional ``name``, ``is_active``, ``slack_handle``."""
    return _update(PIC_TEAM, team_id, data, protect_general=False)


def pic_team_disable(*, team_id: str) -> PicTeam:
    return _disable(PIC_TEAM, team_id)
