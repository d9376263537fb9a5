"""Serializer fields for the contract's timestamp spellings (see ``formats.py``)."""

from __future__ import annotations

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
