"""OpenAPI pieces shared by every app's views: the error bodies every endpoint may answer.

Views list them in ``@extend_schema(responses=...)`` so the published document
describes every status an endpoint can answer, and fuzzers can hold the server
to it.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Shape A: ``{"error": ..., "message": ...}`` (``message`` absent for some errors)."""

    error = serializers.CharField()
    message = serializers.CharField(required=False)


class DetailSerializer(serializers.Serializer):
    """Shape B: ``{"detail": "..."}`` (auth failures, role checks, unknown routes)."""

    detail = serializers.CharField()


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "integer"}]})
class LocationPartField(serializers.JSONField):
    """One step of a validation error's location: a field name or a list index."""


class ValidationItemSerializer(serializers.Serializer):
    type = serializers.CharField()
    loc = serializers.ListField(child=LocationPartField())
    msg = serializers.CharField()
    input = serializers.JSONField(allow_null=True)
    ctx = serializers.DictField(required=False)


class ValidationErrorSerializer(serializers.Serializer):
    """Shape C, answered with 400: the ``detail`` list plus ``error`` and a readable ``message``."""

    error = serializers.CharField()
    message = serializers.CharField()
    detail = ValidationItemSerializer(many=True)


class ThrottledSerializer(serializers.Serializer):
    error = serializers.CharField()
    message = serializers.CharField()
    detail = serializers.CharField()


def error_a(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


def error_b(description: str) -> OpenApiResponse:
    return OpenApiResponse(DetailSerializer, description=description)


def validation_failed(description: str = "The body or query failed validation") -> OpenApiResponse:
    return OpenApiResponse(ValidationErrorSerializer, description=description)


UNAUTHORIZED = error_b("Missing, invalid or expired token; unknown or deactivated user")
ADMIN_ONLY = error_b("Admin access required")
