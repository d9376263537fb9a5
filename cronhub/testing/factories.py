"""factory-boy factories for every model: the one place tests build objects."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from accounts.models import NotificationPreferences, Role, UiPreferences, User
from integrations.models import SlackSettings
from jobs.models import ExecutionStatus, Job, JobExecution, TriggerType
from notifications.models import Notification, NotificationType
from taxonomy.models import JobCategory, PicTeam

TEST_PASSWORD = "secret123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    role = Role.USER
    is_active = True
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class AdminFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    role = Role.ADMIN


class ViewerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"viewer{n}")
    role = Role.VIEWER


class JobCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobCategory
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))


class PicTeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PicTeam
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))
    slack_handle = factory.LazyAttribute(lambda o: f"@{o.slug}")


def _in_a_year() -> dt.date:
    return timezone.now().date() + dt.timedelta(days=365)


class JobFactory(factory.django.DjangoModelFactory):
    """A webhook job by default; ``JobFactory(github=True)`` for a GitHub Actions job."""

    class Meta:
        model = Job

    class Params:
        github = factory.Trait(
            target_url=None,
            github_owner="acme",
            github_repo="api-tests",
            github_workflow_name="nightly.yml",
        )

    name = factory.Sequence(lambda n: f"Job {n}")
    cron_expression = "0 3 * * *"
    timezone = "Asia/Tokyo"
    target_url = "http://127.0.0.1:9/hook"
    category = "general"
    pic_team = "platform-qa"
    end_date = factory.LazyFunction(_in_a_year)
    created_by = factory.SubFactory(UserFactory)
    is_active = True


class JobExecutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobExecution

    job = factory.SubFactory(JobFactory)
    status = ExecutionStatus.SUCCESS
    trigger_type = TriggerType.MANUAL
    started_at = factory.LazyFunction(timezone.now)
    completed_at = factory.LazyAttribute(lambda o: o.started_at + dt.timedelta(seconds=1))
    duration_seconds = 1.0
    execution_type = "webhook"
    target = factory.LazyAttribute(lambda o: o.job.target_display)
    response_status = 200


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    user = factory.SubFactory(UserFactory)
    title = "Job Failed"
    message = factory.Sequence(lambda n: f'Job "Job {n}" failed')
    type = NotificationType.ERROR


class SlackSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlackSettings

    is_enabled = True
    webhook_url = "https://hooks.slack.com/services/T000/B000/XXXX"
    channel = "#qa-alerts"


class NotificationPreferencesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationPreferences

    user = factory.SubFactory(UserFactory)


class UiPreferencesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UiPreferences

    user = factory.SubFactory(UserFactory)
