"""DELETE /api/v2/jobs/{id}: owner or admin; executions go, notifications stay unlinked."""

import pytest

from cronhub.testing.factories import JobExecutionFactory, JobFactory, NotificationFactory
from jobs.models import Job, JobExecution
from notifications.models import Notification


@pytest.fixture
def job(owner):
    return JobFactory(name="Hourly health ping", created_by=owner)


def test_the_owner_deletes_a_job_with_its_executions(api, owner, other_user, job):
    execution = JobExecutionFactory(job=job)
    old = NotificationFactory(user=other_user, related_job=job, related_execution=execution)
    response = api(owner).delete(f"/api/v2/jobs/{job.id}")
    assert response.status_code == 200
    assert response.json() == {
        "message": "Job deleted successfully",
        "deleted_job": {"id": job.id, "name": "Hourly health ping"},
    }
    assert not Job.objects.exists() and not JobExecution.objects.exists()
    old.refresh_from_db()
    assert old.related_job_id is None and old.related_execution_id is None
    notice = Notification.objects.exclude(pk=old.pk).get(user=other_user)
    assert (notice.title, notice.type, notice.related_job_id) == ("Job Deleted", "warning", None)


def test_another_user_cannot_delete(api, other_user, job):
    response = api(other_user).delete(f"/api/v2/jobs/{job.id}")
    assert response.status_code == 403
    assert response.json() == {
        "error": "Insufficient permissions",
        "message": "You can only delete your own jobs",
    }
    assert Job.objects.exists()


def test_an_admin_deletes_any_job(api, admin_user, job):
    assert api(admin_user).delete(f"/api/v2/jobs/{job.id}").status_code == 200


def test_a_viewer_cannot_delete(api, viewer, job):
    assert api(viewer).delete(f"/api/v2/jobs/{job.id}").json() == {"detail": "User or admin access required"}


def test_anonymous_cannot_delete(api, job):
    assert api().delete(f"/api/v2/jobs/{job.id}").status_code == 401


def test_an_unknown_job_is_a_404(api, owner):
    assert api(owner).delete("/api/v2/jobs/nope").json()["error"] == "Job not found"
