"""notifications API routes (mounted under /api/v2/). Literal segments come before
``{notification_id}`` so that they are never read as an id."""

from django.urls import path

from notifications.api import views

urlpatterns = [
    path("notifications", views.NotificationListView.as_view()),
    path("notifications/unread-count", views.UnreadCountView.as_view()),
    path("notifications/read-all", views.ReadAllView.as_view()),
    path("notifications/delete-read", views.DeleteReadView.as_view()),
    path("notifications/<str:notification_id>/read", views.MarkReadView.as_view()),
    path("notifications/<str:notification_id>", views.NotificationDetailView.as_view()),
]
