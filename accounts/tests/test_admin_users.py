"""Users in the admin, and who may use the admin at all (every active role; what each may do
there is in ``cronhub/tests/test_admin_roles.py``)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User
from cronhub.testing.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def test_an_admin_logs_in_with_username_and_password_and_sees_the_admin(client, admin_user):
    response = client.post(
        reverse("admin:login"), {"username": "alice_admin", "password": TEST_PASSWORD, "next": "/admin/"}
    )

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("persona", ["owner", "viewer"])
def test_users_and_viewers_log_in_to_the_admin_and_see_the_jobs(client, persona, request):
    user = request.getfixturevalue(persona)

    response = client.post(
        reverse("admin:login"), {"username": user.username, "password": TEST_PASSWORD, "next": "/admin/"}
    )

    assert response.status_code == 302
    assert client.get("/admin/jobs/job/").status_code == 200
    assert "/admin/accounts/user/add/" not in client.get("/admin/").content.decode()


def test_an_inactive_account_cannot_log_in_to_the_admin(client, inactive_user):
    response = client.post(
        reverse("admin:login"),
        {"username": inactive_user.username, "password": TEST_PASSWORD, "next": "/admin/"},
    )

    assert response.status_code == 200  # the login form again, with an error
    assert "/admin/jobs/" not in response.content.decode()
    assert client.get("/admin/jobs/job/").status_code == 302


def test_a_user_edits_its_own_profile_but_not_its_role_and_cannot_open_another_users_page(
        client, owner, other_user):
    client.force_login(owner)

    own = client.get(reverse("admin:accounts_user_change", args=[owner.pk]))
    response = client.post(reverse("admin:accounts_user_change", args=[owner.pk]),
                           {"email": "olivia.new@example.com", "new_password": "", "role": "admin"})

    assert own.status_code == 200 and 'name="role"' not in own.content.decode()
    assert response.status_code == 302
    owner.refresh_from_db()
    assert (owner.email, owner.role) == ("olivia.new@example.com", "user")
    assert client.get(reverse("admin:accounts_user_change", args=[other_user.pk])).status_code == 403
    assert client.get(reverse("admin:accounts_user_add")).status_code == 403


def test_an_admin_creates_a_user_with_a_role_and_a_hashed_password(staff):
    response = staff.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newbie",
            "email": "Newbie@Example.com",
            "new_password": "hunter22",
            "role": "viewer",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert (user.email, user.role, user.is_active) == ("newbie@example.com", "viewer", True)
    assert user.password != "hunter22" and user.check_password("hunter22")


@pytest.mark.parametrize("password", ["", "abc"])
def test_a_new_user_needs_a_password_of_six_characters(staff, password):
    response = staff.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newbie",
            "email": "n@example.com",
            "new_password": password,
            "role": "user",
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert "new_password" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="newbie").exists()


def test_changing_role_and_password_and_keeping_the_password_when_left_empty(staff, owner):
    url = reverse("admin:accounts_user_change", args=[owner.pk])

    staff.post(
        url,
        {
            "username": owner.username,
            "email": owner.email,
            "new_password": "",
            "role": "admin",
            "is_active": "on",
        },
    )
    owner.refresh_from_db()
    assert owner.role == "admin" and owner.check_password(TEST_PASSWORD)

    staff.post(
        url, {"username": owner.username, "email": owner.email, "new_password": "changed!", "role": "user"}
    )
    owner.refresh_from_db()
    assert owner.role == "user" and owner.is_active is False
    assert owner.check_password("changed!")


def test_an_admin_cannot_remove_their_own_admin_access(staff, admin_user):
    response = staff.post(
        reverse("admin:accounts_user_change", args=[admin_user.pk]),
        {
            "username": admin_user.username,
            "email": admin_user.email,
            "new_password": "",
            "role": "viewer",
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert "You cannot remove your own admin access." in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.role == "admin"


def test_the_email_must_be_unique_ignoring_case(staff, owner):
    response = staff.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "twin",
            "email": owner.email.upper(),
            "new_password": "secret99",
            "role": "user",
            "is_active": "on",
        },
    )

    assert response.context["adminform"].form.errors["email"] == ["Email already exists"]
