"""/api/v2/auth/users[/{id}]: admins manage everyone, users themselves."""

import pytest

from accounts.models import NotificationPreferences, UiPreferences, User
from cronhub.testing.auth import access_token_for
from cronhub.testing.factories import JobFactory, NotificationFactory, UserFactory
from jobs.models import Job
from notifications.models import Notification

pytestmark = pytest.mark.django_db

USERS = "/api/v2/auth/users"


def url(user_or_id) -> str:
    return f"{USERS}/{getattr(user_or_id, 'pk', user_or_id)}"


# --- list ----------------------------------------------------------------------------------


def test_admins_list_every_user_in_creation_order(api, admin_user, owner, inactive_user):
    response = api(admin_user).get(USERS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [u["id"] for u in body["users"]] == [admin_user.pk, owner.pk, inactive_user.pk]
    assert all("password" not in u for u in body["users"])


@pytest.mark.parametrize("persona", ["owner", "viewer"])
def test_non_admins_cannot_list_users(request, api, persona):
    response = api(request.getfixturevalue(persona)).get(USERS)
    assert response.status_code == 403
    assert response.json() == {"detail": "Admin access required"}


def test_listing_users_needs_a_token(api, db):
    assert api().get(USERS).status_code == 401


# --- get --------------------------------------------------------------------------------------


def test_a_user_reads_their_own_record(api, owner):
    response = api(owner).get(url(owner))
    assert response.status_code == 200
    assert response.json()["user"]["id"] == owner.pk


def test_an_admin_reads_anyone(api, admin_user, viewer):
    assert api(admin_user).get(url(viewer)).json()["user"]["username"] == "victor_viewer"


@pytest.mark.parametrize("persona", ["owner", "viewer"])
def test_others_records_are_forbidden_before_lookup(request, api, persona, other_user):
    client = api(request.getfixturevalue(persona))
    for target in (other_user.pk, "does-not-exist"):
        response = client.get(url(target))
        assert response.status_code == 403
        assert response.json() == {"error": "Forbidden. You can only view your own profile."}


def test_an_unknown_user_is_404_for_admins_and_any_id_is_accepted(api, admin_user):
    response = api(admin_user).get(url("not-a-uuid"))
    assert response.status_code == 404
    assert response.json() == {"error": "User not found"}


def test_an_inactive_users_token_cannot_read_even_itself(api, inactive_user):
    response = api(inactive_user).get(url(inactive_user))
    assert response.status_code == 401
    assert response.json() == {"detail": "User account is deactivated"}


# --- update -------------------------------------------------------------------------------------


def test_a_user_changes_their_own_email_and_password(api, owner):
    response = api(owner).put(
        url(owner),
        {"email": "  Olivia.New@Example.com ", "password": "newpass1", "username": "ignored"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "User updated successfully"
    assert body["updated_fields"] == ["email", "password"]
    assert body["user"]["email"] == "olivia.new@example.com"
    owner.refresh_from_db()
    assert owner.email == "olivia.new@example.com" and owner.username == "olivia_owner"
    assert owner.check_password("newpass1")


def test_an_admin_changes_any_field(api, admin_user, owner):
    response = api(admin_user).put(
        url(owner), {"is_active": False, "role": "viewer", "email": "o@example.com"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["updated_fields"] == ["email", "role", "is_active"]
    owner.refresh_from_db()
    assert (owner.role, owner.is_active, owner.email) == ("viewer", False, "o@example.com")


def test_unchanged_email_is_still_reported_updated(api, owner):
    response = api(owner).put(url(owner), {"email": "olivia@example.com"}, format="json")
    assert response.json()["updated_fields"] == ["email"]


def test_false_like_strings_deactivate(api, admin_user, owner):
    api(admin_user).put(url(owner), {"is_active": "false"}, format="json")
    owner.refresh_from_db()
    assert owner.is_active is False


def test_an_admin_may_demote_themself(api, admin_user):
    response = api(admin_user).put(url(admin_user), {"role": "user"}, format="json")
    assert response.status_code == 200
    admin_user.refresh_from_db()
    assert admin_user.role == "user"


@pytest.mark.dbcompat
@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"email": "oscar@example.com"}, 409, {"error": "Email already exists"}),
        ({"password": "short"}, 400, {"error": "Password must be at least 6 characters long"}),
        ({"role": "admin"}, 403, {"error": "Only admins can change user roles"}),
        ({"role": None}, 403, {"error": "Only admins can change user roles"}),
        ({"is_active": True}, 403, {"error": "Only admins can change user active status"}),
        ({}, 400, {"error": "No valid fields to update"}),
        ({"username": "renamed", "email": "", "password": None}, 400, {"error": "No valid fields to update"}),
        (
            {"email": "not-an-email"},
            400,
            {"error": "Invalid email", "message": "email must be a valid e-mail address."},
        ),
        ({"email": 42}, 400, {"error": "Invalid email", "message": "email must be a string."}),
        ({"password": 12345678}, 400, {"error": "Invalid password", "message": "password must be a string."}),
    ],
)
def test_self_update_errors(api, owner, other_user, body, status, error):
    response = api(owner).put(url(owner), body, format="json")
    assert response.status_code == status
    assert response.json() == error


def test_an_admin_sending_an_invalid_role_gets_a_400(api, admin_user, owner):
    response = api(admin_user).put(url(owner), {"role": "root"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid role", "message": "Role must be one of: admin, user, viewer"}


@pytest.mark.dbcompat
def test_a_failed_update_changes_nothing(api, owner):
    # the old server committed the e-mail before refusing the role
    response = api(owner).put(
        url(owner), {"email": "sneaky@example.com", "password": "newpass1", "role": "admin"}, format="json"
    )
    assert response.status_code == 403
    owner.refresh_from_db()
    assert owner.email == "olivia@example.com" and owner.role == "user"
    assert owner.check_password("secret123")


def test_a_user_cannot_update_someone_else_and_that_is_checked_before_lookup(api, owner, other_user):
    for target in (other_user.pk, "nobody"):
        response = api(owner).put(url(target), {"email": "x@example.com"}, format="json")
        assert response.status_code == 403
        assert response.json() == {"error": "Forbidden. You can only update your own profile."}
    other_user.refresh_from_db()
    assert other_user.email == "oscar@example.com"


def test_viewers_may_update_themselves(api, viewer):
    assert api(viewer).put(url(viewer), {"password": "viewerpass"}, format="json").status_code == 200


def test_update_checks_content_type_first_then_json(api, admin_user, owner):
    client = api(admin_user)
    wrong_type = client.put(url("nobody"), data="email=x", content_type="text/plain")
    assert wrong_type.status_code == 400
    assert wrong_type.json() == {"error": "Content-Type must be application/json"}
    assert client.put(url("nobody"), {}, format="json").json() == {"error": "User not found"}
    bad_json = client.put(url(owner), data="{oops", content_type="application/json; charset=utf-8")
    assert bad_json.json() == {"error": "Invalid JSON"}
    array = client.put(url(owner), data="[1]", content_type="application/json")
    assert array.json() == {"error": "Invalid payload", "message": "JSON body must be an object."}
    empty = client.put(url(owner), data="", content_type="application/json")
    assert empty.json() == {"error": "Invalid JSON"}


def test_a_new_password_works_for_login(api, owner):
    api(owner).put(url(owner), {"password": "brand-new"}, format="json")
    login = api().post(
        "/api/v2/auth/login", {"username": "olivia_owner", "password": "brand-new"}, format="json"
    )
    assert login.status_code == 200


# --- delete -----------------------------------------------------------------------------------------


@pytest.mark.dbcompat
def test_deleting_a_user_removes_notifications_and_preferences_and_keeps_their_jobs(api, admin_user, owner):
    job = JobFactory(created_by=owner)
    NotificationFactory(user=owner)
    NotificationPreferences.objects.create(user=owner)
    UiPreferences.objects.create(user=owner)  # made the old server answer 500
    token = access_token_for(owner)

    response = api(admin_user).delete(url(owner))

    assert response.status_code == 200
    assert response.json() == {
        "message": "User deleted successfully",
        "deleted_user": {"id": owner.pk, "username": "olivia_owner"},
    }
    assert not User.objects.filter(pk=owner.pk).exists()
    assert not Notification.objects.filter(user_id=owner.pk).exists()
    assert not NotificationPreferences.objects.exists() and not UiPreferences.objects.exists()
    assert Job.objects.get(pk=job.pk).created_by is None
    stale = api()
    stale.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert stale.get("/api/v2/auth/me").json() == {"detail": "User not found"}


def test_an_admin_cannot_delete_themself(api, admin_user):
    response = api(admin_user).delete(url(admin_user))
    assert response.status_code == 400
    assert response.json() == {"error": "Cannot delete your own account"}
    assert User.objects.filter(pk=admin_user.pk).exists()


def test_deleting_an_unknown_user_is_404(api, admin_user):
    response = api(admin_user).delete(url("ghost"))
    assert response.status_code == 404
    assert response.json() == {"error": "User not found"}


@pytest.mark.parametrize("persona", ["owner", "viewer"])
def test_non_admins_cannot_delete_even_themselves(request, api, persona):
    user = request.getfixturevalue(persona)
    response = api(user).delete(url(user))
    assert response.status_code == 403
    assert response.json() == {"detail": "Admin access required"}
    assert User.objects.filter(pk=user.pk).exists()


def test_anonymous_cannot_touch_users(api, owner):
    for method in ("get", "put", "delete"):
        response = getattr(api(), method)(url(owner))
        assert response.status_code == 401
        assert response.json() == {"detail": "Not authenticated"}


def test_user_records_carry_offset_timestamps(api, admin_user):
    user = UserFactory()
    body = api(admin_user).get(url(user)).json()["user"]
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")
