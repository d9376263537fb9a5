"""Trailing-slash requests under /api/ answer 307 to the slash-less path (API.md §0.1)."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.urls import Resolver404, resolve


class ApiTrailingSlashRedirectMiddleware:
    """307 keeps the method and body, so clients that follow redirects still work.
    No body and no auth check, exactly as the previous server answered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if path.startswith("/api/") and path.endswith("/") and path.rstrip("/") not in ("/api", "/api/v2"):
            location = request.build_absolute_uri(path.rstrip("/"))
            query = request.META.get("QUERY_STRING")
            if query:
                location = f"{location}?{query}"
            response = HttpResponse(status=307)
            response["Location"] = location
            return response
        return self.get_response(request)


class ApiHeadNotAllowedMiddleware:
    """``HEAD`` on an API route is 405 (API.md §0.1): Django would otherwise answer it with the GET view.

    Unknown paths stay 404, so the route is resolved first, as the contract orders the checks.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "HEAD" and request.path.startswith("/api/"):
            try:
                resolve(request.path_info)
            except Resolver404:
                return JsonResponse({"detail": "Not Found"}, status=404)
            return JsonResponse({"detail": "Method Not Allowed"}, status=405)
        return self.get_response(request)
