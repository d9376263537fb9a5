"""Notifications API: every endpoint acts on the caller's own rows only."""

from __future__ import annotations

import math

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from cronhub.api.errors import ApiError, not_found
from cronhub.api.formats import query_bool, query_int, query_range
from cronhub.api.permissions import IsAuthenticatedUser
from cronhub.api.schema import bounded, errors, path_id, query
from cronhub.api.shapes import render
from notifications import inbox
from notifications.api import serializers as s
from notifications.models import Notification

TAG = ["notifications"]
RANGE_PARAMS = [
    query("from", description="YYYY-MM-DD (00:00 UTC) or ISO 8601 date-time; inclusive"),
    query("to", description="YYYY-MM-DD (whole day included) or ISO 8601 date-time; exclusive"),
]


def _range(params) -> tuple[inbox.Range, dict]:
    """The window to select and its echo for the body's ``range``."""
    start, end = query_range(params)
    return inbox.Range(start, end), {"from": start, "to": end}


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
        responses={200: s.NotificationPageSerializer, **errors()})
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
        return Response(render(s.NotificationPageSerializer, {
            "notifications": rows, "total": total, "page": page, "per_page": per_page,
            "total_pages": math.ceil(total / per_page) if total else 0, "range": echo}))


class UnreadCountView(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TAG, summary="How many of my notifications are unread", parameters=RANGE_PARAMS,
                   responses={200: s.UnreadCountSerializer, **errors()})
    def get(self, request):
        window, echo = _range(request.query_params)
        count = inbox.notifications_for(request.user, window=window, unread_only=True).count()
        return Response(render(s.UnreadCountSerializer, {"unread_count": count, "range": echo}))


class MarkReadView(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TAG, summary="Mark one of my notifications read", request=None,
                   parameters=[path_id("notification_id")],
                   responses={200: s.NotificationReadSerializer, **errors(403, 404)})
    def put(self, request, notification_id: str):
        notification = _own(request, notification_id,
                            forbidden="Forbidden: Cannot access other users notifications")
        notification.mark_read()
        return Response(render(s.NotificationReadSerializer, {"message": "Notification marked as read",
                                                             "notification": notification}))


class ReadAllView(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TAG, summary="Mark all my notifications read", request=None,
                   responses={200: s.ReadAllSerializer, **errors()})
    def put(self, request):
        updated = inbox.notifications_mark_all_read(user=request.user)
        return Response(render(s.ReadAllSerializer, {"message": "All notifications marked as read",
                                                     "updated_count": updated}))


class DeleteReadView(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TAG, summary="Delete my read notifications in a range", parameters=RANGE_PARAMS,
                   responses={200: s.DeletedReadSerializer, **errors()})
    def delete(self, request):
        window, echo = _range(request.query_params)
        deleted = inbox.notifications_delete_read(user=request.user, window=window)
        return Response(render(s.DeletedReadSerializer, {"deleted_count": deleted, "range": echo}))


class NotificationDetailView(APIView):
    permission_classes = [IsAuthenticatedUser]

    @extend_schema(tags=TAG, summary="Delete one of my notifications",
                   parameters=[path_id("notification_id")],
                   responses={200: s.NotificationDeletedSerializer, **errors(403, 404)})
    def delete(self, request, notification_id: str):
        notification = _own(request, notification_id,
                            forbidden="Forbidden: Cannot delete other users notifications")
        notification.delete()
        return Response(render(s.NotificationDeletedSerializer,
                               {"message": "Notification deleted successfully"}))
