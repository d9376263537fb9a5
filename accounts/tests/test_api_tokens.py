"""Personal API tokens: created with a login, shown once, stored hashed, scoped, expiring, revocable."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from cronhub.testing.factories import JobFactory

pytestmark = [pytest.mark.django_db, pytest.mark.dbcompat]

TOKENS = "/api/v2/auth/tokens"


def create(api, user, **body):
    response = api(user).post(TOKENS, {"name": "ci", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def with_token(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_the_secret_is_shown_once_and_only_its_digest_is_stored(api, owner):
    body = create(api, owner, scope="read")
    secret = body["token"]
    assert secret.startswith("chub_") and len(secret) >= 45
    row = ApiToken.objects.get()
    assert row.digest == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(value) for value in ApiToken.objects.values().get().values()]
    assert secret not in stored and not any(secret in value for value in stored)
    assert body["api_token"]["prefix"] == secret[:11] and row.prefix == secret[:11]
    listed = api(owner).get(TOKENS).json()
    assert listed["count"] == 1 and "token" not in listed["tokens"][0]
    assert secret not in str(listed)


def test_a_token_authenticates_on_api_endpoints_beside_jwt(api, owner):
    secret = create(api, owner)["token"]
    me = with_token(secret).get("/api/v2/auth/me")
    assert me.status_code == 200 and me.json()["username"] == owner.username
    assert with_token(secret).get("/api/v2/jobs").status_code == 200
    assert api(owner).get("/api/v2/jobs").status_code == 200  # the JWT flow as before


def test_a_read_only_token_cannot_write_anywhere(api, owner):
    secret = create(api, owner, scope="read")["token"]
    job = JobFactory(created_by=owner)
    client = with_token(secret)
    for response in (
        client.post("/api/v2/jobs", {"name": "x"}, format="json"),
        client.put(f"/api/v2/jobs/{job.pk}", {"name": "renamed"}, format="json"),
        client.delete(f"/api/v2/jobs/{job.pk}"),
        client.put("/api/v2/notifications/read-all"),
    ):
        assert response.status_code == 403
        assert response.json() == {"detail": "This API token is read-only."}
    job.refresh_from_db()
    assert job.name != "renamed"
    assert client.get(f"/api/v2/jobs/{job.pk}").status_code == 200


def test_a_write_token_writes_with_the_users_rights(api, owner, other_user):
    secret = create(api, owner, scope="write")["token"]
    mine, theirs = JobFactory(created_by=owner), JobFactory(created_by=other_user)
    client = with_token(secret)
    assert client.put(f"/api/v2/jobs/{mine.pk}", {"name": "renamed"}, format="json").status_code == 200
    assert client.put(f"/api/v2/jobs/{theirs.pk}", {"name": "renamed"}, format="json").status_code == 403


def test_a_viewer_cannot_get_a_write_token(api, viewer):
    response = api(viewer).post(TOKENS, {"name": "ci", "scope": "write"}, format="json")
    assert response.status_code == 403
    assert response.json()["message"] == "A viewer can only create read-only tokens."
    assert not ApiToken.objects.exists()


def test_a_write_token_of_a_user_demoted_to_viewer_cannot_write(api, owner):
    secret = create(api, owner, scope="write")["token"]
    owner.role = "viewer"
    owner.save()
    response = with_token(secret).post("/api/v2/jobs", {"name": "x"}, format="json")
    assert response.status_code == 403 and response.json() == {"detail": "User or admin access required"}


def test_an_expired_token_is_refused(api, owner):
    expires = timezone.now() + dt.timedelta(hours=1)
    secret = create(api, owner, expires_at=expires.isoformat())["token"]
    assert with_token(secret).get("/api/v2/auth/me").status_code == 200
    with time_machine.travel(expires + dt.timedelta(seconds=1)):
        response = with_token(secret).get("/api/v2/auth/me")
    assert response.status_code == 401 and response.json() == {"detail": "API token has expired"}
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("expires_at", ["2001-01-01T00:00:00Z", "tomorrow", "2030-01-01T00:00:00", 5])
def test_an_expiry_in_the_past_or_unreadable_is_refused(api, owner, expires_at):
    response = api(owner).post(TOKENS, {"name": "ci", "expires_at": expires_at}, format="json")
    assert response.status_code == 400 and response.json()["error"] == "Invalid expiry"


def test_a_revoked_token_stops_working_at_once(api, owner, other_user):
    body = create(api, owner)
    secret, token_id = body["token"], body["api_token"]["id"]
    assert api(other_user).delete(f"{TOKENS}/{token_id}").status_code == 404  # not theirs
    revoked = api(owner).delete(f"{TOKENS}/{token_id}")
    assert revoked.status_code == 200 and revoked.json()["api_token"]["active"] is False
    response = with_token(secret).get("/api/v2/auth/me")
    assert response.status_code == 401 and response.json() == {"detail": "API token has been revoked"}


def test_a_token_cannot_create_or_revoke_tokens(api, owner):
    body = create(api, owner, scope="write")
    client = with_token(body["token"])
    assert client.post(TOKENS, {"name": "more"}, format="json").status_code == 403
    assert client.delete(f"{TOKENS}/{body['api_token']['id']}").status_code == 403
    assert client.get(TOKENS).status_code == 200
    assert ApiToken.objects.count() == 1


def test_an_inactive_users_token_is_refused(api, owner):
    secret = create(api, owner)["token"]
    owner.is_active = False
    owner.save()
    assert with_token(secret).get("/api/v2/auth/me").json() == {"detail": "User account is deactivated"}


def test_an_unknown_token_is_refused(db):
    response = with_token("chub_" + "x" * 43).get("/api/v2/auth/me")
    assert response.status_code == 401 and response.json() == {"detail": "Invalid API token"}


def test_last_used_is_recorded_at_most_once_a_minute(api, owner, django_assert_num_queries):
    secret = create(api, owner)["token"]
    assert ApiToken.objects.get().last_used_at is None
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        with_token(secret).get("/api/v2/auth/me")
    assert ApiToken.objects.get().last_used_at == start
    # The token with its user, then the body's PIC teams: no write.
    with time_machine.travel(start + dt.timedelta(seconds=30), tick=False), django_assert_num_queries(2):
        with_token(secret).get("/api/v2/auth/me")
    assert ApiToken.objects.get().last_used_at == start
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        with_token(secret).get("/api/v2/auth/me")
    assert ApiToken.objects.get().last_used_at == start + dt.timedelta(seconds=61)


def test_a_logout_with_a_write_token_does_not_fail(api, owner):
    secret = create(api, owner, scope="write")["token"]
    assert with_token(secret).post("/api/v2/auth/logout").status_code == 200


def test_the_admin_creates_a_token_shown_once_and_revokes_it(staff, owner):
    page = staff.post("/admin/accounts/apitoken/add/", {
        "user": owner.pk, "name": "nightly export", "scope": "write", "expires_at_0": "", "expires_at_1": ""})
    assert page.status_code == 200, page.content[:2000]
    token = ApiToken.objects.get()
    secret = page.context["secret"]
    assert secret.startswith("chub_") and secret in page.content.decode()
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest() and token.scope == "write"
    listing = staff.get("/admin/accounts/apitoken/").content.decode()
    assert "nightly export" in listing and secret not in listing
    assert staff.get(f"/admin/accounts/apitoken/{token.pk}/change/").status_code == 200  # view only
    staff.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    assert ApiToken.objects.get().revoked_at is not None
    assert with_token(secret).get("/api/v2/auth/me").status_code == 401


def test_the_admin_refuses_a_write_token_for_a_viewer(staff, viewer):
    page = staff.post("/admin/accounts/apitoken/add/", {"user": viewer.pk, "name": "x", "scope": "write"})
    assert page.status_code == 200 and "A viewer can only create read-only tokens." in page.content.decode()
    assert not ApiToken.objects.exists()


def test_the_admins_user_form_sets_pic_teams(staff, owner):
    from cronhub.testing.factories import PicTeamFactory

    team = PicTeamFactory(slug="platform-qa", name="Platform QA")
    response = staff.post(f"/admin/accounts/user/{owner.pk}/change/", {
        "email": owner.email, "role": owner.role, "is_active": "on", "new_password": "",
        "pic_teams": [team.pk]})
    assert response.status_code == 302, response.content[:3000]
    assert list(owner.pic_teams.all()) == [team]


def test_a_user_manages_only_their_own_tokens_in_the_admin(client, owner, other_user, viewer):
    """Users and viewers create and revoke their own tokens in the admin (never for someone
    else, never beyond their role); another user's token answers 403 and stays as it is."""
    theirs, _secret = create_for(other_user)
    client.force_login(owner)
    page = client.post("/admin/accounts/apitoken/add/", {
        "user": other_user.pk, "name": "mine", "scope": "write", "expires_at_0": "", "expires_at_1": ""})
    assert page.status_code == 200, page.content[:2000]
    mine = ApiToken.objects.get(name="mine")
    assert mine.user == owner  # the form has no user field for them: always their own
    listing = client.get("/admin/accounts/apitoken/").content.decode()
    assert "mine" in listing and theirs.name not in listing
    assert client.get(f"/admin/accounts/apitoken/{theirs.pk}/change/").status_code == 403
    client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [theirs.pk]})
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None

    client.force_login(viewer)
    page = client.post("/admin/accounts/apitoken/add/", {"name": "v", "scope": "write"})
    assert "A viewer can only create read-only tokens." in page.content.decode()
    assert not ApiToken.objects.filter(user=viewer).exists()


def create_for(user):
    from accounts import api_tokens

    return api_tokens.api_token_create(user=user, name=f"{user.username}-token", scope="read")
