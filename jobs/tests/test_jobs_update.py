"""PUT /api/v2/jobs/{id}: partial, atomic updates with the contract's checks and notices."""

import datetime as dt

import pytest

from cronhub.testing.factories import JobExecutionFactory, JobFactory
from jobs.models import Job, scheduler_today
from notifications.models import Notification


@pytest.fixture
def job(owner, team):
    return JobFactory(name="Nightly", created_by=owner, pic_team="platform-qa")


def put(client, job_id, body):
    return client.put(f"/api/v2/jobs/{job_id}", body, format="json")


def test_the_owner_renames_a_job_and_the_response_keeps_both_computed_fields(api, owner, job, other_user):
    JobExecutionFactory(job=job, started_at=dt.datetime(2025, 12, 18, 18, 0, 0, 12000, tzinfo=dt.UTC))
    response = put(api(owner), job.id, {"name": "Nightly v2"})
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Job updated successfully"
    assert body["job"]["name"] == "Nightly v2"
    assert body["job"]["last_execution_at"] == "2025-12-18T18:00:00.012000Z"
    assert body["job"]["next_execution_at"].endswith("T03:00:00+09:00")
    job.refresh_from_db()
    assert job.name == "Nightly v2"
    notice = Notification.objects.get(user=other_user)
    assert (notice.title, notice.type) == ("Job Updated", "info")
    assert notice.message == f'Job "Nightly v2" was updated by {owner.email}.'


def test_disabling_sends_job_disabled_and_clears_the_next_run(api, owner, job, other_user):
    response = put(api(owner), job.id, {"is_active": False})
    assert response.json()["job"]["is_active"] is False
    assert response.json()["job"]["next_execution_at"] is None
    notice = Notification.objects.get(user=other_user)
    assert (notice.title, notice.type) == ("Job Disabled", "warning")


def test_enabling_sends_job_enabled(api, owner, job, other_user):
    job.is_active = False
    job.save()
    put(api(owner), job.id, {"is_active": True})
    assert Notification.objects.get(user=other_user).title == "Job Enabled"


def test_an_unchanged_is_active_is_just_an_update(api, owner, job, other_user):
    put(api(owner), job.id, {"is_active": True})
    assert Notification.objects.get(user=other_user).title == "Job Updated"


def test_another_user_cannot_update_a_job_they_do_not_own(api, other_user, job):
    response = put(api(other_user), job.id, {"name": "stolen"})
    assert response.status_code == 403
    assert response.json() == {
        "error": "Insufficient permissions",
        "message": "You can only update your own jobs",
    }
    job.refresh_from_db()
    assert job.name == "Nightly"


def test_an_admin_can_update_any_job(api, admin_user, job):
    assert put(api(admin_user), job.id, {"name": "by admin"}).status_code == 200


def test_a_job_whose_creator_was_deleted_is_admin_only(api, owner, admin_user, job):
    Job.objects.filter(pk=job.pk).update(created_by=None)
    assert put(api(owner), job.id, {"name": "x"}).status_code == 403
    assert put(api(admin_user), job.id, {"name": "x"}).status_code == 200


def test_a_viewer_gets_the_role_403_before_the_404(api, viewer):
    response = put(api(viewer), "does-not-exist", {"name": "x"})
    assert response.status_code == 403
    assert response.json() == {"detail": "User or admin access required"}


def test_anonymous_gets_401(api, job):
    assert put(api(), job.id, {"name": "x"}).status_code == 401


def test_an_unknown_job_is_a_404(api, owner):
    response = put(api(owner), "nope", {"name": "x"})
    assert response.status_code == 404
    assert response.json() == {"error": "Job not found", "message": "No job found with ID: nope"}


def test_a_non_object_body_is_a_400_and_changes_nothing(api, owner, job):
    response = api(owner).put(f"/api/v2/jobs/{job.id}", "[1]", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid payload", "message": "JSON body must be an object."}
    assert not Notification.objects.exists()


def test_a_failed_later_check_leaves_earlier_fields_unsaved(api, owner, job):
    response = put(api(owner), job.id, {"name": "renamed", "cron_expression": "bad"})
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid cron expression"
    job.refresh_from_db()
    assert job.name == "Nightly"


def test_reactivating_an_expired_job_is_refused_and_it_stays_inactive(api, owner, job):
    Job.objects.filter(pk=job.pk).update(is_active=False, end_date=scheduler_today() - dt.timedelta(days=1))
    response = put(api(owner), job.id, {"is_active": True})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Job expired",
        "message": ("Job cannot be enabled after end_date has passed. Update end_date first."),
    }
    job.refresh_from_db()
    assert job.is_active is False


def test_any_update_of_an_active_expired_job_is_refused(api, owner, job):
    Job.objects.filter(pk=job.pk).update(end_date=scheduler_today() - dt.timedelta(days=1))
    assert put(api(owner), job.id, {"name": "x"}).json()["error"] == "Job expired"


def test_a_duplicate_name_uses_the_update_message(api, owner, job):
    JobFactory(name="Taken")
    response = put(api(owner), job.id, {"name": "Taken"})
    assert response.json() == {
        "error": "Duplicate job name",
        "message": 'A job with the name "Taken" already exists.',
    }


def test_null_name_is_empty_not_the_text_none(api, owner, job):
    assert put(api(owner), job.id, {"name": None}).json() == {"error": "Job name cannot be empty"}


def test_a_target_url_without_scheme_is_refused(api, owner, job):
    response = put(api(owner), job.id, {"target_url": "example.com/hook"})
    assert response.json() == {
        "error": "Invalid target_url",
        "message": "target_url must include scheme (http:// or https://).",
    }


def test_clearing_the_only_target_is_refused(api, owner, job):
    response = put(api(owner), job.id, {"target_url": ""})
    assert response.json()["error"] == "Missing target configuration"


def test_switching_to_github_through_shorthand(api, owner, job):
    job_body = put(api(owner), job.id, {"target_url": "acme/web/ci.yml"}).json()["job"]
    assert job_body["target_url"] is None
    assert job_body["github_workflow_name"] == "ci.yml"


def test_disabling_email_clears_the_list_and_success_flag(api, owner, job):
    Job.objects.filter(pk=job.pk).update(
        enable_email_notifications=True, notification_emails="a@x.com", notify_on_success=True
    )
    body = put(api(owner), job.id, {"enable_email_notifications": False}).json()["job"]
    assert body["notification_emails"] == [] and body["notify_on_success"] is False
    job.refresh_from_db()
    assert job.notification_emails is None


def test_null_notification_emails_become_an_empty_list(api, owner, job):
    Job.objects.filter(pk=job.pk).update(enable_email_notifications=True, notification_emails="a@x.com")
    assert put(api(owner), job.id, {"notification_emails": None}).json()["job"]["notification_emails"] == []


def test_the_time_zone_can_be_changed_and_is_validated(api, owner, job):
    assert put(api(owner), job.id, {"timezone": "Europe/Paris"}).json()["job"]["timezone"] == "Europe/Paris"
    assert put(api(owner), job.id, {"timezone": "Nowhere/City"}).status_code == 400
    job.refresh_from_db()
    assert job.timezone == "Europe/Paris"


def test_end_date_falsy_uses_the_update_message(api, owner, job):
    assert put(api(owner), job.id, {"end_date": ""}).json() == {
        "error": "Invalid end_date",
        "message": "end_date is required (YYYY-MM-DD).",
    }


def test_an_empty_body_is_an_update_notice(api, owner, job, other_user):
    assert put(api(owner), job.id, {}).status_code == 200
    assert Notification.objects.get(user=other_user).title == "Job Updated"
