"""The user admin asks the API's rules: the same refusal, with the same message, on the
field it concerns; and a save writes the user once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from cronhub.testing.factories import TEST_PASSWORD
from cronhub.testing.queries import writes

pytestmark = pytest.mark.django_db

VALID = {"username": "newbie", "email": "n@example.com", "new_password": "secret99", "role": "user",
         "is_active": "on"}




def add_form_errors(staff, **changes) -> dict:
    response = staff.post(reverse("admin:accounts_user_add"), {**VALID, **changes})
    assert response.status_code == 200, "the form should have been refused"
    return response.context["adminform"].form.errors


@pytest.mark.parametrize(
    ("changes", "field", "api_field"),
    [
        ({"username": "jo"}, "username", "username"),
        ({"username": "john doe"}, "username", "username"),
        ({"username": "j" * 81}, "username", "username"),
        ({"email": "not-an-email"}, "email", "email"),
        ({"new_password": "short"}, "new_password", "password"),
    ],
)
def test_a_new_user_is_refused_like_the_api_refuses_it(staff, api, admin_user, changes, field, api_field):
    errors = add_form_errors(staff, **changes)

    body = {"username": VALID["username"], "email": VALID["email"], "password": VALID["new_password"]}
    body[api_field] = changes[field]
    answer = api(admin_user).post("/api/v2/auth/register", body, format="json").json()
    [item] = [item for item in answer["detail"] if item["loc"] == ["body", api_field]]
    assert errors == {field: [item["msg"]]}
    assert not User.objects.filter(email__in=["n@example.com", "not-an-email"]).exists()


def test_a_taken_username_is_on_the_username_field_whatever_its_case(staff, owner):
    errors = add_form_errors(staff, username=owner.username.upper())

    assert errors == {"username": ["Username already exists"]}


def test_username_and_e_mail_problems_show_together_each_on_its_field(staff, owner):
    errors = add_form_errors(staff, username="x y", email=owner.email, new_password="abc")

    assert set(errors) == {"username", "email", "new_password"}
    assert errors["email"] == ["Email already exists"]


def test_changing_to_a_taken_e_mail_gives_the_api_message_on_email(staff, api, admin_user, owner, other_user):
    response = staff.post(
        reverse("admin:accounts_user_change", args=[owner.pk]),
        {"email": other_user.email.upper(), "new_password": "", "role": "user", "is_active": "on"},
    )

    api_answer = api(admin_user).put(f"/api/v2/auth/users/{owner.pk}", {"email": other_user.email},
                                     format="json")
    assert response.context["adminform"].form.errors == {"email": [api_answer.json()["error"]]}
    owner.refresh_from_db()
    assert owner.email == "olivia@example.com"


def test_adding_a_user_inserts_it_once(staff):
    with CaptureQueriesContext(connection) as queries:
        response = staff.post(reverse("admin:accounts_user_add"), VALID)

    assert response.status_code == 302
    assert writes(queries, "INSERT", "users") == 1
    assert User.objects.get(username="newbie").check_password("secret99")


def test_editing_a_user_updates_it_once_and_the_read_only_username_is_not_needed(staff, owner):
    with CaptureQueriesContext(connection) as queries:
        response = staff.post(
            reverse("admin:accounts_user_change", args=[owner.pk]),
            {"email": "Olivia.New@Example.com", "new_password": "", "role": "viewer", "is_active": "on"},
        )

    assert response.status_code == 302
    assert writes(queries, "UPDATE", "users") == 1
    owner.refresh_from_db()
    assert (owner.email, owner.role) == ("olivia.new@example.com", "viewer")
    assert owner.check_password(TEST_PASSWORD)
