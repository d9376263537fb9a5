"""Notifications API: every endpoint acts on the caller's own rows only."""

from __future__ import annotations

import math
from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cronhub.api.errors import ApiError, not_found
from cronhub.api.formats import iso_offset, iso_z, query_bool, query_int, query_range
from cronhub.api.permissions import IsAuthenticatedUser
from cronhub.api.schema import bounded, errors, path_id, query
from notifications import inbox
from notifications.models import Notification

TAG = ["notifications"]
RANGE_PARAMS = [
    query("from", description="YYYY-MM-DD (00:00 UTC) or ISO 8601 date-time; inclusive"),
    query("to", description="YYYY-MM-DD (whole day included) or ISO 8601 date-time; exclusive"),
]


def notification_dict(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id,
        "user_id": notification.user_id,
        "title": notification.title,
        "message": notification.message,
        "type": notification.type,
        "related_job_id": notification.related_job_id,
        "related_execution_id": notification.related_execution_id,
        "is_read": notification.is_read,
        "read_at": iso_offset(notification.read_at),
        "created_at": iso_offset(notification.created_at),
    }


class NotificationSerializer(serializers.Serializer):
    id = serializers.CharField()
    user_id = serializers.CharField()
    title = serializers.CharField()
    message = serializers.CharField()
    type = serializers.CharField()
    related_job_id = serializers.CharField(allow_null=True)
    related_execution_id = serializers.CharField(allow_null=True)
    is_read = serializers.BooleanField()
    read_at = serializers.CharField(allow_null=True)
    created_at = serializers.CharField()


RangeSerializer = inline_serializer("NotificationRange", {
    "from": serializers.CharField(allow_null=True), "to": serializers.CharField(allow_null=True)})


def _range(params) -> tuple[inbox.Range, dict[str, str | None]]:
    start, end = query_range(params)
    return inbox.Range(start, end), {"from": iso_z(start), "to": iso_z(end)}


def _own(request, notification_id: str, *, forbidden: str) -> Notification:
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None:
        raise not_found("Notification not found")
    if notification.user_id != request.user.pk:
        raise ApiError(status.HTTP_403_FORBIDDEN, forbidden)
    return notification


class NotificationListView(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TAG, summary="My notifications, newest first", parameters=[
        bounded("page", 1, 10**9, "default 1"), bounded("per_page", 1, None, "default 20, capped at 100"),
        query("unread_only", bool, "default false"), *RANGE_PARAMS],
        responses={200: inline_serializer("NotificationPage", {
            "notifications": NotificationSerializer(many=True), "total": serializers.IntegerField(),
            "page": serializers.IntegerField(), "per_page": serializers.IntegerField(),
            "total_pages": serializers.IntegerField(), "range": RangeSerializer}), **errors()})
    def get(self, request):
        params = request.query_params
        page = query_int(params, "page", 1, minimum=1, maximum=10**9)
        per_page = min(query_int(params, "per_page", 20, minimum=1), 100)
        unread_only = query_bool(params, "unread_only", False)
        window, echo = _range(params)
        queryset = inbox.notifications_for(request.user, window=window, unread_only=unread_only)
        total = queryset.count()
        offset = (page - 1) * per_page
        ordered = queryset.order_by("-created_at", "-id")
        rows = list(ordered[offset:offset + per_page]) if offset < total else []
        return Response({"notifications": [notification_dict(row) for row in rows], "total": total,
                         "page": page, "per_page": per_page,
                         "total_pages": math.ceil(total / per_page) if total else 0, "range": echo})


class UnreadCountView(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TAG, summary="How many of my notifications are unread", parameters=RANGE_PARAMS,
                   responses={200: inline_serializer("UnreadCount", {
                       "unread_count": serializers.IntegerField(), "range": RangeSerializer}), **errors()})
    def get(self, request):
        window, echo = _range(request.query_params)
        count = inbox.notifications_for(request.user, window=window, unread_only=True).count()
        return Response({"unread_count": count, "range": echo})


class MarkReadView(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TAG, summary="Mark one of my notifications read", request=None,
                   parameters=[path_id("notification_id")], responses={200: inline_serializer(
                       "NotificationRead", {"message": serializers.CharField(),
                                            "notification": NotificationSerializer()}), **errors(403, 404)})
    def put(self, request, notification_id: str):
        notification = _own(request, notification_id,
                            forbidden="Forbidden: Cannot access other users notifications")
        notification.mark_read()
        return Response({"message": "Notification marked as read",
                         "notification": notification_dict(notification)})


class ReadAllView(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TAG, summary="Mark all my notifications read", request=None,
                   responses={200: inline_serializer("ReadAll", {
                       "message": serializers.CharField(), "updated_count": serializers.IntegerField()}),
                       **errors()})
    def put(self, request):
        updated = inbox.notifications_mark_all_read(user=request.user)
        return Response({"message": "All notifications marked as read", "updated_count": updated})


class DeleteReadView(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TAG, summary="Delete my read notifications in a range", parameters=RANGE_PARAMS,
                   responses={200: inline_serializer("DeletedRead", {
                       "deleted_count": serializers.IntegerField(), "range": RangeSerializer}), **errors()})
    def delete(self, request):
        window, echo = _range(request.query_params)
        deleted = inbox.notifications_delete_read(user=request.user, window=window)
        return Response({"deleted_count": deleted, "range": echo})


class NotificationDetailView(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TAG, summary="Delete one of my notifications",
                   parameters=[path_id("notification_id")],
                   responses={200: inline_serializer("NotificationDeleted", {
                       "message": serializers.CharField()}), **errors(403, 404)})
    def delete(self, request, notification_id: str):
        notification = _own(request, notification_id,
                            forbidden="Forbidden: Cannot delete other users notifications")
        notification.delete()
        return Response({"message": "Notification deleted successfully"})
