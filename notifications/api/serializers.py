"""Shapes of the notifications API: each serializer documents a body and renders it
(``cronhub.api.shapes.render``)."""

from __future__ import annotations

from rest_framework import serializers

from cronhub.api.fields import TimestampField
from cronhub.api.formats import iso_offset, iso_z


class NotificationSerializer(serializers.Serializer):
    id = serializers.CharField()
    user_id = serializers.CharField()
    title = serializers.CharField()
    message = serializers.CharField()
    type = serializers.CharField()
    related_job_id = serializers.CharField(allow_null=True)
    related_execution_id = serializers.CharField(allow_null=True)
    is_read = serializers.BooleanField()
    read_at = TimestampField(iso_offset, allow_null=True)
    created_at = TimestampField(iso_offset)


# The range the request selected (null: unbounded). Built with type() because "from" is a
# Python keyword and cannot be a class attribute name.
NotificationRangeSerializer = type("NotificationRangeSerializer", (serializers.Serializer,), {
    "from": TimestampField(iso_z, allow_null=True), "to": TimestampField(iso_z, allow_null=True)})


class NotificationPageSerializer(serializers.Serializer):
    notifications = NotificationSerializer(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    per_page = serializers.IntegerField()
    total_pages = serializers.IntegerField()
    range = NotificationRangeSerializer()


class UnreadCountSerializer(serializers.Serializer):
    unread_count = serializers.IntegerField()
    range = NotificationRangeSerializer()


class NotificationReadSerializer(serializers.Serializer):
    message = serializers.CharField()
    notification = NotificationSerializer()


class ReadAllSerializer(serializers.Serializer):
    message = serializers.CharField()
    updated_count = serializers.IntegerField()


class DeletedReadSerializer(serializers.Serializer):
    deleted_count = serializers.IntegerField()
    range = NotificationRangeSerializer()


class NotificationDeletedSerializer(serializers.Serializer):
    message = serializers.CharField()
