"""GET /scheduler/status and POST /scheduler/resync, read from and written to the
leader's heartbeat row. A thread plays the leader: it answers a resync request
the way the scheduler does (results into the row, then resync_completed_at)."""

import datetime as dt
import threading

import pytest
from django.db import close_old_connections
from django.utils import timezone

from jobs.api import scheduler as scheduler_api
from jobs.models import SchedulerState

RESULT = {
    "ran_at": "2025-12-18T07:05:12.000311Z",
    "db_jobs_total": 48,
    "db_jobs_active": 40,
    "scheduled_now": 41,
    "scheduled_added": 1,
    "scheduled_removed": 0,
    "expired_auto_paused": 2,
    "orphaned_removed": 0,
    "invalid_cron": 0,
}


def live_leader(**extra):
    now = timezone.now()
    SchedulerState.objects.update_or_create(
        pk=SchedulerState.SINGLETON_ID,
        defaults={
            "host": "sched-1",
            "pid": 4242,
            "leader_since": now - dt.timedelta(hours=1),
            "heartbeat_at": now,
            "last_reconcile_at": dt.datetime(2025, 12, 18, 7, 0, 0, 4512, tzinfo=dt.UTC),
            "scheduled_jobs_count": 12,
            "next_runs": [{"job_id": "x", "name": "Nightly", "at": "2025-12-19T03:00:00+09:00"}],
            "stopped_at": None,
            **extra,
        },
    )


@pytest.mark.parametrize(("persona", "code"), [("owner", 403), ("viewer", 403), ("other_user", 403)])
def test_only_admins_see_scheduler_operations(api, request, persona, code):
    client = api(request.getfixturevalue(persona))
    for response in (client.get("/api/v2/scheduler/status"), client.post("/api/v2/scheduler/resync")):
        assert response.status_code == code
        assert response.json() == {"detail": "Admin access required"}


def test_anonymous_gets_401(api, db):
    assert api().get("/api/v2/scheduler/status").status_code == 401
    assert api().post("/api/v2/scheduler/resync").status_code == 401


def test_status_says_plainly_when_no_scheduler_ever_ran(api, admin_user):
    body = api(admin_user).get("/api/v2/scheduler/status").json()
    assert body["scheduler_running"] is False and body["scheduler_is_leader"] is False
    assert body["scheduled_jobs_count"] == 0 and body["last_resync_at"] is None
    assert body["message"].startswith("No scheduler is running")


def test_status_reports_a_live_leaders_heartbeat(api, admin_user):
    live_leader()
    body = api(admin_user).get("/api/v2/scheduler/status").json()
    assert body["scheduler_running"] is True and body["scheduler_is_leader"] is True
    assert body["scheduled_jobs_count"] == 12
    assert body["last_resync_at"] == "2025-12-18T07:00:00.004512Z"
    assert body["leader"]["host"] == "sched-1" and body["leader"]["pid"] == 4242
    assert body["next_runs"][0]["name"] == "Nightly"


def test_a_stale_heartbeat_is_not_a_running_scheduler(api, admin_user):
    live_leader(heartbeat_at=timezone.now() - dt.timedelta(minutes=10))
    body = api(admin_user).get("/api/v2/scheduler/status").json()
    assert body["scheduler_running"] is False and body["scheduled_jobs_count"] == 0


def test_a_stopped_leader_is_not_running(api, admin_user):
    live_leader(stopped_at=timezone.now() + dt.timedelta(seconds=1))
    assert api(admin_user).get("/api/v2/scheduler/status").json()["scheduler_running"] is False


def test_resync_without_a_live_leader_is_409_and_records_nothing(api, admin_user):
    response = api(admin_user).post("/api/v2/scheduler/resync")
    assert response.status_code == 409
    assert response.json() == {"detail": "Scheduler is not running as leader in this process."}
    assert SchedulerState.load().resync_requested_at is None


@pytest.mark.dbcompat
@pytest.mark.django_db(transaction=True)
def test_resync_waits_for_the_leader_and_returns_its_result(api, admin_user):
    live_leader()
    answered = threading.Event()

    def leader():
        try:
            for _ in range(100):
                state = SchedulerState.objects.get()
                if state.resync_requested_at is not None:
                    SchedulerState.objects.filter(pk=state.pk).update(
                        last_resync_result=RESULT, resync_completed_at=timezone.now()
                    )
                    answered.set()
                    return
                threading.Event().wait(0.05)
        finally:
            close_old_connections()

    thread = threading.Thread(target=leader)
    thread.start()
    response = api(admin_user).post("/api/v2/scheduler/resync")
    thread.join()
    assert answered.is_set()
    assert response.status_code == 200
    assert response.json() == {"message": "Scheduler resync completed", **RESULT}
    state = SchedulerState.load()
    assert state.resync_completed_at >= state.resync_requested_at


def test_a_leader_that_does_not_answer_in_time_gets_a_202(api, admin_user, monkeypatch):
    monkeypatch.setattr(scheduler_api, "RESYNC_WAIT_SECONDS", 0.3)
    live_leader()
    response = api(admin_user).post("/api/v2/scheduler/resync")
    assert response.status_code == 202
    assert "has not answered" in response.json()["message"]
    assert SchedulerState.load().resync_requested_at is not None


def test_an_old_answer_is_not_taken_for_the_new_request(api, admin_user, monkeypatch):
    monkeypatch.setattr(scheduler_api, "RESYNC_WAIT_SECONDS", 0.3)
    live_leader(resync_completed_at=timezone.now() - dt.timedelta(minutes=5), last_resync_result=RESULT)
    assert api(admin_user).post("/api/v2/scheduler/resync").status_code == 202
