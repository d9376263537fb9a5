"""Serializer fields for the contract's timestamp spellings (see ``formats.py``), and the
read-only rendering of a model that uses them."""

from __future__ import annotations

from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cronhub.api import formats


@extend_schema_field(OpenApiTypes.DATETIME)
class TimestampField(serializers.Field):
    """A read-only instant spelled by one of the ``formats.iso_*`` functions (default ``iso_z``)."""

    def __init__(self, spelling=formats.iso_z, **kwargs):
        kwargs.setdefault("read_only", True)
        self.spelling = spelling
        super().__init__(**kwargs)

    def to_representation(self, value):
        return self.spelling(value)


# A model's columns as a response shape: every listed field read-only, date-times as
# TimestampField (nullable where the column is). Subclasses give Meta.model and Meta.fields.
# (A comment, not a docstring: the OpenAPI document would take it as each shape's description.)
class ModelShape(serializers.ModelSerializer):
    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping,
                                models.DateTimeField: TimestampField}

    def get_extra_kwargs(self):
        extra = super().get_extra_kwargs()
        for name in self.Meta.fields:
            extra.setdefault(name, {})["read_only"] = True
        return extra
