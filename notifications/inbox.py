"""A user's own inbox: the reads and bulk writes behind the notifications API.

(Creating notifications is ``notifications.services``' job; this module only
reads, marks and deletes what a user already has.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from notifications.models import Notification


@dataclass(frozen=True)
class Range:
    """``created_at`` window: inclusive start, exclusive end, either open."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None

    def apply(self, queryset: QuerySet[Notification]) -> QuerySet[Notification]:
        if self.start is not None:
            queryset = queryset.filter(created_at__gte=self.start)
        if self.end is not None:
            queryset = queryset.filter(created_at__lt=self.end)
        return queryset


EVER = Range()


def notifications_for(user, *, window: Range = EVER, unread_only: bool = False) -> QuerySet[Notification]:
    queryset = window.apply(Notification.objects.filter(user=user))
    return queryset.filter(is_read=False) if unread_only else queryset


def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(user=user, is_read=False).update(is_read=True, read_at=timezone.now())


def notifications_delete_read(*, user, window: Range = EVER) -> int:
    deleted, _ = notifications_for(user, window=window).filter(is_read=True).delete()
    return deleted
