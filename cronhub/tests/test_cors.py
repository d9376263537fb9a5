"""CORS on every API response: success, errors, 500s and preflights."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ORIGIN = "http://localhost:5173"


@pytest.fixture
def origin_list(settings):
    """CORS_ORIGINS=http://localhost:5173, https://app.example.com"""
    settings.CORS_ALLOW_ALL_ORIGINS = False
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN, "https://app.example.com"]
    settings.CORS_ALLOW_CREDENTIALS = True


def test_with_star_any_origin_gets_a_star_and_no_credentials(client):
    response = client.get("/api/v2/health", HTTP_ORIGIN="https://anywhere.example")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response
    assert "Origin" in response["Vary"]


def test_vary_origin_is_sent_even_without_an_origin_header(client):
    assert "Origin" in client.get("/api/v2/health")["Vary"]
    assert "Origin" in client.get("/api/v2/nowhere")["Vary"]


def test_with_a_list_an_allowed_origin_is_echoed_with_credentials(client, origin_list):
    response = client.get("/api/v2/health", HTTP_ORIGIN=ORIGIN)
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in response["Vary"]


def test_with_a_list_a_disallowed_origin_gets_no_cors_headers_but_the_request_succeeds(client, origin_list):
    response = client.get("/api/v2/health", HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response
    assert "Origin" in response["Vary"]


@pytest.mark.parametrize(("method", "path", "status"), [
    ("get", "/api/v2/auth/me", 401),
    ("get", "/api/v2/auth/users", 401),
    ("get", "/api/v2/does-not-exist", 404),
    ("post", "/api/v2/health", 405),
    ("post", "/api/v2/auth/login", 400),
])
def test_error_responses_carry_cors_headers(client, origin_list, method, path, status):
    response = getattr(client, method)(path, HTTP_ORIGIN=ORIGIN)
    assert response.status_code == status
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response["Access-Control-Allow-Credentials"] == "true"


def test_role_errors_carry_cors_headers(api, viewer):
    response = api(viewer).get("/api/v2/auth/users", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 403
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.urls("cronhub.tests.failing_urls")
@pytest.mark.parametrize("path", ["/api/v2/test-crash/drf", "/api/v2/test-crash/django"])
def test_500s_carry_cors_headers_and_the_shape_e_body(origin_list, path, settings):
    settings.EXPOSE_ERROR_DETAILS = False
    client = Client(raise_request_exception=False)
    response = client.get(path, HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 500
    assert response.json() == {"success": False, "error": {"type": "internal_error",
                                                           "message": "An unexpected error occurred"}}
    assert response["Access-Control-Allow-Origin"] == ORIGIN  # the old server's 500s had none


def test_a_preflight_answers_ok_with_methods_headers_and_max_age(client):
    response = client.options("/api/v2/jobs", HTTP_ORIGIN=ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT",
                              HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type")
    assert response.status_code == 200
    assert response.content == b"OK"
    assert response["Content-Type"].startswith("text/plain")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
    assert response["Access-Control-Allow-Headers"] == "authorization,content-type"
    assert response["Access-Control-Max-Age"] == "600"


def test_a_preflight_needs_no_token_even_on_protected_routes(client, origin_list):
    response = client.options("/api/v2/auth/users/123", HTTP_ORIGIN=ORIGIN,
                              HTTP_ACCESS_CONTROL_REQUEST_METHOD="DELETE")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response["Access-Control-Allow-Credentials"] == "true"


def test_a_preflight_from_a_disallowed_origin_is_400(client, origin_list):
    response = client.options("/api/v2/health", HTTP_ORIGIN="https://evil.example",
                              HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert response.status_code == 400
    assert response.content == b"Disallowed CORS origin"
    assert "Access-Control-Allow-Origin" not in response


def test_a_plain_options_request_is_a_405(client):
    response = client.options("/api/v2/health")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


def test_the_admin_site_is_left_out_of_cors(client):
    assert "Access-Control-Allow-Origin" not in client.get("/admin/login/", HTTP_ORIGIN=ORIGIN)
