"""The input rules of categories and PIC teams, once: the API and the admin both ask these.

:func:`creation` and :func:`changes` check a whole request in a fixed order (the
first refusal wins, so clients always hear the same one) and return the values
to store; they write nothing. Refusals are the project's errors naming the
input field. Lengths come from the model, so a rule cannot allow what the
column cannot store.
"""

from __future__ import annotations

import re
from typing import Any

from cronhub.errors import N_, Conflict, InvalidInput
from cronhub.values import storable_text, truthy
from taxonomy.models import JobCategory, PicTeam, SlugNamed

GENERAL = "general"

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """Trim, lowercase, runs of characters outside ``[a-z0-9]`` → ``-``, no ``-`` at either end."""
    return _NOT_SLUG.sub("-", text.strip().lower()).strip("-")


def max_length(model: type[SlugNamed], name: str) -> int:
    return model._meta.get_field(name).max_length


def label(model: type[SlugNamed]) -> str:
    """How messages name a kind: "category", "PIC team"."""
    return "category" if model is JobCategory else "PIC team"


def _text(value: Any, *, model: type[SlugNamed], field: str, noun: str, error: str, empty: str,
          too_long_error: str) -> str:
    """``value`` trimmed: refused when not a string, empty, or longer than the column."""
    if value is not None and not isinstance(value, str):
        raise InvalidInput(error, N_("%(noun)s must be a string."), params={"noun": noun}, field=field)
    text = storable_text((value or "").strip(), field=field)
    if not text:
        raise InvalidInput(error, empty, field=field)
    longest = max_length(model, field)
    if len(text) > longest:
        raise InvalidInput(too_long_error, N_("%(noun)s must be at most %(longest)s characters."),
                           params={"noun": noun, "longest": longest}, field=field)
    return text


def name(value: Any, *, model: type[SlugNamed], missing_error: str, missing_message: str) -> str:
    """A trimmed, non-empty name; creating says it is missing, renaming that it is empty."""
    return _text(value, model=model, field="name", noun="Name", error=missing_error, empty=missing_message,
                 too_long_error="Invalid name")


def slug_from(text: str, *, model: type[SlugNamed], field: str = "name") -> str:
    """The slug of ``text``; refused when nothing or too much is left of it."""
    slug = slugify(text)
    if not slug:
        raise InvalidInput("Invalid slug", N_("Unable to generate a valid slug from name."), field=field)
    longest = max_length(model, "slug")
    if len(slug) > longest:
        raise InvalidInput("Invalid slug", N_("The slug must be at most %(longest)s characters."),
                           params={"longest": longest}, field=field)
    return slug


def slug_free(slug: str, *, model: type[SlugNamed], exclude_pk: str | None = None,
              field: str = "name") -> None:
    """409 when another category (or team) has ``slug``; on ``name``, where the slug comes from."""
    others = model.objects.filter(slug=slug)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise duplicate(slug, model=model, field=field)


def duplicate(slug: str, *, model: type[SlugNamed], field: str = "name") -> Conflict:
    message = (N_('Category slug "%(slug)s" already exists.') if model is JobCategory
               else N_('PIC team slug "%(slug)s" already exists.'))
    return Conflict("Duplicate slug", message, params={"slug": slug}, field=field)


def slack_handle(value: Any, *, error: str, message: str) -> str:
    """A trimmed, non-empty mention text (``@qa-team``, ``<!subteam^S123>``...)."""
    return _text(value, model=PicTeam, field="slack_handle", noun="slack_handle", error=error, empty=message,
                 too_long_error=error)


def active_flag(value: Any) -> bool:
    return truthy(value)


def creation(model: type[SlugNamed], data: dict) -> dict[str, Any]:
    """The row to create from ``data``: ``name``, optional ``slug`` (slugified; default the
    name's), and for PIC teams a required ``slack_handle``. Always active."""
    values: dict[str, Any] = {
        "name": name(data.get("name"), model=model, missing_error="Missing required fields",
                     missing_message=N_('"name" is required.')),
    }
    if model is PicTeam:
        values["slack_handle"] = slack_handle(data.get("slack_handle"), error="Missing required fields",
                                              message=N_('"slack_handle" is required.'))
    requested = data.get("slug")
    if requested is not None and not isinstance(requested, str):
        raise InvalidInput("Invalid slug", N_("slug must be a string."), field="slug")
    from_slug = bool(requested and requested.strip())
    values["slug"] = slug_from(requested if from_slug else values["name"], model=model,
                               field="slug" if from_slug else "name")
    slug_free(values["slug"], model=model, field="slug" if from_slug else "name")
    values["is_active"] = True
    return values


def changes(item: SlugNamed, data: dict) -> dict[str, Any]:
    """What to change on ``item`` for ``data`` (``name``, ``is_active``, a team's ``slack_handle``):
    a new name brings a new slug. The slug itself cannot be sent: it follows the name."""
    model = type(item)
    if "slug" in data:
        raise InvalidInput("Invalid payload", N_("Slug cannot be edited directly; it is derived from name."),
                           field="slug")
    values: dict[str, Any] = {}
    if "name" in data:
        new_name = name(data["name"], model=model, missing_error="Invalid name",
                        missing_message=N_("Name cannot be empty."))
        if model is JobCategory and item.slug == GENERAL and new_name != item.name:
            # Jobs without a category fall back to it, so its slug must stay.
            raise InvalidInput("Invalid category", N_('The "General" category cannot be renamed.'),
                               field="name")
        slug = slug_from(new_name, model=model)
        if slug != item.slug:
            slug_free(slug, model=model, exclude_pk=item.pk)
            values["slug"] = slug
        values["name"] = new_name
    if "is_active" in data:
        values["is_active"] = active_flag(data["is_active"])
    if model is PicTeam and "slack_handle" in data:
        values["slack_handle"] = slack_handle(data["slack_handle"], error="Invalid slack_handle",
                                              message=N_("slack_handle cannot be empty."))
    return values
