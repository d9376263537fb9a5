"""One login throttle for the API and the admin: atomic, per (account, address) and per address,
the client address from a trusted proxy header, the same work for unknown and known users."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connections
from django.test import Client, RequestFactory

from accounts.throttling import client_address
from cronhub.testing.factories import TEST_PASSWORD, UserFactory

LOGIN = "/api/v2/auth/login"
ADMIN_LOGIN = "/admin/login/?next=/admin/"
ATTACKER = "203.0.113.5"
USER_HOME = "198.51.100.7"


class CountingHasher(PBKDF2PasswordHasher):
    """A real PBKDF2 hasher (slow enough for the concurrency test's guesses to overlap) that
    counts how often it runs, whether to check a password or to hash one."""

    algorithm = "pbkdf2_counting"
    iterations = 20_000
    runs = 0
    lock = threading.Lock()

    def encode(self, password, salt, iterations=None):
        with CountingHasher.lock:
            CountingHasher.runs += 1
        return super().encode(password, salt, iterations)


@pytest.fixture
def throttle(settings):
    settings.LOGIN_THROTTLE_ENABLED = True
    settings.LOGIN_THROTTLE_RATE = "3/min"
    settings.LOGIN_THROTTLE_ADDRESS_RATE = "3/min"
    settings.TRUSTED_PROXY_HEADER = ""
    settings.TRUSTED_PROXY_COUNT = 1
    return settings


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher", *settings.PASSWORD_HASHERS]
    CountingHasher.runs = 0
    return CountingHasher


def api_login(client: Client, identifier: str, password: str, address: str = "10.0.0.1", **headers):
    return client.post(LOGIN, {"username": identifier, "password": password},
                       content_type="application/json", REMOTE_ADDR=address, **headers)


def admin_login(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(ADMIN_LOGIN, {"username": username, "password": password, "next": "/admin/"},
                       REMOTE_ADDR=address)


# --- atomic counters ----------------------------------------------------------------------------


@pytest.mark.dbcompat
@pytest.mark.django_db(transaction=True)
def test_concurrent_guesses_for_one_account_never_get_more_than_the_limit_evaluated(throttle,
                                                                                      counting_hasher):
    throttle.LOGIN_THROTTLE_RATE = "10/min"
    throttle.LOGIN_THROTTLE_ADDRESS_RATE = "1000/min"
    UserFactory(username="olivia_owner", email="olivia@example.com")
    CountingHasher.runs = 0
    start = threading.Barrier(40)
    statuses: list[int] = []

    def guess(number: int):
        try:
            start.wait()
            identifier = "olivia_owner" if number % 2 else "olivia@example.com"
            statuses.append(api_login(Client(), identifier, f"wrong-{number}", ATTACKER).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess, args=(number,)) for number in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [401] * 10 + [429] * 30
    assert CountingHasher.runs == 10  # only the guesses within the limit were evaluated


# --- per account, per address ------------------------------------------------------------------


@pytest.mark.django_db
def test_username_and_email_guesses_count_against_one_account(throttle, client, owner):
    throttle.LOGIN_THROTTLE_ADDRESS_RATE = "100/min"
    assert api_login(client, "olivia_owner", "wrong-pass").status_code == 401
    assert api_login(client, "olivia@example.com", "wrong-pass").status_code == 401
    assert api_login(client, "OLIVIA_OWNER", "wrong-pass").status_code == 401  # another spelling

    assert api_login(client, "olivia_owner", TEST_PASSWORD).status_code == 429
    assert api_login(client, "oscar_other", "wrong-pass").status_code == 401  # another account: free


@pytest.mark.django_db
def test_an_attacker_at_another_address_cannot_lock_the_user_out(throttle, client, owner, admin_user):
    for _ in range(5):
        api_login(client, "olivia_owner", "wrong-pass", ATTACKER)
        api_login(client, "alice_admin", "wrong-pass", ATTACKER)
    assert api_login(client, "olivia_owner", TEST_PASSWORD, ATTACKER).status_code == 429

    assert api_login(client, "olivia_owner", TEST_PASSWORD, USER_HOME).status_code == 200
    assert api_login(client, "alice_admin", TEST_PASSWORD, USER_HOME).status_code == 200
    assert admin_login(Client(), "alice_admin", TEST_PASSWORD, USER_HOME).status_code == 302


@pytest.mark.django_db
def test_one_address_guessing_many_accounts_is_refused_after_the_address_limit(throttle, client, owner):
    throttle.LOGIN_THROTTLE_RATE = "100/min"
    for number in range(3):
        assert api_login(client, f"guess{number}", "wrong-pass", ATTACKER).status_code == 401
    assert api_login(client, "olivia_owner", TEST_PASSWORD, ATTACKER).status_code == 429
    assert api_login(client, "olivia_owner", TEST_PASSWORD, USER_HOME).status_code == 200


@pytest.mark.django_db
def test_a_successful_login_gives_back_its_address_slot_and_clears_the_pair(throttle, client, owner):
    for _ in range(5):  # more successes than the limits: successes are not failures
        assert api_login(client, "olivia_owner", TEST_PASSWORD).status_code == 200
    throttle.LOGIN_THROTTLE_ADDRESS_RATE = "100/min"
    for _ in range(2):
        api_login(client, "olivia_owner", "wrong-pass")
    assert api_login(client, "olivia_owner", TEST_PASSWORD).status_code == 200
    for _ in range(2):
        api_login(client, "olivia_owner", "wrong-pass")
    assert api_login(client, "olivia_owner", TEST_PASSWORD).status_code == 200


# --- the client address ------------------------------------------------------------------------


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_is_counted_by_the_forwarded_address(throttle, client, owner):
    throttle.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    proxy = "127.0.0.1"
    for spoofed in ("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"):  # the client's own part is not trusted
        api_login(client, "olivia_owner", "wrong-pass", proxy, HTTP_X_FORWARDED_FOR=f"{spoofed}, {ATTACKER}")
    refused = api_login(client, "olivia_owner", TEST_PASSWORD, proxy, HTTP_X_FORWARDED_FOR=ATTACKER)

    allowed = api_login(client, "olivia_owner", TEST_PASSWORD, proxy, HTTP_X_FORWARDED_FOR=USER_HOME)

    assert refused.status_code == 429
    assert allowed.status_code == 200


@pytest.mark.django_db
def test_without_a_trusted_proxy_a_forwarded_header_is_ignored(throttle, client, owner):
    for number in range(3):
        api_login(client, "olivia_owner", "wrong-pass", ATTACKER, HTTP_X_FORWARDED_FOR=f"10.0.0.{number}")
    assert api_login(client, "olivia_owner", TEST_PASSWORD, ATTACKER,
                     HTTP_X_FORWARDED_FOR=USER_HOME).status_code == 429


@pytest.mark.parametrize(("header", "count", "forwarded", "expected"), [
    ("", 1, "9.9.9.9", "192.0.2.1"),
    ("X-Forwarded-For", 1, "9.9.9.9, 8.8.8.8", "8.8.8.8"),
    ("X-Forwarded-For", 2, "9.9.9.9, 8.8.8.8, 7.7.7.7", "8.8.8.8"),
    ("X-Forwarded-For", 2, "7.7.7.7", "7.7.7.7"),  # fewer hops than configured: the furthest one
    ("X-Forwarded-For", 1, "", "192.0.2.1"),  # header missing: the peer
    ("X-Forwarded-For", 1, "not-an-address", "192.0.2.1"),
    ("X-Forwarded-For", 1, "2001:db8::1", "2001:db8::1"),
    ("X-Real-IP", 1, "6.6.6.6", "6.6.6.6"),
])
def test_the_client_address_is_read_from_the_configured_proxy_header(settings, header, count, forwarded,
                                                                      expected):
    settings.TRUSTED_PROXY_HEADER = header
    settings.TRUSTED_PROXY_COUNT = count
    meta = {"REMOTE_ADDR": "192.0.2.1"}
    if forwarded:
        meta["HTTP_" + (header or "X-Forwarded-For").upper().replace("-", "_")] = forwarded
    assert client_address(RequestFactory().get("/", **meta)) == expected


# --- the same work for unknown and known users -------------------------------------------------


@pytest.mark.django_db
def test_unknown_users_cost_one_password_hash_like_known_ones(client, counting_hasher):
    UserFactory(username="olivia_owner", email="olivia@example.com")
    UserFactory(username="ian_inactive", email="ian@example.com", is_active=False)

    for identifier in ("nobody-here", "nobody@example.com", "olivia_owner", "ian_inactive"):
        CountingHasher.runs = 0
        response = api_login(client, identifier, "wrong-pass")
        assert response.status_code == 401
        assert CountingHasher.runs == 1, identifier


@pytest.mark.django_db
def test_unknown_users_at_the_admin_cost_one_password_hash_too(counting_hasher):
    UserFactory(username="alice_admin", email="alice@example.com", role="admin")
    for username in ("nobody-here", "alice_admin"):
        CountingHasher.runs = 0
        assert admin_login(Client(), username, "wrong-pass").status_code == 200
        assert CountingHasher.runs == 1, username


# --- the admin's login -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_login_is_throttled(throttle, admin_user):
    throttle.LOGIN_THROTTLE_RATE = "10/min"
    throttle.LOGIN_THROTTLE_ADDRESS_RATE = "10/min"
    client = Client()
    for _ in range(15):
        admin_login(client, "alice_admin", "wrong-pass", ATTACKER)

    response = admin_login(client, "alice_admin", TEST_PASSWORD, ATTACKER)

    assert response.status_code == 200  # the form again, not the admin
    assert "Too many failed login attempts. Try again in " in response.content.decode()
    assert client.get("/admin/").status_code == 302
    assert admin_login(Client(), "alice_admin", TEST_PASSWORD, USER_HOME).status_code == 302


@pytest.mark.django_db
def test_the_api_and_the_admin_share_one_throttle(throttle, admin_user):
    client = Client()
    api_login(client, "alice_admin", "wrong-pass", ATTACKER)
    admin_login(client, "alice_admin", "wrong-pass", ATTACKER)
    api_login(client, "alice@example.com", "wrong-pass", ATTACKER)

    assert api_login(client, "alice_admin", TEST_PASSWORD, ATTACKER).status_code == 429
    assert "Too many failed login attempts" in admin_login(
        client, "alice_admin", TEST_PASSWORD, ATTACKER).content.decode()
