"""Cloning a job in the admin, and the job form a new install meets first: required fields
marked as such with their rule, a "+" to add a PIC team, ``{}`` metadata shown as ``{}``."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from cronhub.testing.factories import JobFactory, PicTeamFactory
from jobs.models import Job
from jobs.tests.test_admin_job_form import form_data

pytestmark = pytest.mark.django_db

ADD = reverse("admin:jobs_job_add")


def initial(page: str, name: str) -> str | None:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', page)
    return match.group(1) if match else None


def test_clone_opens_the_add_form_filled_in_under_a_free_copy_name(staff):
    PicTeamFactory(name="Platform QA", slug="platform-qa")
    job = JobFactory(name="nightly", cron_expression="0 10 * * 1-5", pic_team="platform-qa",
                     target_url="https://hooks.example.com/n", metadata={"env": "stg"})
    JobFactory(name="nightly (copy)")

    redirect = staff.get(reverse("admin:jobs_job_clone", args=[job.pk]))
    page = staff.get(redirect["Location"]).content.decode()

    assert redirect.status_code == 302 and redirect["Location"].startswith(ADD)
    assert initial(page, "name") == "nightly (copy 2)"
    assert initial(page, "cron_expression") == "0 10 * * 1-5"
    assert initial(page, "target_url") == "https://hooks.example.com/n"
    assert "&quot;env&quot;: &quot;stg&quot;" in page
    saved = staff.post(redirect["Location"], form_data(name="nightly (copy 2)", pic_team="platform-qa"))
    assert saved.status_code == 302
    assert Job.objects.filter(name__startswith="nightly").count() == 3


def test_a_long_name_is_shortened_so_the_copy_still_fits():
    from jobs.rules import copy_name

    JobFactory(name="x" * 255)

    assert copy_name("x" * 255) == "x" * 248 + " (copy)"


def test_a_user_cloning_anothers_webhook_job_types_the_url_again(client, owner, other_user):
    job = JobFactory(name="theirs", created_by=other_user, target_url="https://hooks.example.com/t/SECRET")
    client.force_login(owner)

    page = client.get(f"{ADD}?_clone={job.pk}").content.decode()

    assert initial(page, "name") == "theirs (copy)"
    assert "SECRET" not in page


def test_the_blank_form_marks_what_is_required_and_says_the_rule(staff):
    page = staff.get(ADD).content.decode()

    for field in ("name", "cron_expression", "end_date", "pic_team"):
        assert re.search(rf'<label class="required" for="id_{field}">', page), field
    assert "today or later" in page  # the end date's rule, before any error
    assert "errorlist" not in page and "errornote" not in page


def test_an_admin_adds_a_pic_team_from_the_job_form_and_gets_its_slug_back(staff):
    page = staff.get(ADD).content.decode()
    link = reverse("admin:taxonomy_picteam_add") + "?_to_field=slug&amp;_popup=1"
    assert f'id="add_id_pic_team" data-popup="yes" href="{link}"' in page

    response = staff.post(reverse("admin:taxonomy_picteam_add") + "?_to_field=slug&_popup=1",
                          {"name": "QA Tech", "slack_handle": "@qa-tech", "is_active": "on",
                           "_to_field": "slug", "_popup": "1"})

    assert response.status_code == 200
    assert '&quot;value&quot;: &quot;qa-tech&quot;' in response.content.decode()


def test_a_user_is_told_who_adds_teams_instead_of_a_plus(client, owner):
    client.force_login(owner)

    page = client.get(ADD).content.decode()

    assert 'id="add_id_pic_team"' not in page
    assert "An admin adds PIC teams" in page


def test_a_job_without_inputs_shows_an_empty_object_not_null(staff):
    job = JobFactory(metadata=None)

    page = staff.get(reverse("admin:jobs_job_change", args=[job.pk])).content.decode()

    assert re.search(r'<textarea[^>]*name="metadata"[^>]*>\s*\{\}</textarea>', page)
