"""Notifications API: own notifications only, paging, unread filter, ranges."""

import datetime as dt

import pytest

from cronhub.testing.factories import NotificationFactory
from notifications.models import Notification

T0 = dt.datetime(2025, 12, 18, 7, 20, 0, 130001, tzinfo=dt.UTC)


@pytest.fixture
def inbox(owner, other_user):
    """Owner: three notifications a day apart (newest unread), one read; other user: one."""
    mine = [
        NotificationFactory(user=owner, created_at=T0 - dt.timedelta(days=day), title=f"n{day}")
        for day in range(3)
    ]
    mine[2].is_read, mine[2].read_at = True, T0
    mine[2].save()
    NotificationFactory(user=other_user, created_at=T0)
    return mine


def test_the_list_shows_only_my_notifications_newest_first(api, owner, inbox):
    response = api(owner).get("/api/v2/notifications")
    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["notifications"]] == [n.id for n in inbox]
    assert (body["total"], body["page"], body["per_page"], body["total_pages"]) == (3, 1, 20, 1)
    assert body["range"] == {"from": None, "to": None}
    first = body["notifications"][0]
    assert first["created_at"] == "2025-12-18T07:20:00.130001Z"
    assert first["user_id"] == owner.id
    for key in (
        "id",
        "title",
        "message",
        "type",
        "is_read",
        "created_at",
        "related_job_id",
        "related_execution_id",
        "read_at",
    ):
        assert key in first


@pytest.mark.parametrize("persona", ["admin_user", "viewer"])
def test_every_role_has_an_inbox_and_sees_no_one_elses(api, request, persona, inbox):
    assert api(request.getfixturevalue(persona)).get("/api/v2/notifications").json()["total"] == 0


def test_anonymous_gets_401_everywhere(api, inbox):
    client = api()
    assert client.get("/api/v2/notifications").status_code == 401
    assert client.get("/api/v2/notifications/unread-count").status_code == 401
    assert client.put(f"/api/v2/notifications/{inbox[0].id}/read").status_code == 401
    assert client.put("/api/v2/notifications/read-all").status_code == 401
    assert client.delete("/api/v2/notifications/delete-read").status_code == 401
    assert client.delete(f"/api/v2/notifications/{inbox[0].id}").status_code == 401


def test_paging_and_unread_only(api, owner, inbox):
    body = api(owner).get("/api/v2/notifications?page=2&per_page=2&unread_only=true").json()
    assert body["total"] == 2 and body["total_pages"] == 1 and body["notifications"] == []
    body = api(owner).get("/api/v2/notifications?per_page=500&unread_only=1").json()
    assert body["per_page"] == 100 and body["total"] == 2


@pytest.mark.parametrize("query", ["per_page=0", "page=0", "unread_only=maybe"])
def test_bad_query_parameters_are_400s(api, owner, query):
    response = api(owner).get(f"/api/v2/notifications?{query}")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_a_date_only_range_echoes_its_effective_bounds(api, owner, inbox):
    body = api(owner).get("/api/v2/notifications?from=2025-12-17&to=2025-12-17").json()
    assert [item["id"] for item in body["notifications"]] == [inbox[1].id]
    assert body["range"] == {"from": "2025-12-17T00:00:00Z", "to": "2025-12-18T00:00:00Z"}


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("from=2025-13-01", "Invalid date"),
        ("from=soon", "Invalid date"),
        ("from=2025-12-18&to=2025-12-17", "Invalid date range"),
    ],
)
def test_bad_ranges_are_400s(api, owner, query, error):
    for path in ("notifications", "notifications/unread-count", "notifications/delete-read"):
        method = api(owner).delete if path.endswith("delete-read") else api(owner).get
        response = method(f"/api/v2/{path}?{query}")
        assert response.status_code == 400
        assert response.json()["error"] == error


def test_unread_count_honours_the_range(api, owner, inbox):
    assert api(owner).get("/api/v2/notifications/unread-count").json() == {
        "unread_count": 2,
        "range": {"from": None, "to": None},
    }
    assert api(owner).get("/api/v2/notifications/unread-count?from=2025-12-18").json()["unread_count"] == 1


def test_marking_my_notification_read(api, owner, inbox):
    response = api(owner).put(f"/api/v2/notifications/{inbox[0].id}/read")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Notification marked as read"
    assert body["notification"]["is_read"] is True
    assert body["notification"]["read_at"].endswith("Z")
    inbox[0].refresh_from_db()
    assert inbox[0].is_read and inbox[0].read_at is not None


def test_marking_an_already_read_notification_keeps_its_read_time(api, owner, inbox):
    api(owner).put(f"/api/v2/notifications/{inbox[2].id}/read")
    inbox[2].refresh_from_db()
    assert inbox[2].read_at == T0


def test_another_users_notification_cannot_be_read_or_deleted(api, other_user, inbox):
    client = api(other_user)
    response = client.put(f"/api/v2/notifications/{inbox[0].id}/read")
    assert response.status_code == 403
    assert response.json() == {"error": "Forbidden: Cannot access other users notifications"}
    response = client.delete(f"/api/v2/notifications/{inbox[0].id}")
    assert response.status_code == 403
    assert response.json() == {"error": "Forbidden: Cannot delete other users notifications"}
    assert Notification.objects.filter(pk=inbox[0].pk, is_read=False).exists()


def test_unknown_notifications_are_404s(api, owner):
    assert api(owner).put("/api/v2/notifications/nope/read").json() == {"error": "Notification not found"}
    assert api(owner).delete("/api/v2/notifications/nope").status_code == 404


def test_read_all_marks_only_mine(api, owner, other_user, inbox):
    response = api(owner).put("/api/v2/notifications/read-all")
    assert response.json() == {"message": "All notifications marked as read", "updated_count": 2}
    assert not Notification.objects.filter(user=owner, is_read=False).exists()
    assert Notification.objects.filter(user=other_user, is_read=False).count() == 1


def test_delete_read_deletes_only_my_read_ones_in_range(api, owner, other_user, inbox):
    NotificationFactory(user=other_user, is_read=True)
    assert api(owner).delete("/api/v2/notifications/delete-read?from=2025-12-18").json()["deleted_count"] == 0
    assert api(owner).delete("/api/v2/notifications/delete-read").json()["deleted_count"] == 1
    assert Notification.objects.filter(user=owner).count() == 2
    assert Notification.objects.filter(user=other_user).count() == 2


def test_deleting_my_notification(api, owner, inbox):
    response = api(owner).delete(f"/api/v2/notifications/{inbox[0].id}")
    assert response.json() == {"message": "Notification deleted successfully"}
    assert not Notification.objects.filter(pk=inbox[0].pk).exists()


@pytest.mark.parametrize("size", [1, 30])
def test_the_list_runs_a_constant_number_of_queries(api, owner, django_assert_num_queries, size):
    for _ in range(size):
        NotificationFactory(user=owner)
    client = api(owner)
    with django_assert_num_queries(3):  # user, count, page
        assert len(client.get("/api/v2/notifications?per_page=50").json()["notifications"]) == size
