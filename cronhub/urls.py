"""Root URLs: the admin, the REST API under /api/v2/, and the API documents."""

from django.contrib import admin
from django.urls import include, path

api_v2 = [
    path("", include("accounts.api.urls")),
    path("", include("taxonomy.api.urls")),
    path("", include("jobs.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("integrations.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v2/", include(api_v2)),
]

handler404 = "cronhub.api.errors.handler404"
handler500 = "cronhub.api.errors.handler500"
