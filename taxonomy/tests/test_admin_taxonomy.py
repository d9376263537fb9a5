"""Categories and PIC teams in the admin: slugs come from names, a rename
rewrites the slug in every job, disabling leaves jobs alone."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cronhub.testing.factories import JobCategoryFactory, JobFactory, PicTeamFactory
from jobs.models import Job
from taxonomy.models import JobCategory, PicTeam

pytestmark = pytest.mark.django_db


def test_adding_a_category_derives_its_slug_from_the_name(staff):
    response = staff.post(
        reverse("admin:taxonomy_jobcategory_add"), {"name": "  Smoke Tests!! ", "is_active": "on"}
    )

    assert response.status_code == 302
    assert JobCategory.objects.get(name="Smoke Tests!!").slug == "smoke-tests"


def test_a_duplicate_slug_is_refused(staff):
    JobCategoryFactory(name="Smoke Tests", slug="smoke-tests")
    before = JobCategory.objects.count()

    response = staff.post(
        reverse("admin:taxonomy_jobcategory_add"), {"name": "smoke tests", "is_active": "on"}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == [
        'Category slug "smoke-tests" already exists.'
    ]
    assert JobCategory.objects.count() == before


def test_renaming_a_category_rewrites_the_slug_in_its_jobs(staff):
    category = JobCategoryFactory(name="Smoke Tests", slug="smoke-tests")
    jobs = JobFactory.create_batch(3, category="smoke-tests")
    other = JobFactory(category="general")

    response = staff.post(
        reverse("admin:taxonomy_jobcategory_change", args=[category.pk]),
        {"name": "Smoke Suite", "is_active": "on"},
        follow=True,
    )

    assert "3 job(s) updated" in response.content.decode()
    category.refresh_from_db()
    assert (category.name, category.slug) == ("Smoke Suite", "smoke-suite")
    assert set(Job.objects.filter(pk__in=[j.pk for j in jobs]).values_list("category", flat=True)) == {
        "smoke-suite"
    }
    other.refresh_from_db()
    assert other.category == "general"


def test_the_general_category_cannot_be_renamed(staff):
    general = JobCategoryFactory(name="General", slug="general")

    response = staff.post(
        reverse("admin:taxonomy_jobcategory_change", args=[general.pk]), {"name": "Misc", "is_active": "on"}
    )

    assert response.context["adminform"].form.errors["name"] == ['The "General" category cannot be renamed.']
    general.refresh_from_db()
    assert general.name == "General"


def test_renaming_a_team_onto_an_existing_slug_changes_nothing(staff):
    PicTeamFactory(name="Mobile QA", slug="mobile-qa")
    team = PicTeamFactory(name="Web QA", slug="web-qa")
    job = JobFactory(pic_team="web-qa")

    response = staff.post(
        reverse("admin:taxonomy_picteam_change", args=[team.pk]),
        {"name": "Mobile  QA", "slack_handle": "@web", "is_active": "on"},
    )

    assert response.context["adminform"].form.errors["name"] == ['PIC team slug "mobile-qa" already exists.']
    team.refresh_from_db()
    job.refresh_from_db()
    assert (team.slug, job.pic_team) == ("web-qa", "web-qa")


def test_renaming_a_team_rewrites_pic_team_in_jobs_and_keeps_other_edits(staff):
    team = PicTeamFactory(name="QA Tech", slug="qa-tech", slack_handle="@qa")
    job = JobFactory(pic_team="qa-tech")

    response = staff.post(
        reverse("admin:taxonomy_picteam_change", args=[team.pk]),
        {"name": "QA Platform", "slack_handle": "<!subteam^S1>", "is_active": "on"},
    )

    assert response.status_code == 302
    team.refresh_from_db()
    job.refresh_from_db()
    assert (team.name, team.slug, team.slack_handle) == ("QA Platform", "qa-platform", "<!subteam^S1>")
    assert job.pic_team == "qa-platform"


def test_a_team_needs_a_slack_handle(staff):
    response = staff.post(
        reverse("admin:taxonomy_picteam_add"), {"name": "New", "slack_handle": "  ", "is_active": "on"}
    )

    assert response.context["adminform"].form.errors["slack_handle"] == ['"slack_handle" is required.']
    assert not PicTeam.objects.exists()


def test_disabling_a_team_leaves_its_jobs_alone_and_delete_is_not_offered(staff):
    team = PicTeamFactory(name="Old", slug="old")
    job = JobFactory(pic_team="old")

    staff.post(
        reverse("admin:taxonomy_picteam_changelist"),
        {"action": "disable_selected", "_selected_action": [team.pk]},
    )

    team.refresh_from_db()
    job.refresh_from_db()
    assert team.is_active is False and job.pic_team == "old"
    assert staff.get(reverse("admin:taxonomy_picteam_delete", args=[team.pk])).status_code == 403
