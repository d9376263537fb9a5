from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Role, User

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("create_admin", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_default_admin_is_created_once_when_allowed(settings):
    settings.ALLOW_DEFAULT_ADMIN = True
    assert "created" in run()
    assert "already exists" in run()
    admin = User.objects.get(username="admin")
    assert admin.role == Role.ADMIN and admin.is_active and admin.is_staff
    assert admin.check_password("admin123")
    assert User.objects.count() == 1


def test_default_admin_is_not_created_when_not_allowed(settings):
    settings.ALLOW_DEFAULT_ADMIN = False
    assert "not created" in run()
    assert not User.objects.exists()


def test_an_explicit_admin_is_created_even_when_the_default_is_not_allowed(settings):
    settings.ALLOW_DEFAULT_ADMIN = False
    run("--username", "ops", "--email", "OPS@Example.com", "--password", "s3cret-pass")
    ops = User.objects.get(username="ops")
    assert ops.email == "ops@example.com"
    assert ops.check_password("s3cret-pass")


def test_running_twice_keeps_the_existing_password(settings):
    run("--username", "ops", "--email", "ops@example.com", "--password", "first-pass")
    run("--username", "ops", "--email", "ops@example.com", "--password", "second-pass")
    assert User.objects.get(username="ops").check_password("first-pass")


def test_a_taken_email_is_skipped_not_crashed(settings, owner):
    output = run("--username", "ops", "--email", owner.email, "--password", "s3cret-pass")
    assert "belongs to another user" in output
    assert not User.objects.filter(username="ops").exists()


def test_the_password_comes_from_the_environment(settings):
    settings.ADMIN_PASSWORD = "from-env-secret"
    run("--username", "ops", "--email", "ops@example.com")
    assert User.objects.get(username="ops").check_password("from-env-secret")


def test_a_short_password_is_refused():
    with pytest.raises(CommandError, match="at least 6"):
        run("--username", "ops", "--email", "ops@example.com", "--password", "123")
