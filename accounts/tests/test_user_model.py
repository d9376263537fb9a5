import pytest

from accounts.models import DEFAULT_JOBS_TABLE_COLUMNS, NotificationPreferences, Role, UiPreferences, User

pytestmark = pytest.mark.django_db

# "secret123" hashed by passlib's pbkdf2_sha256 (the previous implementation's format).
PASSLIB_HASH = "$pbkdf2-sha256$29000$T8m5l5JyLsU4J8S4F6J0Tg$sI3gQkoVB3hC6XMzhgh2Ep1hEsuke2AuiOk0PhRTRHI"


def test_ids_are_hyphenated_uuid_strings(owner):
    assert len(owner.pk) == 36 and owner.pk.count("-") == 4
    assert User.objects.get(pk=owner.pk) == owner


def test_every_active_role_signs_in_to_the_admin_and_only_admins_are_superusers(admin_user, owner, viewer):
    assert admin_user.is_staff and admin_user.is_superuser and admin_user.has_perm("jobs.change_job")
    assert owner.is_staff and viewer.is_staff
    assert not owner.is_superuser and not viewer.is_superuser
    # Pages with no role rule of their own (Django's model permissions) stay the admin's.
    assert not owner.has_perm("notifications.view_notification")
    assert owner.has_module_perms("jobs") and not owner.has_module_perms("django_apscheduler")
    assert admin_user.has_module_perms("django_apscheduler")
    owner.is_active = admin_user.is_active = False
    assert not owner.is_staff and not admin_user.is_staff


def test_roles_decide_who_may_write(admin_user, owner, viewer):
    assert admin_user.can_write and owner.can_write and not viewer.can_write
    assert viewer.role == Role.VIEWER


def test_a_password_hashed_by_the_previous_implementation_still_logs_in_and_is_upgraded(owner):
    User.objects.filter(pk=owner.pk).update(password=PASSLIB_HASH)
    owner.refresh_from_db()
    assert owner.check_password("wrong-one") is False
    assert owner.check_password("secret123") is True
    owner.refresh_from_db()
    assert owner.password.startswith(("pbkdf2_sha256$", "md5$"))
    assert owner.check_password("secret123")


def test_ui_preferences_fill_missing_or_malformed_columns_with_defaults(owner):
    prefs = UiPreferences.objects.create(user=owner, jobs_table_columns={"target_url": True})
    assert prefs.effective_columns == {**DEFAULT_JOBS_TABLE_COLUMNS, "target_url": True}
    prefs.jobs_table_columns = ["not", "an", "object"]
    assert prefs.effective_columns == DEFAULT_JOBS_TABLE_COLUMNS


def test_notification_preferences_default_to_the_api_get_defaults(owner):
    prefs = NotificationPreferences.objects.create(user=owner)
    assert (prefs.email_on_job_success, prefs.email_on_job_failure, prefs.email_on_job_disabled) == (
        True, True, False)
    assert (prefs.browser_notifications, prefs.daily_digest, prefs.weekly_report) == (False, False, False)
