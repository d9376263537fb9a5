"""CORS for every API response, on top of django-cors-headers.

django-cors-headers already gives ``*`` without credentials, an echoed origin
with credentials for a list, and ``Vary: Origin``. The contract adds: preflights
answer ``200 OK`` (text) echoing the requested headers, a preflight from a
disallowed origin is ``400 Disallowed CORS origin``. Being the outermost
middleware, it also decorates error and 500 responses (without the headers a
browser hides the error from the client).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from corsheaders.conf import conf
from corsheaders.middleware import ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_MAX_AGE
from corsheaders.middleware import CorsMiddleware as BaseCorsMiddleware
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers

TEXT = "text/plain; charset=utf-8"


def _is_preflight(request) -> bool:
    return (request.method == "OPTIONS" and "access-control-request-method" in request.headers
            and "origin" in request.headers)


class CorsMiddleware(BaseCorsMiddleware):
    def origin_allowed(self, request) -> bool:
        if conf.CORS_ALLOW_ALL_ORIGINS:
            return True
        origin = request.headers.get("origin", "")
        try:
            url = urlsplit(origin)
        except ValueError:
            return False
        return self.origin_found_in_white_lists(origin, url)

    def check_preflight(self, request):
        request._cors_enabled = self.is_enabled(request)
        if not (request._cors_enabled and _is_preflight(request)):
            return None
        if not self.origin_allowed(request):
            return HttpResponse("Disallowed CORS origin", status=400, content_type=TEXT)
        return HttpResponse("OK", content_type=TEXT)

    def add_response_headers(self, request, response):
        if getattr(request, "_cors_enabled", None) or self.is_enabled(request):
            patch_vary_headers(response, ("Origin",))  # spelled as the contract shows it
        response = super().add_response_headers(request, response)
        enabled = getattr(request, "_cors_enabled", False)
        if enabled and _is_preflight(request) and self.origin_allowed(request):
            requested = request.headers.get("access-control-request-headers")
            if requested:
                response[ACCESS_CONTROL_ALLOW_HEADERS] = requested
            response[ACCESS_CONTROL_MAX_AGE] = str(conf.CORS_PREFLIGHT_MAX_AGE)
        return response
