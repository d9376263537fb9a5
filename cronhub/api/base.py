"""Base classes for API views: JSON bodies only, and the public (no-auth) variant."""

from __future__ import annotations

from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from cronhub.api.bodies import JSONParser


class JsonApiView(APIView):
    """Reads JSON bodies only, so the OpenAPI document advertises exactly that."""

    parser_classes = [JSONParser]


class PublicApiView(JsonApiView):
    authentication_classes: list = []  # public routes ignore any Authorization header, even a garbage one
    permission_classes = [AllowAny]
