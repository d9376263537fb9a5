"""The category and PIC team admin asks the API's rules: the same refusal, with the same
message, on the field it concerns; and a save writes once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cronhub.testing.factories import JobCategoryFactory, JobFactory
from cronhub.testing.queries import writes
from jobs.models import Job
from taxonomy.models import JobCategory, PicTeam

pytestmark = pytest.mark.django_db




@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"name": "n" * 256, "slack_handle": "@qa"}, "name"),
        ({"name": "", "slack_handle": "@qa"}, "name"),
        ({"name": "!!!", "slack_handle": "@qa"}, "name"),
        ({"name": "QA", "slack_handle": "@" * 256}, "slack_handle"),
        ({"name": "QA", "slack_handle": ""}, "slack_handle"),
    ],
)
def test_a_new_team_is_refused_like_the_api_refuses_it(staff, api, admin_user, form, field):
    response = staff.post(reverse("admin:taxonomy_picteam_add"), {**form, "is_active": "on"})

    answer = api(admin_user).post("/api/v2/pic-teams", form, format="json").json()
    assert response.context["adminform"].form.errors == {field: [answer["message"]]}
    assert not PicTeam.objects.exists()


def test_renaming_to_a_taken_slug_is_on_name_with_the_api_message(staff, api, admin_user):
    JobCategoryFactory(name="Smoke", slug="smoke")
    category = JobCategoryFactory(name="Other", slug="other")

    response = staff.post(reverse("admin:taxonomy_jobcategory_change", args=[category.pk]),
                          {"name": " SMOKE ", "is_active": "on"})

    answer = api(admin_user).put(f"/api/v2/job-categories/{category.pk}", {"name": "SMOKE"},
                                 format="json").json()
    assert response.context["adminform"].form.errors == {"name": [answer["message"]]}


def test_adding_a_category_inserts_it_once(staff):
    with CaptureQueriesContext(connection) as queries:
        response = staff.post(reverse("admin:taxonomy_jobcategory_add"), {"name": "Smoke", "is_active": "on"})

    assert response.status_code == 302
    assert writes(queries, "INSERT", "job_categories") == 1
    assert JobCategory.objects.get(name="Smoke").slug == "smoke"


def test_a_rename_writes_the_category_and_its_jobs_once(staff):
    category = JobCategoryFactory(name="Smoke", slug="smoke")
    JobFactory.create_batch(2, category="smoke")

    with CaptureQueriesContext(connection) as queries:
        response = staff.post(reverse("admin:taxonomy_jobcategory_change", args=[category.pk]),
                              {"name": "Smoke Suite", "is_active": "on"})

    assert response.status_code == 302
    assert writes(queries, "UPDATE", "job_categories") == 1
    assert writes(queries, "UPDATE", "jobs") == 1
    assert set(Job.objects.values_list("category", flat=True)) == {"smoke-suite"}
