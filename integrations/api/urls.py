"""integrations API routes (mounted under /api/v2/)."""

from django.urls import path

from integrations.api import views

urlpatterns: list = [
    path("settings/slack", views.SlackSettingsView.as_view(), name="settings-slack"),
]
