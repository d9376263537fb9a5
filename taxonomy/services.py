"""Creating, renaming and disabling job categories and PIC teams.

Other apps refer to both by slug without a foreign key (a retired category must
stay readable on old jobs), so a rename announces the new slug
(:data:`taxonomy.signals.slug_renamed`) in the same transaction, and whoever
refers to it follows. Every check (``taxonomy.rules``) runs before anything is
written, so a refused request changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from cronhub.errors import NotFound
from taxonomy import rules
from taxonomy.models import SlugNamed
from taxonomy.rules import slugify as slugify  # jobs derive slugs the same way
from taxonomy.signals import slug_renamed


@dataclass(frozen=True)
class UpdateResult:
    item: SlugNamed
    jobs_updated: int  # rows elsewhere that followed a new slug


def create(model: type[SlugNamed], data: dict) -> SlugNamed:
    """``data``: ``name``, an optional ``slug`` (slugified; defaults to the name's slug) and,
    for a PIC team, ``slack_handle`` (required, free text). Always active."""
    values = rules.creation(model, data)
    try:
        with transaction.atomic():
            return model.objects.create(**values)
    except IntegrityError:  # created concurrently
        raise rules.duplicate(values["slug"], model=model) from None


def _not_found(model: type[SlugNamed], item_id: str) -> NotFound:
    return NotFound("Not found", f"No {rules.label(model)} found with ID: {item_id}")


@transaction.atomic
def update(model: type[SlugNamed], item_id: str, data: dict) -> UpdateResult:
    """``data``: optional ``name`` (renames and re-slugs; references follow), ``is_active`` and,
    for a PIC team, ``slack_handle``."""
    item = model.objects.select_for_update().filter(pk=item_id).first()
    if item is None:
        raise _not_found(model, item_id)
    changes = rules.changes(item, data)
    followed = 0
    if "slug" in changes:
        answers = slug_renamed.send(sender=model, old=item.slug, new=changes["slug"])
        followed = sum(count for _, count in answers if isinstance(count, int))
    for field, value in changes.items():
        setattr(item, field, value)
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:  # the new slug was taken concurrently
        raise rules.duplicate(item.slug, model=model) from None
    return UpdateResult(item=item, jobs_updated=followed)


def disable(model: type[SlugNamed], item_id: str) -> SlugNamed:
    """Soft delete: jobs keep the slug (``general`` stays valid for them: it is the fallback)."""
    item = model.objects.filter(pk=item_id).first()
    if item is None:
        raise _not_found(model, item_id)
    item.is_active = False
    item.save(update_fields=["is_active", "updated_at"])
    return item
