"""The OpenAPI document (/api/v2/openapi.json) and its viewers (/docs, /redoc)."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from cronhub.api.views import HealthView

pytestmark = pytest.mark.django_db

# Every operation of this part of the API: health, auth, users and their preferences, taxonomy, Slack.
OPERATIONS = {
    ("/api/v2/health", "get"),
    ("/api/v2/auth/login", "post"),
    ("/api/v2/auth/login/form", "post"),
    ("/api/v2/auth/refresh", "post"),
    ("/api/v2/auth/me", "get"),
    ("/api/v2/auth/verify", "get"),
    ("/api/v2/auth/logout", "post"),
    ("/api/v2/auth/register", "post"),
    ("/api/v2/auth/users", "get"),
    ("/api/v2/auth/users/{user_id}", "get"),
    ("/api/v2/auth/users/{user_id}", "put"),
    ("/api/v2/auth/users/{user_id}", "delete"),
    ("/api/v2/auth/users/{user_id}/preferences", "get"),
    ("/api/v2/auth/users/{user_id}/preferences", "put"),
    ("/api/v2/auth/users/{user_id}/ui-preferences", "get"),
    ("/api/v2/auth/users/{user_id}/ui-preferences", "put"),
    ("/api/v2/job-categories", "get"),
    ("/api/v2/job-categories", "post"),
    ("/api/v2/job-categories/{category_id}", "put"),
    ("/api/v2/job-categories/{category_id}", "delete"),
    ("/api/v2/pic-teams", "get"),
    ("/api/v2/pic-teams", "post"),
    ("/api/v2/pic-teams/{team_id}", "put"),
    ("/api/v2/pic-teams/{team_id}", "delete"),
    ("/api/v2/settings/slack", "get"),
    ("/api/v2/settings/slack", "put"),
}
PUBLIC = {("/api/v2/health", "get"), ("/api/v2/auth/login", "post"), ("/api/v2/auth/login/form", "post")}


@pytest.fixture(scope="module")
def document(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/v2/openapi.json", HTTP_AUTHORIZATION="Bearer garbage")
    assert response.status_code == 200
    return response.json()


def test_the_document_is_public_openapi_3_listing_health(document):
    assert document["openapi"].startswith("3.")
    assert "/api/v2/health" in document["paths"]
    assert document["info"]["title"] == "cronhub API"
    validate_schema(document)


def test_every_operation_of_this_part_is_documented_with_responses(document):
    documented = {(p, m) for p, ops in document["paths"].items() for m in ops if m != "parameters"}
    assert documented >= OPERATIONS
    for route, method in OPERATIONS:
        operation = document["paths"][route][method]
        success = [code for code in operation["responses"] if code.startswith("2")]
        assert success, (route, method)
        assert "content" in operation["responses"][success[0]], (route, method)
        if method in ("post", "put") and route != "/api/v2/auth/refresh":
            assert "requestBody" in operation, (route, method)


def test_protected_operations_use_the_bearer_scheme_and_document_401(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["type"] == "http" and schemes["bearerAuth"]["scheme"] == "bearer"
    assert schemes["bearerAuth"]["bearerFormat"] == "JWT or API token (chub_...)"
    for route, method in OPERATIONS - PUBLIC:
        operation = document["paths"][route][method]
        names = {name for requirement in operation["security"] for name in requirement}
        assert names & {"bearerAuth", "refreshToken"}, (route, method)
        assert "401" in operation["responses"], (route, method)
    for route, method in PUBLIC:
        assert document["paths"][route][method].get("security") in (None, [], [{}])


def test_generating_this_parts_schema_gives_no_warnings_or_errors():
    patterns = [
        path(
            "api/v2/",
            include(
                [
                    path("health", HealthView.as_view()),
                    path("", include("accounts.api.urls")),
                    path("", include("taxonomy.api.urls")),
                    path("", include("integrations.api.urls")),
                ]
            ),
        )
    ]
    GENERATOR_STATS.reset()
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    assert not GENERATOR_STATS, (
        f"warnings: {dict(GENERATOR_STATS._warn_cache)}, errors: {dict(GENERATOR_STATS._error_cache)}"
    )
    validate_schema(schema)


@pytest.mark.parametrize(
    ("route", "asset"),
    [
        ("/docs", "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"),
        ("/redoc", "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"),
    ],
)
def test_the_viewers_are_public_and_load_their_assets_locally(client, route, asset):
    response = client.get(route, HTTP_AUTHORIZATION="Bearer garbage")
    assert response.status_code == 200
    page = response.content.decode()
    assert f"/static/{asset}" in page
    # Every script, stylesheet and font from this server, none from a CDN (read from the
    # page's src and href attributes: a search for "cdn" in the page failed when its random
    # CSRF token spelled it).
    loaded = re.findall(r"""\s(?:src|href)\s*=\s*["']([^"']+)""", page)
    assert loaded and all(url.startswith("/") and not url.startswith("//") for url in loaded), loaded
    assert "/api/v2/openapi.json" in page
    assert finders.find(asset), f"{asset} is not shipped by drf-spectacular-sidecar"
