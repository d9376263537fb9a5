"""The language and the clock of each request.

Runs after ``LocaleMiddleware`` (which read the browser's Accept-Language) and
after authentication:

- ``/api/`` (and the API documents) are always English: clients match on its texts.
  The project's refusals keep their English text whatever language is active
  (``cronhub/errors.py``); what else the API says through gettext (cron descriptions,
  DRF's own messages) is English because this pins the language. Instants in API
  bodies follow ``cronhub/api/formats.py``, whatever zone is active.
- Pages: the signed-in user's UI preference (``UiPreferences.language``) wins over
  the browser; the zone is the user's ``UiPreferences.timezone``, else the
  scheduler's (``SCHEDULER_TIMEZONE``).
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers

from accounts.models import UiPreferences
from cronhub.values import zone as iana_zone

ENGLISH_PATHS = ("/api/", "/docs", "/redoc", "/openapi")


def is_api_path(path: str) -> bool:
    return path.startswith(ENGLISH_PATHS)


def _preferences(user):
    """The user's page settings, or None. A database that cannot answer is left to the view,
    which reports it (a 503 page): a preference never turns that into a 500 here."""
    try:
        if user is None or not user.is_authenticated:
            return None
        return UiPreferences.objects.filter(user=user).only("language", "timezone").first()
    except DatabaseError:
        return None


class UserLocaleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_api_path(request.path_info):
            language, zone = "en", None
        else:
            prefs = _preferences(getattr(request, "user", None))
            language = (prefs.language if prefs and prefs.language else None) or translation.get_language()
            zone = iana_zone(prefs.timezone) if prefs and prefs.timezone else None
            zone = zone or zoneinfo.ZoneInfo(settings.SCHEDULER_TIMEZONE)
        request.LANGUAGE_CODE = language
        with translation.override(language):
            if zone is None:
                response = self.get_response(request)
            else:
                with timezone.override(zone):
                    response = self.get_response(request)
        response.headers["Content-Language"] = language
        if not is_api_path(request.path_info):
            patch_vary_headers(response, ("Cookie",))
        return response
