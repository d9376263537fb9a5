"""The real URLs plus two routes that crash, to see what a 500 looks like from outside."""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from cronhub.urls import urlpatterns as real_urlpatterns


class CrashingApiView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("boom in a DRF view")


def crashing_django_view(request):
    raise RuntimeError("boom outside DRF")


urlpatterns = [
    path("api/v2/test-crash/drf", CrashingApiView.as_view()),
    path("api/v2/test-crash/django", crashing_django_view),
    *real_urlpatterns,
]

handler404 = "cronhub.api.errors.handler404"
handler500 = "cronhub.api.errors.handler500"
