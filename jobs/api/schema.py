"""OpenAPI helpers for the jobs and notifications views: which error bodies
(``cronhub.api.schema``) each status carries, so the document lists every
response a client can get (the fuzz script and the response-schema tests hold
the server to it)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from cronhub.api.schema import UNAUTHORIZED, ValidationItemSerializer, error_a, error_b


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


ERROR = error_a("Not found, or refused input")
_BY_CODE = {
    400: OpenApiResponse(BadRequestSerializer, description="Invalid input"),
    401: UNAUTHORIZED,
    403: OpenApiResponse(ErrorOrDetailSerializer, description="Role (B) or ownership (A) refused"),
    404: error_a("Not found"),
    409: error_b("Conflict"),
    413: error_a("The upload is too large"),
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """Every endpoint here needs a token (401) and may meet bad input (400)."""
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
