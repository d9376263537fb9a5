"""OpenAPI pieces shared by the jobs and notifications views: the error bodies and
the status codes each kind of endpoint can answer, so the document lists every
response a client can get (schemathesis checks responses against it)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Shapes A and B of API.md §0.7 (``error``/``message`` or ``detail``), with extra keys."""

    error = serializers.CharField(required=False)
    message = serializers.CharField(required=False)
    detail = serializers.JSONField(required=False)


ERROR = OpenApiResponse(ErrorSerializer)


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """Every endpoint here needs a token (401) and may meet bad input (400)."""
    return {code: ERROR for code in sorted({400, 401, *codes})}


def path_id(name: str) -> OpenApiParameter:
    return OpenApiParameter(name, str, OpenApiParameter.PATH, description="Any string; unknown ids are 404.")


def query(name: str, type_=str, description: str = "", **kwargs) -> OpenApiParameter:
    return OpenApiParameter(name, type_, OpenApiParameter.QUERY, required=False, description=description,
                            **kwargs)


def bounded(name: str, low: int, high: int | None, description: str) -> OpenApiParameter:
    """An integer query parameter with the bounds the endpoint enforces."""
    schema = {"type": "integer", "minimum": low, **({"maximum": high} if high is not None else {})}
    return query(name, schema, description)
