"""Root URLs: the admin, the REST API under /api/v2/, and the API documents."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularRedocView, SpectacularSwaggerView

from cronhub.api.views import (
    ApiIndexView,
    HealthView,
    LivenessView,
    ReadinessView,
    SchedulerHealthView,
    WelcomeView,
)

api_v2 = [
    path("", ApiIndexView.as_view(), name="api-index"),
    path("health", HealthView.as_view(), name="health"),
    path("health/live", LivenessView.as_view(), name="health-live"),
    path("health/ready", ReadinessView.as_view(), name="health-ready"),
    path("health/scheduler", SchedulerHealthView.as_view(), name="health-scheduler"),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    path("", include("accounts.api.urls")),
    path("", include("taxonomy.api.urls")),
    path("", include("jobs.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("integrations.api.urls")),
]

urlpatterns = [
    path("", WelcomeView.as_view(), name="welcome"),
    path("docs", SpectacularSwaggerView.as_view(url_name="openapi"), name="docs"),
    path("redoc", SpectacularRedocView.as_view(url_name="openapi"), name="redoc"),
    path("admin/", admin.site.urls),
    path("api/v2/", include(api_v2)),
]

handler404 = "cronhub.api.errors.handler404"
handler500 = "cronhub.api.errors.handler500"
