"""/api/v2/job-categories, and how names become slugs."""

import datetime as dt

import pytest
from django.utils import timezone

from cronhub.testing.factories import JobCategoryFactory, JobFactory
from jobs.models import Job
from taxonomy.models import JobCategory
from taxonomy.services import slugify

pytestmark = pytest.mark.django_db

CATEGORIES = "/api/v2/job-categories"
SEEDED = {
    "general",
    "regression",
    "dr-testing",
    "feature-testing",
    "prod-canary",
    "refund",
    "backward-compatibility",
}


def url(category_or_id) -> str:
    return f"{CATEGORIES}/{getattr(category_or_id, 'pk', category_or_id)}"


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("  Smoke Tests!! ", "smoke-tests"),
        ("Prod/Canary", "prod-canary"),
        ("QA Tech", "qa-tech"),
        ("a__b--c", "a-b-c"),
        ("日本語", ""),
    ],
)
def test_slugify_follows_the_contract(text, slug):
    assert slugify(text) == slug


# --- list -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["admin_user", "owner", "viewer"])
def test_every_role_lists_active_categories_by_name(request, api, persona):
    JobCategoryFactory(name="aardvark", slug="aardvark")
    JobCategoryFactory(name="Zulu", slug="zulu", is_active=False)

    response = api(request.getfixturevalue(persona)).get(CATEGORIES)

    assert response.status_code == 200
    categories = response.json()["categories"]
    names = [c["name"] for c in categories]
    assert names == sorted(names, key=str.lower) and names[0] == "aardvark"
    assert {c["slug"] for c in categories} == SEEDED | {"aardvark"}
    assert set(categories[0]) == {"id", "slug", "name", "is_active", "created_at", "updated_at"}


def test_include_inactive_is_honoured_for_admins_only(api, admin_user, owner):
    JobCategoryFactory(name="Retired", slug="retired", is_active=False)
    admin_slugs = {
        c["slug"] for c in api(admin_user).get(CATEGORIES, {"include_inactive": "TRUE"}).json()["categories"]
    }
    user_slugs = {
        c["slug"] for c in api(owner).get(CATEGORIES, {"include_inactive": "true"}).json()["categories"]
    }
    assert "retired" in admin_slugs and "retired" not in user_slugs


def test_an_unreadable_include_inactive_is_a_400(api, admin_user):
    response = api(admin_user).get(CATEGORIES, {"include_inactive": "maybe"})
    assert response.status_code == 400
    assert response.json()["detail"][0]["loc"] == ["query", "include_inactive"]


def test_listing_needs_a_token(api, inactive_user):
    assert api().get(CATEGORIES).json() == {"detail": "Not authenticated"}
    assert api(inactive_user).get(CATEGORIES).status_code == 401


# --- create ----------------------------------------------------------------------------------


def test_an_admin_creates_a_category_with_a_derived_slug(api, admin_user):
    response = api(admin_user).post(CATEGORIES, {"name": "  Smoke Tests!! "}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "Category created"
    assert body["category"]["slug"] == "smoke-tests" and body["category"]["name"] == "Smoke Tests!!"
    assert body["category"]["is_active"] is True
    assert JobCategory.objects.get(slug="smoke-tests").pk == body["category"]["id"]


def test_an_explicit_slug_is_slugified(api, admin_user):
    response = api(admin_user).post(CATEGORIES, {"name": "Load", "slug": "Perf Load"}, format="json")
    assert response.json()["category"]["slug"] == "perf-load"


@pytest.mark.dbcompat
@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({}, 400, {"error": "Missing required fields", "message": '"name" is required.'}),
        ({"name": "   "}, 400, {"error": "Missing required fields", "message": '"name" is required.'}),
        ({"name": 5}, 400, {"error": "Missing required fields", "message": "Name must be a string."}),
        (
            {"name": "日本語"},
            400,
            {"error": "Invalid slug", "message": "Unable to generate a valid slug from name."},
        ),
        (
            {"name": "Regression"},
            409,
            {"error": "Duplicate slug", "message": 'Category slug "regression" already exists.'},
        ),
        (
            {"name": "x" * 256},
            400,
            {"error": "Invalid name", "message": "Name must be at most 255 characters."},
        ),
        ({"name": "ok", "slug": ["x"]}, 400, {"error": "Invalid slug", "message": "slug must be a string."}),
    ],
)
def test_create_errors(api, admin_user, body, status, error):
    before = JobCategory.objects.count()
    response = api(admin_user).post(CATEGORIES, body, format="json")
    assert response.status_code == status
    assert response.json() == error
    assert JobCategory.objects.count() == before


def test_a_disabled_categorys_slug_is_still_taken(api, admin_user):
    JobCategoryFactory(name="Old", slug="old", is_active=False)
    assert api(admin_user).post(CATEGORIES, {"name": "OLD"}, format="json").status_code == 409


def test_create_checks_content_type_and_json(api, admin_user):
    client = api(admin_user)
    assert client.post(
        CATEGORIES, data="name=x", content_type="application/x-www-form-urlencoded"
    ).json() == {"error": "Content-Type must be application/json"}
    assert client.post(CATEGORIES, data="{", content_type="application/json").json() == {
        "error": "Invalid JSON"
    }
    assert client.post(CATEGORIES, data="[]", content_type="application/json").json() == {
        "error": "Invalid payload",
        "message": "JSON body must be an object.",
    }


@pytest.mark.parametrize("persona", ["owner", "viewer"])
def test_non_admins_cannot_write_categories(request, api, persona):
    category = JobCategoryFactory(name="Mine", slug="mine")
    client = api(request.getfixturevalue(persona))
    for response in (
        client.post(CATEGORIES, {"name": "X"}, format="json"),
        client.put(url(category), {"name": "Y"}, format="json"),
        client.delete(url(category)),
    ):
        assert response.status_code == 403
        assert response.json() == {"detail": "Admin access required"}
    category.refresh_from_db()
    assert category.name == "Mine" and category.is_active


def test_anonymous_cannot_write_categories(api, db):
    assert api().post(CATEGORIES, {"name": "X"}, format="json").status_code == 401


# --- update ------------------------------------------------------------------------------------


@pytest.mark.dbcompat
def test_a_rename_re_slugs_and_rewrites_matching_jobs(api, admin_user):
    category = JobCategoryFactory(name="Smoke Tests", slug="smoke-tests")
    long_ago = timezone.now() - dt.timedelta(days=3)
    moved = [JobFactory(category="smoke-tests") for _ in range(3)]
    untouched = JobFactory(category="regression")
    Job.objects.update(updated_at=long_ago)

    response = api(admin_user).put(url(category), {"name": "Smoke Suite"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Category updated" and body["jobs_updated"] == 3
    assert body["category"]["slug"] == "smoke-suite" and body["category"]["name"] == "Smoke Suite"
    for job in moved:
        job.refresh_from_db()
        assert job.category == "smoke-suite" and job.updated_at > long_ago
    untouched.refresh_from_db()
    assert untouched.category == "regression" and untouched.updated_at == long_ago


def test_renaming_to_the_same_slug_moves_no_jobs(api, admin_user):
    category = JobCategoryFactory(name="Smoke Tests", slug="smoke-tests")
    JobFactory(category="smoke-tests")
    response = api(admin_user).put(url(category), {"name": "SMOKE tests"}, format="json")
    assert response.json()["jobs_updated"] == 0
    assert response.json()["category"]["name"] == "SMOKE tests"


def test_enable_and_disable_by_truthiness(api, admin_user):
    category = JobCategoryFactory(name="Flaky", slug="flaky")
    assert (
        api(admin_user).put(url(category), {"is_active": 0}, format="json").json()["category"]["is_active"]
        is False
    )
    assert api(admin_user).put(url(category), {"is_active": "yes"}, format="json").json()["jobs_updated"] == 0
    category.refresh_from_db()
    assert category.is_active is True


@pytest.mark.dbcompat
@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"name": ""}, 400, {"error": "Invalid name", "message": "Name cannot be empty."}),
        ({"name": None}, 400, {"error": "Invalid name", "message": "Name cannot be empty."}),
        (
            {"name": "!!!"},
            400,
            {"error": "Invalid slug", "message": "Unable to generate a valid slug from name."},
        ),
        (
            {"name": "Regression"},
            409,
            {"error": "Duplicate slug", "message": 'Category slug "regression" already exists.'},
        ),
        (
            {"slug": "x"},
            400,
            {
                "error": "Invalid payload",
                "message": "Slug cannot be edited directly; it is derived from name.",
            },
        ),
    ],
)
def test_update_errors_change_nothing(api, admin_user, body, status, error):
    category = JobCategoryFactory(name="Smoke Tests", slug="smoke-tests")
    job = JobFactory(category="smoke-tests")
    response = api(admin_user).put(url(category), body, format="json")
    assert response.status_code == status
    assert response.json() == error
    category.refresh_from_db()
    job.refresh_from_db()
    assert (category.name, category.slug, job.category) == ("Smoke Tests", "smoke-tests", "smoke-tests")


def test_a_rename_with_a_slug_key_is_rejected_before_anything_changes(api, admin_user):
    # the old server renamed (and rewrote jobs) before refusing the slug
    category = JobCategoryFactory(name="Smoke Tests", slug="smoke-tests")
    job = JobFactory(category="smoke-tests")
    response = api(admin_user).put(
        url(category), {"name": "New", "slug": "x", "is_active": False}, format="json"
    )
    assert response.status_code == 400
    category.refresh_from_db()
    job.refresh_from_db()
    assert (category.name, category.is_active, job.category) == ("Smoke Tests", True, "smoke-tests")


def test_general_cannot_be_renamed_but_can_be_disabled(api, admin_user):
    general = JobCategory.objects.get(slug="general")
    refused = api(admin_user).put(url(general), {"name": "Misc"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "Invalid category",
        "message": 'The "General" category cannot be renamed.',
    }
    assert (
        api(admin_user).put(url(general), {"name": "General", "is_active": False}, format="json").status_code
        == 200
    )
    general.refresh_from_db()
    assert general.name == "General" and general.is_active is False


def test_update_of_an_unknown_category_is_404_after_the_body_checks(api, admin_user):
    client = api(admin_user)
    response = client.put(url("ghost"), {"name": "x"}, format="json")
    assert response.status_code == 404
    assert response.json() == {"error": "Not found", "message": "No category found with ID: ghost"}
    assert client.put(url("ghost"), data="{", content_type="application/json").json() == {
        "error": "Invalid JSON"
    }
    assert client.put(url("ghost"), data="x", content_type="text/plain").json() == {
        "error": "Content-Type must be application/json"
    }


# --- delete ---------------------------------------------------------------------------------------


def test_delete_disables_and_jobs_keep_the_slug(api, admin_user):
    category = JobCategoryFactory(name="Smoke", slug="smoke")
    job = JobFactory(category="smoke")
    response = api(admin_user).delete(url(category))
    assert response.status_code == 200
    assert response.json()["message"] == "Category disabled"
    assert response.json()["category"]["is_active"] is False
    category.refresh_from_db()
    job.refresh_from_db()
    assert category.is_active is False and job.category == "smoke"


def test_delete_of_an_unknown_category_is_404(api, admin_user):
    response = api(admin_user).delete(url("ghost"))
    assert response.status_code == 404
    assert response.json() == {"error": "Not found", "message": "No category found with ID: ghost"}
