"""Slack settings, the single global row, admin only. Bodies are rendered by the
serializers that document them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from cronhub.api.base import JsonApiView
from cronhub.api.bodies import json_object, require_json_content_type
from cronhub.api.permissions import IsAdmin
from cronhub.api.schema import ADMIN_ONLY, UNAUTHORIZED, error_a
from cronhub.api.shapes import render
from integrations.api import serializers as s
from integrations.models import SlackSettings
from integrations.services import slack_settings_update


class SlackSettingsView(JsonApiView):
    permission_classes = [IsAdmin]

    @extend_schema(tags=["settings"], responses={
        200: s.SlackSettingsEnvelopeSerializer, 401: UNAUTHORIZED, 403: ADMIN_ONLY},
        summary="Slack settings, with the webhook URL masked (admin)")
    def get(self, request):
        return Response(render(s.SlackSettingsEnvelopeSerializer, {"slack_settings": SlackSettings.load()}))

    @extend_schema(tags=["settings"], request=s.SlackSettingsUpdateSerializer, responses={
        200: s.SlackSettingsUpdateEnvelopeSerializer,
        400: error_a("Content-Type, JSON, or enabled without a webhook URL"),
        401: UNAUTHORIZED, 403: ADMIN_ONLY}, summary="Change the Slack settings (admin)")
    def put(self, request):
        require_json_content_type(request)
        row = slack_settings_update(changes=json_object(request))
        return Response(render(s.SlackSettingsUpdateEnvelopeSerializer,
                               {"message": "Slack settings updated", "slack_settings": row}))
