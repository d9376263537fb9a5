"""POST /api/v2/auth/register: admins create users."""

import pytest

from accounts.models import User
from notifications.models import Notification

pytestmark = pytest.mark.django_db

REGISTER = "/api/v2/auth/register"


def test_an_admin_registers_a_viewer_by_default_stored_lowercased(api, admin_user):
    response = api(admin_user).post(
        REGISTER, {"username": "New_User", "email": "New@Example.com", "password": "secret99"}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True and body["message"] == "User created successfully"
    assert body["user"]["username"] == "new_user" and body["user"]["email"] == "new@example.com"
    assert body["user"]["role"] == "viewer" and body["user"]["is_active"] is True
    user = User.objects.get(username="new_user")
    assert user.pk == body["user"]["id"] and user.check_password("secret99")
    assert not Notification.objects.exists()


def test_register_sets_the_role_and_active_flag(api, admin_user):
    response = api(admin_user).post(
        REGISTER,
        {
            "username": "ops",
            "email": "ops@example.com",
            "password": "secret99",
            "role": "admin",
            "is_active": False,
        },
        format="json",
    )
    assert response.status_code == 201
    user = User.objects.get(username="ops")
    assert user.role == "admin" and user.is_active is False


def test_the_new_user_can_log_in(api, admin_user):
    api(admin_user).post(
        REGISTER,
        {"username": "carol", "email": "carol@example.com", "password": "secret99", "role": "user"},
        format="json",
    )
    login = api().post("/api/v2/auth/login", {"username": "carol", "password": "secret99"}, format="json")
    assert login.status_code == 200 and login.json()["user"]["role"] == "user"


@pytest.mark.dbcompat
@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"username": "OLIVIA_owner", "email": "x@example.com", "password": "secret99"},
            "Username already exists",
        ),
        (
            {"username": "someone", "email": "OLIVIA@example.com", "password": "secret99"},
            "Email already exists",
        ),
        (
            {"username": "olivia_owner", "email": "olivia@example.com", "password": "secret99"},
            "Username already exists",
        ),
    ],
)
def test_duplicates_are_a_409_with_a_detail(api, admin_user, owner, body, detail):
    response = api(admin_user).post(REGISTER, body, format="json")
    assert response.status_code == 409
    assert response.json() == {"detail": detail}
    assert User.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "john doe", "email": "j@example.com", "password": "secret99"}, "username"),
        ({"username": "jo", "email": "j@example.com", "password": "secret99"}, "username"),
        ({"username": "j" * 81, "email": "j@example.com", "password": "secret99"}, "username"),
        ({"username": "john", "email": "not-an-email", "password": "secret99"}, "email"),
        ({"username": "john", "email": "j@example.com", "password": "short"}, "password"),
        ({"username": "john", "email": "j@example.com", "password": "secret99", "role": "root"}, "role"),
        ({"email": "j@example.com", "password": "secret99"}, "username"),
    ],
)
def test_invalid_bodies_are_400_with_a_detail_list_never_422(api, admin_user, body, field):
    response = api(admin_user).post(REGISTER, body, format="json")
    assert response.status_code == 400
    data = response.json()
    assert data["error"] == "Validation error" and field in data["message"]
    assert ["body", field] in [item["loc"] for item in data["detail"]]
    assert not User.objects.filter(email="j@example.com").exists()


@pytest.mark.parametrize(
    ("persona", "status", "body"),
    [
        ("owner", 403, {"detail": "Admin access required"}),
        ("viewer", 403, {"detail": "Admin access required"}),
        ("inactive_user", 401, {"detail": "User account is deactivated"}),
    ],
)
def test_only_admins_may_register_and_roles_are_checked_before_the_body(request, api, persona, status, body):
    client = api(request.getfixturevalue(persona))
    response = client.post(REGISTER, {"username": "bad name!"}, format="json")
    assert response.status_code == status
    assert response.json() == body


def test_anonymous_register_is_401(api, db):
    response = api().post(REGISTER, {}, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
