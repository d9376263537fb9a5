"""POST /api/v2/auth/login and /auth/login/form, and login throttling."""

import base64
import hashlib

import jwt
import pytest
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import User

pytestmark = pytest.mark.django_db

LOGIN = "/api/v2/auth/login"
FORM = "/api/v2/auth/login/form"


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_login_by_username_returns_the_user_and_a_token_pair(api, owner):
    response = api().post(LOGIN, {"username": "olivia_owner", "password": "secret123"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"success", "message", "user", "access_token", "refresh_token", "token_type"}
    assert body["success"] is True and body["message"] == "Login successful"
    assert body["token_type"] == "bearer"
    assert body["user"] == {
        "id": owner.pk,
        "username": "olivia_owner",
        "email": "olivia@example.com",
        "role": "user",
        "is_active": True,
        "created_at": body["user"]["created_at"],
        "updated_at": body["user"]["updated_at"],
        "pic_teams": [],
    }
    assert body["user"]["created_at"].endswith("Z")
    assert "password" not in body["user"]


def test_login_tokens_carry_the_contract_claims(api, owner, settings):
    body = api().post(LOGIN, {"username": "olivia_owner", "password": "secret123"}, format="json").json()
    access, refresh = claims(body["access_token"]), claims(body["refresh_token"])

    assert access["sub"] == owner.pk and access["type"] == "access" and access["fresh"] is True
    assert access["role"] == "user" and access["email"] == "olivia@example.com"
    assert access["exp"] - access["iat"] == settings.JWT_ACCESS_TOKEN_EXPIRES
    assert isinstance(access["exp"], int)
    assert "jti" not in access and "nbf" not in access
    assert refresh["type"] == "refresh" and refresh["sub"] == owner.pk and "fresh" not in refresh
    assert refresh["exp"] - refresh["iat"] == settings.JWT_REFRESH_TOKEN_EXPIRES
    # the refresh token is registered so that logout can blacklist it
    assert OutstandingToken.objects.filter(jti=refresh["jti"], user=owner).exists()
    assert access["sid"] == refresh["jti"]
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"


def test_login_by_email_works_and_the_identifier_is_trimmed(api, owner):
    response = api().post(LOGIN, {"email": "olivia@example.com", "password": "secret123"}, format="json")
    assert response.status_code == 200
    response = api().post(LOGIN, {"username": "  olivia_owner ", "password": "secret123"}, format="json")
    assert response.status_code == 200
    assert response.json()["user"]["id"] == owner.pk


def test_an_e_mail_given_as_username_also_logs_in(api, owner):
    response = api().post(LOGIN, {"username": "olivia@example.com", "password": "secret123"}, format="json")
    assert response.status_code == 200


def test_username_wins_when_both_identifiers_are_sent(api, owner, other_user):
    response = api().post(
        LOGIN,
        {"username": "oscar_other", "email": "olivia@example.com", "password": "secret123"},
        format="json",
    )
    assert response.json()["user"]["id"] == other_user.pk


@pytest.mark.parametrize(
    "body",
    [
        {"username": "nobody", "password": "secret123"},
        {"username": "olivia_owner", "password": "wrong-password"},
        {"username": "OLIVIA_OWNER", "password": "secret123"},  # exact, case-sensitive match
    ],
)
def test_bad_credentials_are_a_401_with_the_contract_text(api, owner, body):
    response = api().post(LOGIN, body, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid email/username or password"}
    assert response["WWW-Authenticate"] == "Bearer"


def test_an_inactive_account_is_told_so(api, inactive_user):
    response = api().post(LOGIN, {"username": "ian_inactive", "password": "secret123"}, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Account is inactive. Contact administrator."}


def test_a_garbage_authorization_header_is_ignored_by_login(api, owner):
    client = api()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = client.post(LOGIN, {"username": "olivia_owner", "password": "secret123"}, format="json")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"username": "olivia_owner"}, ["body", "password"]),
        ({"password": "secret123"}, ["body"]),
        ({"username": "ab", "password": "secret123"}, ["body", "username"]),
        ({"email": "not-an-email", "password": "secret123"}, ["body", "email"]),
        ({"username": "olivia_owner", "password": "short"}, ["body", "password"]),
        ({"username": "olivia_owner", "password": "       "}, ["body", "password"]),
    ],
)
def test_login_body_validation_is_a_400_with_a_detail_list(api, owner, body, loc):
    response = api().post(LOGIN, body, format="json")

    assert response.status_code == 400
    data = response.json()
    assert data["error"] == "Validation error" and data["message"]
    assert any(item["loc"] == loc for item in data["detail"])
    assert {"type", "loc", "msg", "input"} <= set(data["detail"][0])


def test_a_null_identifier_counts_as_absent_so_the_other_one_is_used(api, owner):
    # Both identifiers are optional (nullable) fields of the login schema.
    response = api().post(LOGIN, {"username": None, "email": "olivia@example.com", "password": "secret123"},
                          format="json")
    assert response.status_code == 200
    assert response.json()["user"]["id"] == owner.pk
    response = api().post(LOGIN, {"username": "olivia_owner", "email": None, "password": "secret123"},
                          format="json")
    assert response.status_code == 200


def test_two_null_identifiers_are_reported_as_missing(api, owner):
    response = api().post(LOGIN, {"username": None, "email": None, "password": "secret123"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"][0]["msg"] == "Either username or email must be provided"


def test_login_reports_the_missing_identifier_readably(api, owner):
    response = api().post(LOGIN, {"password": "secret123"}, format="json")
    assert "Either username or email must be provided" in response.json()["message"]


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("username=olivia_owner&password=secret123", "application/x-www-form-urlencoded"),
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
    ],
)
def test_a_non_json_login_body_is_a_400_validation_error(client, owner, data, content_type):
    response = client.post(LOGIN, data=data, content_type=content_type)
    assert response.status_code == 400
    assert isinstance(response.json()["detail"], list)


def test_form_login_accepts_username_or_email(client, owner):
    for identifier in ("olivia_owner", "olivia@example.com"):
        response = client.post(
            FORM,
            data=f"username={identifier}&password=secret123&grant_type=password",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200
        assert response.json()["user"]["id"] == owner.pk
        assert claims(response.json()["access_token"])["type"] == "access"


def test_form_login_gives_the_same_401s(client, owner, inactive_user):
    wrong = client.post(FORM, data={"username": "olivia_owner", "password": "nope-nope"})
    inactive = client.post(FORM, data={"username": "ian_inactive", "password": "secret123"})
    assert wrong.status_code == inactive.status_code == 401
    assert wrong.json() == {"detail": "Invalid email/username or password"}
    assert inactive.json() == {"detail": "Account is inactive. Contact administrator."}


@pytest.mark.parametrize(
    "data",
    [
        {"username": "olivia_owner"},
        {"username": "ab", "password": "secret123"},  # was a 500 on the old server
        {"username": "olivia_owner", "password": "short"},  # was a 500 on the old server
        {"username": "olivia_owner", "password": "secret123", "grant_type": "client_credentials"},
    ],
)
def test_form_login_validation_is_a_400_not_a_500(client, owner, data):
    response = client.post(FORM, data=data)
    assert response.status_code == 400
    assert isinstance(response.json()["detail"], list)


def test_form_login_with_a_json_body_reports_missing_fields(client, owner):
    response = client.post(
        FORM, data={"username": "olivia_owner", "password": "secret123"}, content_type="application/json"
    )
    assert response.status_code == 400
    locs = [item["loc"] for item in response.json()["detail"]]
    assert ["body", "username"] in locs and ["body", "password"] in locs


def _passlib_hash(password: str) -> str:
    """What passlib's pbkdf2_sha256 wrote (adapted base64: '.' for '+', no padding)."""

    def ab64(raw: bytes) -> str:
        return base64.b64encode(raw).decode().rstrip("=").replace("+", ".")

    salt = b"0123456789abcdef"
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 29000, 32)
    return f"$pbkdf2-sha256$29000${ab64(salt)}${ab64(digest)}"


def test_an_old_passlib_hash_logs_in_and_is_upgraded(api, db):
    user = User.objects.create(
        username="legacy", email="legacy@example.com", password=_passlib_hash("secret123"), role="user"
    )
    response = api().post(LOGIN, {"username": "legacy", "password": "secret123"}, format="json")
    assert response.status_code == 200
    user.refresh_from_db()
    assert not user.password.startswith("$pbkdf2-sha256$")
    assert user.check_password("secret123")


def login_from(client, address: str, username: str, password: str):
    """A JSON login sent from ``address`` (the throttle counts per address and per account and address)."""
    return client.post(LOGIN, {"username": username, "password": password},
                       content_type="application/json", REMOTE_ADDR=address)


class TestThrottling:
    @pytest.fixture(autouse=True)
    def throttle_on(self, settings):
        settings.LOGIN_THROTTLE_ENABLED = True
        settings.LOGIN_THROTTLE_RATE = "3/min"

    def test_repeated_failures_for_one_username_are_refused_with_429(self, api, owner):
        client = api()
        for _ in range(3):
            assert (
                client.post(
                    LOGIN, {"username": "olivia_owner", "password": "wrong-pass"}, format="json"
                ).status_code
                == 401
            )
        response = client.post(LOGIN, {"username": "olivia_owner", "password": "secret123"}, format="json")

        assert response.status_code == 429
        body = response.json()
        assert body["error"] == "Too many login attempts"
        assert body["message"].startswith("Too many failed login attempts. Try again in ")
        assert int(response["Retry-After"]) > 0

    def test_the_account_count_is_shared_across_spellings_but_not_across_addresses(self, client, owner):
        # Failures lock the (account, address) pair, never the account: a guesser elsewhere
        # cannot keep the user out.
        for spelling in ("OLIVIA_OWNER", "olivia@example.com", "olivia_owner"):
            login_from(client, "10.0.0.1", spelling, "wrong-pass")
        assert login_from(client, "10.0.0.1", "olivia_owner", "secret123").status_code == 429
        assert login_from(client, "10.0.0.99", "olivia_owner", "secret123").status_code == 200

    def test_one_address_trying_many_usernames_is_refused(self, client, owner):
        for number in range(3):
            login_from(client, "10.9.9.9", f"guess{number}", "wrong-pass")
        refused = login_from(client, "10.9.9.9", "olivia_owner", "secret123")
        elsewhere = login_from(client, "10.1.1.1", "olivia_owner", "secret123")
        assert refused.status_code == 429
        assert elsewhere.status_code == 200

    def test_a_successful_login_clears_the_username_count(self, client, owner):
        for number in range(2):
            login_from(client, f"10.2.0.{number}", "olivia_owner", "wrong-pass")
        assert login_from(client, "10.2.1.1", "olivia_owner", "secret123").status_code == 200
        for number in range(2):
            login_from(client, f"10.2.2.{number}", "olivia_owner", "wrong-pass")
        assert login_from(client, "10.2.3.1", "olivia_owner", "secret123").status_code == 200

    def test_form_login_is_throttled_too(self, client, owner):
        for _ in range(3):
            client.post(FORM, data={"username": "olivia_owner", "password": "wrong-pass"})
        assert (
            client.post(FORM, data={"username": "olivia_owner", "password": "secret123"}).status_code == 429
        )


def test_throttling_is_off_in_tests_unless_enabled(api, owner):
    client = api()
    for _ in range(15):
        client.post(LOGIN, {"username": "olivia_owner", "password": "wrong-pass"}, format="json")
    assert (
        client.post(LOGIN, {"username": "olivia_owner", "password": "secret123"}, format="json").status_code
        == 200
    )
