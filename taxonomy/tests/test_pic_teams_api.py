"""/api/v2/pic-teams: list, create, rename and disable PIC teams."""

import pytest

from cronhub.testing.factories import JobFactory, PicTeamFactory
from jobs.models import Job
from taxonomy.models import PicTeam

pytestmark = pytest.mark.django_db

TEAMS = "/api/v2/pic-teams"


def url(team_or_id) -> str:
    return f"{TEAMS}/{getattr(team_or_id, 'pk', team_or_id)}"


@pytest.fixture
def platform_qa(db):
    return PicTeamFactory(name="Platform QA", slug="platform-qa", slack_handle="<!subteam^S0123ABCD>")


@pytest.mark.parametrize("persona", ["admin_user", "owner", "viewer"])
def test_every_role_lists_active_teams_by_name(request, api, persona, platform_qa):
    PicTeamFactory(name="alpha", slug="alpha")
    PicTeamFactory(name="Gone", slug="gone", is_active=False)
    response = api(request.getfixturevalue(persona)).get(TEAMS)
    assert response.status_code == 200
    teams = response.json()["pic_teams"]
    assert [t["slug"] for t in teams] == ["alpha", "platform-qa"]
    assert teams[1] == {
        **teams[1],
        "name": "Platform QA",
        "slack_handle": "<!subteam^S0123ABCD>",
        "is_active": True,
    }
    assert set(teams[1]) == {"id", "slug", "name", "slack_handle", "is_active", "created_at", "updated_at"}


def test_include_inactive_is_for_admins_only(api, admin_user, viewer):
    PicTeamFactory(name="Gone", slug="gone", is_active=False)
    assert [t["slug"] for t in api(admin_user).get(TEAMS, {"include_inactive": "1"}).json()["pic_teams"]] == [
        "gone"
    ]
    assert api(viewer).get(TEAMS, {"include_inactive": "1"}).json()["pic_teams"] == []


def test_an_admin_creates_a_team_with_a_trimmed_handle(api, admin_user):
    response = api(admin_user).post(
        TEAMS, {"name": "Mobile QA", "slack_handle": "  @mobile-qa "}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "PIC team created"
    assert body["pic_team"]["slug"] == "mobile-qa" and body["pic_team"]["slack_handle"] == "@mobile-qa"
    assert PicTeam.objects.get(slug="mobile-qa").slack_handle == "@mobile-qa"


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"slack_handle": "@x"}, 400, {"error": "Missing required fields", "message": '"name" is required.'}),
        (
            {"name": "X Team"},
            400,
            {"error": "Missing required fields", "message": '"slack_handle" is required.'},
        ),
        (
            {"name": "X Team", "slack_handle": "  "},
            400,
            {"error": "Missing required fields", "message": '"slack_handle" is required.'},
        ),
        (
            {"name": "X Team", "slack_handle": 7},
            400,
            {"error": "Missing required fields", "message": "slack_handle must be a string."},
        ),
        (
            {"name": "---", "slack_handle": "@x"},
            400,
            {"error": "Invalid slug", "message": "Unable to generate a valid slug from name."},
        ),
        (
            {"name": "Platform QA", "slack_handle": "@x"},
            409,
            {"error": "Duplicate slug", "message": 'PIC team slug "platform-qa" already exists.'},
        ),
    ],
)
def test_create_errors(api, admin_user, platform_qa, body, status, error):
    response = api(admin_user).post(TEAMS, body, format="json")
    assert response.status_code == status
    assert response.json() == error
    assert PicTeam.objects.count() == 1


@pytest.mark.dbcompat
def test_a_rename_rewrites_jobs_and_the_handle_can_change(api, admin_user, platform_qa):
    JobFactory(pic_team="platform-qa")
    JobFactory(pic_team="platform-qa")
    JobFactory(pic_team="other")
    response = api(admin_user).put(
        url(platform_qa), {"name": "Mobile Platform QA", "slack_handle": "@mobile-platform-qa"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "PIC team updated" and body["jobs_updated"] == 2
    assert body["pic_team"]["slug"] == "mobile-platform-qa"
    assert body["pic_team"]["slack_handle"] == "@mobile-platform-qa"
    assert Job.objects.filter(pic_team="mobile-platform-qa").count() == 2
    assert Job.objects.filter(pic_team="other").count() == 1


def test_a_team_may_be_called_general(api, admin_user, platform_qa):
    response = api(admin_user).put(url(platform_qa), {"name": "General"}, format="json")
    assert response.status_code == 200 and response.json()["pic_team"]["slug"] == "general"


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (
            {"slack_handle": " "},
            400,
            {"error": "Invalid slack_handle", "message": "slack_handle cannot be empty."},
        ),
        (
            {"slack_handle": None},
            400,
            {"error": "Invalid slack_handle", "message": "slack_handle cannot be empty."},
        ),
        (
            {"name": "New Name", "slack_handle": ""},
            400,
            {"error": "Invalid slack_handle", "message": "slack_handle cannot be empty."},
        ),
        (
            {"name": "Other", "slug": "x"},
            400,
            {
                "error": "Invalid payload",
                "message": "Slug cannot be edited directly; it is derived from name.",
            },
        ),
        (
            {"name": "Taken"},
            409,
            {"error": "Duplicate slug", "message": 'PIC team slug "taken" already exists.'},
        ),
    ],
)
def test_update_errors_change_nothing(api, admin_user, platform_qa, body, status, error):
    PicTeamFactory(name="Taken", slug="taken")
    job = JobFactory(pic_team="platform-qa")
    response = api(admin_user).put(url(platform_qa), body, format="json")
    assert response.status_code == status
    assert response.json() == error
    platform_qa.refresh_from_db()
    job.refresh_from_db()
    assert (platform_qa.name, platform_qa.slack_handle, job.pic_team) == (
        "Platform QA",
        "<!subteam^S0123ABCD>",
        "platform-qa",
    )


def test_unknown_teams_are_404(api, admin_user):
    expected = {"error": "Not found", "message": "No PIC team found with ID: ghost"}
    assert api(admin_user).put(url("ghost"), {}, format="json").json() == expected
    assert api(admin_user).delete(url("ghost")).json() == expected


def test_delete_disables_the_team(api, admin_user, platform_qa):
    response = api(admin_user).delete(url(platform_qa))
    assert response.status_code == 200
    assert response.json()["message"] == "PIC team disabled"
    assert response.json()["pic_team"]["is_active"] is False
    platform_qa.refresh_from_db()
    assert platform_qa.is_active is False


@pytest.mark.parametrize("persona", ["owner", "viewer"])
def test_non_admins_cannot_write_teams(request, api, persona, platform_qa):
    client = api(request.getfixturevalue(persona))
    for response in (
        client.post(TEAMS, {"name": "X", "slack_handle": "@x"}, format="json"),
        client.put(url(platform_qa), {"name": "Y"}, format="json"),
        client.delete(url(platform_qa)),
    ):
        assert response.status_code == 403
        assert response.json() == {"detail": "Admin access required"}
    platform_qa.refresh_from_db()
    assert platform_qa.is_active and platform_qa.name == "Platform QA"


def test_anonymous_and_inactive_cannot_read_teams(api, inactive_user):
    assert api().get(TEAMS).status_code == 401
    assert api(inactive_user).get(TEAMS).json() == {"detail": "User account is deactivated"}
