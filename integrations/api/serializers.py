"""Shapes of the Slack settings API: the output serializers render the bodies
(``cronhub.api.shapes.render``) and document them."""

from __future__ import annotations

from rest_framework import serializers

from cronhub.api.fields import ModelShape
from integrations.models import SlackSettings


class SlackSettingsSerializer(ModelShape):
    """The webhook URL is a secret: always masked (scheme and host visible)."""

    webhook_url = serializers.CharField(source="masked_webhook_url", allow_null=True, read_only=True,
                                        help_text="Masked; send it back unchanged to keep the stored URL")

    class Meta:
        model = SlackSettings
        fields = ["id", "is_enabled", "webhook_url", "channel", "created_at", "updated_at"]


class SlackSettingsEnvelopeSerializer(serializers.Serializer):
    slack_settings = SlackSettingsSerializer()


class SlackSettingsUpdateEnvelopeSerializer(serializers.Serializer):
    message = serializers.CharField()
    slack_settings = SlackSettingsSerializer()


class SlackSettingsUpdateSerializer(serializers.Serializer):
    is_enabled = serializers.BooleanField(required=False)
    webhook_url = serializers.CharField(required=False, allow_null=True, allow_blank=True,
                                        help_text="Slack incoming-webhook URL; empty or null clears it; "
                                                  "the masked value read back keeps the stored URL")
    channel = serializers.CharField(required=False, allow_null=True, allow_blank=True,
                                    max_length=SlackSettings._meta.get_field("channel").max_length)
