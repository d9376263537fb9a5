"""Route-level conventions for the auth, users, taxonomy, Slack and health endpoints:
trailing slashes, unknown paths and methods."""

import pytest

from cronhub.tests.test_openapi import OPERATIONS

pytestmark = pytest.mark.django_db


def concrete(route: str) -> str:
    return (route.replace("{user_id}", "some-id").replace("{category_id}", "some-id")
            .replace("{team_id}", "some-id"))


@pytest.mark.parametrize(("route", "method"), sorted(OPERATIONS))
def test_a_trailing_slash_is_a_307_to_the_canonical_path_without_auth(client, route, method):
    response = client.generic(method.upper(), concrete(route) + "/?x=1", data="{}",
                              content_type="application/json")
    assert response.status_code == 307
    assert response["Location"] == f"http://testserver{concrete(route)}?x=1"
    assert response.content == b""


@pytest.mark.parametrize("route", sorted({r for r, m in OPERATIONS if m == "get"}))
def test_head_is_405_on_every_get_route(client, route):
    response = client.head(concrete(route))
    assert response.status_code == 405


@pytest.mark.parametrize(("route", "method"), [
    ("/api/v2/auth/login", "GET"), ("/api/v2/auth/me", "POST"), ("/api/v2/job-categories", "DELETE"),
    ("/api/v2/settings/slack", "POST"), ("/api/v2/auth/users/x", "PATCH"),
])
def test_an_unsupported_method_is_a_json_405_even_without_a_token(client, route, method):
    response = client.generic(method, route)
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


def test_an_unknown_api_path_is_a_json_404_even_with_debug_on(client, settings):
    # DEBUG=true (scripts/dev.sh, the React dev setup) makes Django answer its HTML debug page
    # instead of calling handler404; API clients still need the contract's JSON body.
    settings.DEBUG = True
    response = client.get("/api/v2/no-such-route", HTTP_ORIGIN="http://localhost:5173")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not Found"}
    assert response["Access-Control-Allow-Origin"] == "*"
