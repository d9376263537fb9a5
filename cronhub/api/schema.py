"""OpenAPI pieces shared by every app's views: the error bodies and the usual parameters.

Views list them in ``@extend_schema(responses=...)`` so the published document
describes every status an endpoint can answer, and fuzzers can hold the server
to it.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_field
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


class ErrorOrDetailSerializer(serializers.Serializer):
    """A 403 is shape B from the role check (``detail``) or shape A from the ownership check."""

    error = serializers.CharField(required=False)
    message = serializers.CharField(required=False)
    detail = serializers.CharField(required=False)


class BadRequestSerializer(serializers.Serializer):
    """A refused input: ``error`` and usually ``message``; a query or body field that failed
    validation adds the ``detail`` list, a job created without its required fields ``missing_fields``."""

    error = serializers.CharField()
    message = serializers.CharField(required=False)
    detail = ValidationItemSerializer(many=True, required=False)
    missing_fields = serializers.ListField(child=serializers.CharField(), required=False)


_BY_CODE = {
    400: OpenApiResponse(BadRequestSerializer, description="Invalid input"),
    401: UNAUTHORIZED,
    403: OpenApiResponse(ErrorOrDetailSerializer, description="Role (B) or ownership (A) refused"),
    404: error_a("Not found"),
    409: error_b("Conflict"),
    413: error_a("The upload is too large"),
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The error responses of an endpoint that needs a token (401) and reads input (400), plus ``codes``."""
    return {code: _BY_CODE[code] for code in sorted({400, 401, *codes})}


def path_id(name: str) -> OpenApiParameter:
    return OpenApiParameter(name, str, OpenApiParameter.PATH, description="Any string; unknown ids are 404.")


def query(name: str, type_=str, description: str = "", **kwargs) -> OpenApiParameter:
    return OpenApiParameter(name, type_, OpenApiParameter.QUERY, required=False, description=description,
                            **kwargs)


def bounded(name: str, low: int, high: int | None, description: str) -> OpenApiParameter:
    """An integer query parameter with the bounds the endpoint enforces."""
    schema = {"type": "integer", "minimum": low, **({"maximum": high} if high is not None else {})}
    return query(name, schema, description)
