"""One declaration per response shape: the serializer class that documents it.

A body is rendered from the same serializer drf-spectacular reads for the
OpenAPI document, so the document and the wire cannot list different keys,
order or types. ``render(Serializer, source)`` gives what
``Serializer(source).data`` gives, as plain dicts and lists, but several times
faster on long lists: the declared fields are compiled once into a plan, and a
value that already has its JSON type (``str`` for a ``CharField``, ``bool``,
``int``, ``float``) skips DRF's per-field conversion, which would return it
unchanged. ``source`` is a model instance, any object, or a dict (envelopes);
nested serializers render nested sources the same way.

A key the source lacks follows DRF's rules: an optional field (``required=False``)
is left out, a nullable one is ``null``, a required one is an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Manager
from rest_framework import relations, serializers
from rest_framework.fields import SkipField, is_simple_callable

# Field classes whose to_representation returns a value of this type unchanged.
_NATIVE: tuple[tuple[type[serializers.Field], type], ...] = (
    (serializers.BooleanField, bool),
    (serializers.IntegerField, int),
    (serializers.FloatField, float),
    (serializers.CharField, str),
)

_plans: dict[type, tuple] = {}


def _native_type(field: serializers.Field) -> type | None:
    for base, native in _NATIVE:
        if isinstance(field, base) and type(field).to_representation is base.to_representation:
            return native
    return None


def _converter(field: serializers.Field):
    """How a non-null value of this field becomes JSON."""
    if isinstance(field, serializers.ListSerializer):
        child = type(field.child)
        return lambda value: render_many(child, value)
    if isinstance(field, serializers.BaseSerializer):
        nested = type(field)
        return lambda value: render(nested, value)
    if isinstance(field, serializers.ListField) and _native_type(field.child) is not None:
        native, child = _native_type(field.child), field.child.to_representation
        return lambda value: [item if item is None or type(item) is native else child(item) for item in value]
    return field.to_representation


def _plan(serializer_class: type[serializers.BaseSerializer]) -> tuple:
    plan = _plans.get(serializer_class)
    if plan is None:
        steps = []
        for name, field in serializer_class().fields.items():
            if field.write_only:
                continue
            # A plain attribute or key is read directly; relations, "*" and dotted sources the DRF way.
            direct = (field.source_attrs[0] if len(field.source_attrs) == 1
                      and not isinstance(field, relations.RelatedField | relations.ManyRelatedField
                                         | serializers.SerializerMethodField) else None)
            steps.append((name, direct, field, _native_type(field), _converter(field)))
        plan = _plans[serializer_class] = tuple(steps)
    return plan


_SKIP = object()


def _drf_attribute(field: serializers.Field, source: Any) -> Any:
    """DRF's own lookup: defaults, nulls for missing nullable keys, skipped optional keys."""
    try:
        return field.get_attribute(source)
    except SkipField:
        return _SKIP


def render(serializer_class: type[serializers.BaseSerializer], source: Any) -> dict[str, Any]:
    """``serializer_class(source).data`` as a plain dict."""
    out: dict[str, Any] = {}
    is_dict = isinstance(source, dict)
    for name, direct, field, native, convert in _plan(serializer_class):
        if direct is None:
            value = _drf_attribute(field, source)
        else:
            try:
                value = source[direct] if is_dict else getattr(source, direct)
            except (KeyError, AttributeError):
                value = _drf_attribute(field, source)
            except ObjectDoesNotExist:
                value = None
        if type(value) is native or value is None:
            out[name] = value
        elif value is not _SKIP:
            if callable(value) and is_simple_callable(value):
                value = value()
            if isinstance(value, relations.PKOnlyObject):
                out[name] = None if value.pk is None else convert(value)
            else:
                out[name] = None if value is None else convert(value)
    return out


def render_many(serializer_class: type[serializers.BaseSerializer], sources: Iterable[Any]) -> list[dict]:
    """``serializer_class(sources, many=True).data`` as a plain list."""
    if isinstance(sources, Manager):
        sources = sources.all()
    return [render(serializer_class, source) for source in sources]
