"""The role rules themselves (``cronhub/permissions.py``), for each persona: what the API and
the admin both ask."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from cronhub import permissions as may
from cronhub.testing.factories import JobFactory

pytestmark = pytest.mark.django_db

PERSONAS = ("admin_user", "owner", "other_user", "viewer", "inactive_user", "anonymous")


@pytest.fixture
def people(request):
    found = {name: request.getfixturevalue(name) for name in PERSONAS if name != "anonymous"}
    return {**found, "anonymous": AnonymousUser()}


# (rule, on the owner's job?, who says yes)
TABLE = [
    (may.can_use_console, False, {"admin_user", "owner", "other_user", "viewer"}),
    (may.can_view_job, True, {"admin_user", "owner", "other_user", "viewer"}),
    (may.can_create_job, False, {"admin_user", "owner", "other_user"}),
    (may.can_change_job, True, {"admin_user", "owner"}),
    (may.can_delete_job, True, {"admin_user", "owner"}),
    (may.can_run_job, True, {"admin_user", "owner"}),
    (may.can_view_job_secrets, True, {"admin_user", "owner"}),
    (may.can_view_job_history, True, {"admin_user", "owner", "other_user", "viewer"}),
    (may.can_export_jobs, False, {"admin_user", "owner", "other_user", "viewer"}),
    (may.can_import_jobs, False, {"admin_user", "owner", "other_user"}),
    (may.can_manage_taxonomy, False, {"admin_user"}),
    (may.can_manage_slack, False, {"admin_user"}),
    (may.can_view_system, False, {"admin_user"}),
    (may.can_manage_users, False, {"admin_user"}),
]


@pytest.mark.parametrize(("rule", "on_job", "allowed"), TABLE, ids=[rule.__name__ for rule, _, _ in TABLE])
def test_each_rule_says_yes_to_exactly_the_roles_it_names(people, owner, rule, on_job, allowed):
    job = JobFactory(created_by=owner)

    said_yes = {name for name, person in people.items() if (rule(person, job) if on_job else rule(person))}

    assert said_yes == allowed


def test_a_job_whose_owner_was_deleted_is_the_admins_alone(admin_user, owner):
    job = JobFactory(created_by=None)

    assert may.can_change_job(admin_user, job) and not may.can_change_job(owner, job)
    assert not may.can_view_job_secrets(owner, job)


def test_everyone_acts_for_themselves_and_admins_for_anyone(admin_user, owner, viewer):
    assert may.can_act_for(viewer, viewer.pk) and may.can_manage_preferences(owner, owner)
    assert not may.can_act_for(viewer, owner.pk) and not may.can_manage_tokens(owner, viewer)
    assert may.can_act_for(admin_user, owner.pk) and may.can_manage_tokens(admin_user, viewer)
    assert not may.can_delete_user(admin_user, admin_user) and may.can_delete_user(admin_user, owner)
