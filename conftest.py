"""Shared personas for every app's tests: an admin, a user who owns jobs,
another user, a viewer, and an inactive user (all with password ``secret123``)."""

import pytest

from cronhub.testing.factories import AdminFactory, UserFactory, ViewerFactory

# Local webhook / fake GitHub / Slack / SMTP servers as fixtures (see that module's docstring).
pytest_plugins = ["cronhub.testing.servers"]


def pytest_collection_modifyitems(config, items):
    """On SQLite, leave out the tests that need a database server (marker ``server_db``):
    they cannot run there, and .ci/run runs them on PostgreSQL and MariaDB."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    needs_server = [item for item in items if item.get_closest_marker("server_db")]
    if needs_server:
        config.hook.pytest_deselected(items=needs_server)
        items[:] = [item for item in items if not item.get_closest_marker("server_db")]


@pytest.fixture
def admin_user(db):
    return AdminFactory(username="alice_admin", email="alice@example.com")


@pytest.fixture
def owner(db):
    return UserFactory(username="olivia_owner", email="olivia@example.com")


@pytest.fixture
def other_user(db):
    return UserFactory(username="oscar_other", email="oscar@example.com")


@pytest.fixture
def viewer(db):
    return ViewerFactory(username="victor_viewer", email="victor@example.com")


@pytest.fixture
def staff(client, admin_user):
    """A test client logged in to the admin as the admin persona."""
    client.force_login(admin_user)
    return client


@pytest.fixture
def db_shared(request, tmp_path, django_db_blocker):
    """A database that real subprocesses (schedulers, gunicorn) share with the test."""
    from jobs.tests import scheduler_support

    yield from scheduler_support.shared_database(request, tmp_path, django_db_blocker)


@pytest.fixture
def start_scheduler(tmp_path, db_shared):
    """``start_scheduler(clock=..., **env)`` → a real ``runscheduler`` process on ``db_shared``."""
    from jobs.tests import scheduler_support

    yield from scheduler_support.scheduler_processes(tmp_path, db_shared)


@pytest.fixture
def inactive_user(db):
    return UserFactory(username="ian_inactive", email="ian@example.com", is_active=False)


@pytest.fixture
def api():
    """``api(user)`` → a DRF test client sending that user's bearer access token;
    ``api()`` → an anonymous client."""
    from rest_framework.test import APIClient

    from cronhub.testing.auth import access_token_for

    def make(user=None):
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(user)}")
        return client

    return make
