"""Bearer tokens: every 401 text, refresh, me, verify and logout."""

import time

import jwt
import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from cronhub.testing.auth import access_token_for, refresh_token_for

pytestmark = pytest.mark.django_db

ME = "/api/v2/auth/me"
REFRESH = "/api/v2/auth/refresh"
VERIFY = "/api/v2/auth/verify"
LOGOUT = "/api/v2/auth/logout"
LOGIN = "/api/v2/auth/login"


def bearer(token: str, scheme: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
    return client


def signed(claims: dict, *, key: str | None = None, algorithm: str = "HS256") -> str:
    from django.conf import settings

    return jwt.encode(claims, key or settings.JWT_SECRET_KEY, algorithm=algorithm)


def claims_for(user, **overrides) -> dict:
    now = int(time.time())
    claims = {
        "sub": user.pk,
        "type": "access",
        "role": user.role,
        "email": user.email,
        "iat": now,
        "exp": now + 600,
        "fresh": True,
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def assert_401(response, detail: str):
    assert response.status_code == 401
    assert response.json() == {"detail": detail}
    assert response["WWW-Authenticate"] == "Bearer"


# --- what counts as "not authenticated" -------------------------------------------------


@pytest.mark.parametrize("header", [None, "Basic dXNlcjpwYXNz", "Token abc", "Bearer", "Bearer   "])
def test_missing_or_foreign_authorization_is_not_authenticated(db, header):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    assert_401(client.get(ME), "Not authenticated")


def test_the_scheme_word_is_case_insensitive(owner):
    assert bearer(access_token_for(owner), scheme="bearer").get(ME).status_code == 200
    assert bearer(access_token_for(owner), scheme="BEARER").get(ME).status_code == 200


# --- token edge cases: signature, algorithm, claims ------------------------------------------


def test_an_expired_token_says_so(owner):
    now = int(time.time())
    assert_401(bearer(signed(claims_for(owner, iat=now - 7200, exp=now - 3600))).get(ME), "Token has expired")


def test_a_token_signed_with_another_key_is_invalid(owner):
    assert_401(bearer(signed(claims_for(owner), key="another-key-" + "x" * 40)).get(ME), "Invalid token")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_another_algorithm_is_invalid_even_with_the_right_key(owner):
    assert_401(bearer(signed(claims_for(owner), algorithm="HS512")).get(ME), "Invalid token")


def test_an_unsigned_alg_none_token_is_invalid(owner):
    token = jwt.encode(claims_for(owner), None, algorithm="none")
    assert_401(bearer(token).get(ME), "Invalid token")


@pytest.mark.parametrize("garbage", ["abc", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30."])
def test_undecodable_tokens_are_invalid(db, garbage):
    assert_401(bearer(garbage).get(ME), "Invalid token")


def test_an_iat_in_the_future_is_invalid(owner):
    now = int(time.time())
    assert_401(bearer(signed(claims_for(owner, iat=now + 3600, exp=now + 7200))).get(ME), "Invalid token")


def test_a_token_without_exp_is_rejected(owner):
    # the old server accepted these forever
    assert_401(bearer(signed(claims_for(owner, exp=None))).get(ME), "Invalid token: missing expiration")


def test_a_token_without_sub_is_rejected(owner):
    assert_401(bearer(signed(claims_for(owner, sub=None))).get(ME), "Invalid token: missing subject")


def test_a_refresh_token_cannot_call_normal_endpoints(owner):
    assert_401(bearer(refresh_token_for(owner)).get(ME), "Invalid token type")


def test_an_unknown_token_type_is_rejected(owner):
    assert_401(bearer(signed(claims_for(owner, type="sliding"))).get(ME), "Invalid token type")


def test_a_token_without_type_is_an_access_token_and_extra_claims_are_ignored(owner):
    token = signed(
        claims_for(
            owner,
            type=None,
            role=None,
            email=None,
            iat=None,
            fresh=None,
            jti="x",
            nbf=int(time.time()) - 5,
            csrf="y",
            user_id="z",
        )
    )
    response = bearer(token).get(ME)
    assert response.status_code == 200
    assert response.json()["id"] == owner.pk


def test_a_deleted_users_token_is_user_not_found(owner):
    token = access_token_for(owner)
    owner.delete()
    assert_401(bearer(token).get(ME), "User not found")


def test_a_deactivated_users_token_stops_working(owner):
    token = access_token_for(owner)
    owner.is_active = False
    owner.save()
    assert_401(bearer(token).get(ME), "User account is deactivated")


def test_authorization_uses_the_role_in_the_database_not_the_claim(viewer):
    forged_role = signed(claims_for(viewer, role="admin"))
    response = bearer(forged_role).get("/api/v2/auth/users")
    assert response.status_code == 403
    assert response.json() == {"detail": "Admin access required"}


def test_a_role_change_takes_effect_without_logging_in_again(viewer):
    token = access_token_for(viewer)
    assert bearer(token).get("/api/v2/auth/users").status_code == 403
    viewer.role = "admin"
    viewer.save()
    assert bearer(token).get("/api/v2/auth/users").status_code == 200


def test_the_test_helper_mints_exactly_what_login_mints(api, owner):
    login = api().post(LOGIN, {"username": "olivia_owner", "password": "secret123"}, format="json").json()
    helper = access_token_for(owner)
    strip = {"exp", "iat", "sid"}
    login_claims = jwt.decode(login["access_token"], options={"verify_signature": False})
    helper_claims = jwt.decode(helper, options={"verify_signature": False})
    assert {k: v for k, v in login_claims.items() if k not in strip} == {
        k: v for k, v in helper_claims.items() if k not in strip
    }
    assert set(login_claims) == set(helper_claims)


# --- refresh ----------------------------------------------------------------------------------


def test_refresh_with_the_refresh_token_in_the_header_gives_a_new_access_token(owner, settings):
    response = bearer(refresh_token_for(owner)).post(REFRESH)

    assert response.status_code == 200
    body = response.json()
    assert body["refresh_token"] is None and body["token_type"] == "bearer"
    assert body["expires_in"] == settings.JWT_ACCESS_TOKEN_EXPIRES == 3600
    assert bearer(body["access_token"]).get(ME).json()["id"] == owner.pk


def test_refresh_reports_the_configured_lifetime(owner, settings):
    settings.JWT_ACCESS_TOKEN_EXPIRES = 900
    body = bearer(refresh_token_for(owner)).post(REFRESH).json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert body["expires_in"] == 900  # not the old server's hard-coded 3600
    assert claims["exp"] - claims["iat"] == 900


def test_a_refreshed_access_token_carries_the_current_role_and_email(owner):
    refresh = refresh_token_for(owner)
    owner.role, owner.email = "viewer", "new@example.com"
    owner.save()
    access = bearer(refresh).post(REFRESH).json()["access_token"]
    claims = jwt.decode(access, options={"verify_signature": False})
    assert claims["role"] == "viewer" and claims["email"] == "new@example.com"
    assert claims["type"] == "access"


def test_an_access_token_cannot_refresh(owner):
    assert_401(bearer(access_token_for(owner)).post(REFRESH), "Invalid token type")


def test_refresh_needs_a_token(db):
    assert_401(APIClient().post(REFRESH), "Not authenticated")


def test_refresh_for_deleted_or_deactivated_users_is_refused(owner, other_user):
    owner_refresh, other_refresh = refresh_token_for(owner), refresh_token_for(other_user)
    owner.delete()
    other_user.is_active = False
    other_user.save()
    assert_401(bearer(owner_refresh).post(REFRESH), "User not found")
    assert_401(bearer(other_refresh).post(REFRESH), "User account is deactivated")


def test_an_expired_refresh_token_says_so(owner):
    now = int(time.time())
    token = signed(claims_for(owner, type="refresh", iat=now - 100, exp=now - 10))
    assert_401(bearer(token).post(REFRESH), "Token has expired")


def test_a_legacy_refresh_token_without_jti_still_refreshes(owner):
    token = signed(claims_for(owner, type="refresh", fresh=None))
    assert bearer(token).post(REFRESH).status_code == 200


# --- me / verify ---------------------------------------------------------------------------------


def test_me_returns_the_bare_user(owner):
    body = bearer(access_token_for(owner)).get(ME).json()
    assert set(body) == {"id", "username", "email", "role", "is_active", "created_at", "updated_at",
                         "pic_teams"}
    assert body["username"] == "olivia_owner"


@pytest.mark.parametrize("persona", ["admin_user", "owner", "viewer"])
def test_verify_confirms_the_token_for_every_role(request, persona):
    user = request.getfixturevalue(persona)
    response = bearer(access_token_for(user)).get(VERIFY)
    assert response.status_code == 200
    assert response.json() == {
        "valid": True,
        "user_id": user.pk,
        "username": user.username,
        "role": user.role,
        "message": "Token is valid",
    }


def test_verify_and_me_refuse_inactive_and_anonymous(inactive_user):
    assert_401(bearer(access_token_for(inactive_user)).get(VERIFY), "User account is deactivated")
    assert_401(APIClient().get(VERIFY), "Not authenticated")


# --- logout -----------------------------------------------------------------------------------------


@pytest.mark.dbcompat
def test_logout_blacklists_the_sessions_refresh_token(api, owner):
    login = api().post(LOGIN, {"username": "olivia_owner", "password": "secret123"}, format="json").json()

    response = bearer(login["access_token"]).post(LOGOUT)

    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "message": "Logout successful",
        "detail": "Please discard your tokens on the client side",
    }
    assert BlacklistedToken.objects.filter(token__user=owner).count() == 1
    assert_401(bearer(login["refresh_token"]).post(REFRESH), "Token has been revoked")


def test_logout_leaves_other_sessions_alone(api, owner):
    first = api().post(LOGIN, {"username": "olivia_owner", "password": "secret123"}, format="json").json()
    second = api().post(LOGIN, {"username": "olivia_owner", "password": "secret123"}, format="json").json()
    bearer(first["access_token"]).post(LOGOUT)
    assert bearer(second["refresh_token"]).post(REFRESH).status_code == 200


def test_an_access_token_from_a_refresh_logs_out_the_same_session(owner):
    refresh = refresh_token_for(owner)
    access = bearer(refresh).post(REFRESH).json()["access_token"]
    bearer(access).post(LOGOUT)
    assert_401(bearer(refresh).post(REFRESH), "Token has been revoked")


@pytest.mark.dbcompat
def test_logout_can_name_a_refresh_token_in_the_body(owner):
    legacy_refresh = signed(claims_for(owner, type="refresh", fresh=None))
    response = bearer(access_token_for(owner)).post(LOGOUT, {"refresh_token": legacy_refresh}, format="json")
    assert response.status_code == 200
    assert_401(bearer(legacy_refresh).post(REFRESH), "Token has been revoked")


def test_logout_cannot_revoke_someone_elses_refresh_token(owner, other_user):
    victim_refresh = refresh_token_for(other_user)
    bearer(access_token_for(owner)).post(LOGOUT, {"refresh_token": victim_refresh}, format="json")
    assert bearer(victim_refresh).post(REFRESH).status_code == 200


def test_logout_ignores_a_garbage_body(owner):
    response = bearer(access_token_for(owner)).post(LOGOUT, data="{nope", content_type="application/json")
    assert response.status_code == 200


def test_logout_needs_a_valid_access_token(owner):
    assert_401(APIClient().post(LOGOUT), "Not authenticated")
    assert_401(bearer(refresh_token_for(owner)).post(LOGOUT), "Invalid token type")
