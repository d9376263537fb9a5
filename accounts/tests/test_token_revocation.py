"""Refresh tokens: revoked by every kind of password change, never stored in clear, read-only in the admin."""

from __future__ import annotations

import importlib
import time

import pytest
from django.apps import apps
from django.core.management import call_command
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import User
from accounts.tests.test_auth_login import _passlib_hash
from cronhub.testing.auth import refresh_token_for
from cronhub.testing.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/v2/auth/login"
REFRESH = "/api/v2/auth/refresh"
NEW_PASSWORD = "brand-new-secret"


def refreshes(token: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.post(REFRESH).status_code


def revoked(token: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.post(REFRESH)
    return response.status_code == 401 and response.json() == {"detail": "Token has been revoked"}


def login_refresh(username: str, password: str = TEST_PASSWORD) -> str:
    response = APIClient().post(LOGIN, {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["refresh_token"]


# --- a password change revokes every refresh token of that user ------------------------------


def test_changing_ones_own_password_through_the_api_revokes_every_refresh_token(api, owner, other_user):
    sessions = [login_refresh("olivia_owner"), login_refresh("olivia@example.com")]
    someone_else = login_refresh("oscar_other")

    response = api(owner).put(f"/api/v2/auth/users/{owner.pk}", {"password": NEW_PASSWORD}, format="json")

    assert response.status_code == 200
    assert all(revoked(token) for token in sessions)
    assert refreshes(someone_else) == 200
    assert refreshes(login_refresh("olivia_owner", NEW_PASSWORD)) == 200  # a new login works


def test_an_admin_resetting_a_password_through_the_api_revokes_that_users_refresh_tokens(
        api, admin_user, owner):
    session = login_refresh("olivia_owner")
    admin_session = login_refresh("alice_admin")

    response = api(admin_user).put(f"/api/v2/auth/users/{owner.pk}", {"password": NEW_PASSWORD},
                                   format="json")

    assert response.status_code == 200
    assert revoked(session)
    assert refreshes(admin_session) == 200


def test_an_update_without_a_password_keeps_the_refresh_tokens(api, admin_user, owner):
    session = login_refresh("olivia_owner")
    api(admin_user).put(f"/api/v2/auth/users/{owner.pk}", {"email": "o2@example.com", "role": "viewer"},
                        format="json")
    assert refreshes(session) == 200


def test_the_admins_user_form_setting_a_password_revokes_that_users_refresh_tokens(client, admin_user, owner):
    session = login_refresh("olivia_owner")
    client.force_login(admin_user)

    response = client.post(f"/admin/accounts/user/{owner.pk}/change/", {
        "email": owner.email, "new_password": NEW_PASSWORD, "role": owner.role, "is_active": "on"})

    assert response.status_code == 302, response.content.decode()[:2000]
    assert revoked(session)


def test_the_admin_sites_own_password_change_form_revokes_the_admins_refresh_tokens(client, admin_user):
    session = login_refresh("alice_admin")
    client.force_login(admin_user)

    response = client.post("/admin/password_change/", {
        "old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 302, response.content.decode()[:2000]
    assert revoked(session)


def test_manage_py_changepassword_revokes_the_users_refresh_tokens(owner, monkeypatch):
    session = login_refresh("olivia_owner")
    # The command reads the password from a terminal, which a test does not have.
    monkeypatch.setattr("django.contrib.auth.management.commands.changepassword.getpass.getpass",
                        lambda prompt="": NEW_PASSWORD)

    call_command("changepassword", "olivia_owner", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert User.objects.get(pk=owner.pk).check_password(NEW_PASSWORD)
    assert revoked(session)


def test_a_password_change_revokes_refresh_tokens_without_a_jti(api, owner):
    """The old server's refresh tokens carry no jti: nothing to blacklist one by one, so the
    change's time refuses them (and any other token issued before it)."""
    from accounts.tests.test_auth_tokens import claims_for, signed

    User.objects.filter(pk=owner.pk).update(password_changed_at=None)  # never changed so far
    issued = int(time.time()) - 5
    legacy = signed(claims_for(owner, type="refresh", fresh=None, iat=issued))
    no_iat = signed(claims_for(owner, type="refresh", fresh=None, iat=None))
    assert refreshes(legacy) == 200

    response = api(owner).put(f"/api/v2/auth/users/{owner.pk}", {"password": NEW_PASSWORD}, format="json")

    assert response.status_code == 200
    assert revoked(legacy) and revoked(no_iat)
    assert refreshes(login_refresh("olivia_owner", NEW_PASSWORD)) == 200  # same second: still valid


def test_upgrading_an_old_password_hash_at_login_is_not_a_password_change(db):
    user = User.objects.create(username="legacy", email="legacy@example.com",
                               password=_passlib_hash("secret123"), role="user")
    earlier = refresh_token_for(user)

    login_refresh("legacy")  # re-hashes the password with Django's hasher
    User.objects.get(pk=user.pk).save()

    assert refreshes(earlier) == 200


# --- never stored in clear ------------------------------------------------------------------


def test_refresh_tokens_are_not_stored_in_clear(owner):
    token = login_refresh("olivia_owner")

    stored = list(OutstandingToken.objects.values_list("token", flat=True))
    assert stored and all(token not in value and value == "" for value in stored)
    assert refreshes(token) == 200


def test_a_refresh_token_named_at_logout_is_blacklisted_without_storing_it(api, owner):
    token = refresh_token_for(owner)
    response = api(owner).post("/api/v2/auth/logout", {"refresh_token": token}, format="json")

    assert response.status_code == 200
    assert revoked(token)
    assert not OutstandingToken.objects.exclude(token="").exists()


def test_refresh_tokens_stored_before_the_upgrade_are_erased_by_the_migration(owner):
    token = refresh_token_for(owner)
    OutstandingToken.objects.update(token=token)  # as the previous version stored them
    migration = importlib.import_module("accounts.migrations.0002_erase_stored_refresh_tokens")

    migration.erase_stored_refresh_tokens(apps, None)

    assert list(OutstandingToken.objects.values_list("token", flat=True)) == [""]
    assert refreshes(token) == 200


# --- the token tables in the admin ----------------------------------------------------------


def test_the_token_tables_are_read_only_in_the_admin_and_show_no_token(client, admin_user, owner):
    token = login_refresh("olivia_owner")
    OutstandingToken.objects.update(token=token)  # even a row an older version wrote in clear
    outstanding = OutstandingToken.objects.get()
    BlacklistedToken.objects.create(token=outstanding)
    client.force_login(admin_user)

    for page in ("/admin/token_blacklist/outstandingtoken/",
                 f"/admin/token_blacklist/outstandingtoken/{outstanding.pk}/change/",
                 "/admin/token_blacklist/blacklistedtoken/"):
        response = client.get(page)
        assert response.status_code == 200, page
        assert token not in response.content.decode(), page
        assert token.split(".")[1] not in response.content.decode(), page
    assert client.get("/admin/token_blacklist/outstandingtoken/add/").status_code == 403
    assert client.post(f"/admin/token_blacklist/outstandingtoken/{outstanding.pk}/change/",
                       {"jti": "forged", "token": "x"}).status_code == 403
    assert client.post(f"/admin/token_blacklist/outstandingtoken/{outstanding.pk}/delete/",
                       {"post": "yes"}).status_code == 403
    assert client.get("/admin/token_blacklist/blacklistedtoken/add/").status_code == 403
    assert OutstandingToken.objects.filter(pk=outstanding.pk, jti=outstanding.jti).exists()
