"""Following a GitHub run survives the scheduler: real ``runscheduler`` processes and the fake GitHub.

A leader dispatches a workflow; its run goes ``in_progress``; the leader is
SIGKILLed; the next leader must neither close the row as interrupted (issue-11
recovery) nor lose it, but carry on looking the run up (conditionally, from the
ETag kept in the database) until GitHub says it completed.
"""

import datetime as dt

import pytest

from cronhub.testing.servers import FakeGitHub
from jobs.models import ExecutionStatus, Job, JobExecution
from jobs.tests.scheduler_support import Clock, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.dbcompat, pytest.mark.django_db(transaction=True)]

RUN_ID = 6060


def row(db, job):
    return JobExecution.objects.using(db.alias).filter(job_id=job.pk).first()


def test_a_new_leader_carries_on_following_a_run_in_progress_and_records_its_conclusion(
        db_shared, start_scheduler):
    with FakeGitHub() as github:
        github.run_details(RUN_ID)
        job = Job.objects.using(db_shared.alias).create(
            name="launcher", timezone="UTC", cron_expression="* * * * *", github_owner="acme",
            github_repo="app", github_workflow_name="ci.yml",
            end_date=dt.date.today() + dt.timedelta(days=30))
        clock = Clock(lead=12)
        env = {"GITHUB_API_URL": github.url, "GITHUB_TOKEN": FakeGitHub.TOKEN,
               "GITHUB_FOLLOW_MIN_SECONDS": "1", "GITHUB_FOLLOW_MAX_SECONDS": "1"}
        first = start_scheduler(clock=clock, **env)

        followed = wait_until(lambda: (r := row(db_shared, job)) and r.github_follow_started_at and r,
                              timeout=40, message="the dispatch accepted and followed")
        # One fire is enough: later fire times would start more runs.
        Job.objects.using(db_shared.alias).filter(pk=job.pk).update(is_active=False)
        assert followed.status == ExecutionStatus.RUNNING and followed.github_run_id == RUN_ID
        github.set_run(RUN_ID, "in_progress")
        wait_until(lambda: row(db_shared, job).github_run_status == "in_progress", timeout=20,
                   message="the first leader seeing the run in progress")
        first.kill()

        lookups_before = len(github.run_lookups)
        second = start_scheduler(clock=clock, **env)
        wait_until(lambda: "firing" in second.log(), timeout=30, message="the next leader firing")
        wait_until(lambda: github.not_modified >= 2 and len(github.run_lookups) >= lookups_before + 2,
                   timeout=20, message="the next leader looking the run up")
        still = row(db_shared, job)
        assert still.status == ExecutionStatus.RUNNING and still.error_message is None  # not "interrupted"
        assert "recover execution" not in second.log()

        github.set_run(RUN_ID, "completed", conclusion="success")
        done = wait_until(lambda: (r := row(db_shared, job)).status != ExecutionStatus.RUNNING and r,
                          timeout=20, message="the conclusion recorded")

        assert done.status == ExecutionStatus.SUCCESS
        assert (done.github_run_status, done.github_run_conclusion) == ("completed", "success")
        assert done.github_follow_next_at is None
        assert JobExecution.objects.using(db_shared.alias).filter(job_id=job.pk).count() == 1
        assert len(github.dispatches) == 1
        assert second.terminate() == 0
