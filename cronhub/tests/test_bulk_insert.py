"""``cronhub.db.insert_rows``/``insert_statements``: the bulk writes of a scheduler burst."""

import datetime as dt
import uuid

import pytest
from django.db import connection, transaction

from cronhub.db import insert_rows, insert_statements, new_ids
from cronhub.testing.factories import JobFactory, UserFactory
from notifications.models import Notification

pytestmark = [pytest.mark.django_db, pytest.mark.dbcompat]

FIELDS = ("id", "user", "title", "message", "type", "related_job", "is_read", "created_at")


def _rows(user, job, count, at):
    meta = Notification._meta
    stamp = meta.get_field("created_at").get_db_prep_save(at, connection)
    unread = meta.get_field("is_read").get_db_prep_save(False, connection)
    return [(pk, user.pk, "Job Failed", f"run {n}: 'quoted', 100% \"failed\"\n日本語", "error",
             job.pk if n % 2 else None, unread, stamp)
            for n, pk in enumerate(new_ids(count))]


def test_thousands_of_rows_are_written_as_given_over_several_statements():
    user, job = UserFactory(), JobFactory()
    at = dt.datetime(2026, 12, 3, 1, 0, 0, 123456, tzinfo=dt.UTC)
    rows = _rows(user, job, 2500, at)
    fields = [Notification._meta.get_field(name) for name in FIELDS]
    assert len(list(insert_statements(Notification, fields, rows))) >= 3  # at most 1,000 rows a statement

    with transaction.atomic():
        insert_rows(Notification, fields, rows)

    stored = {pk: rest for pk, *rest in Notification.objects.values_list(
        "id", "message", "related_job_id", "is_read", "read_at", "created_at")}
    assert len(stored) == 2500
    for n, (pk, *_rest) in enumerate(rows):
        assert stored[pk] == [f"run {n}: 'quoted', 100% \"failed\"\n日本語", job.pk if n % 2 else None,
                              False, None, at]


def test_a_failed_bulk_write_leaves_nothing_behind():
    user, job = UserFactory(), JobFactory()
    rows = _rows(user, job, 1500, dt.datetime(2026, 12, 3, tzinfo=dt.UTC))
    rows[1200] = rows[3]  # the same id twice: the primary key refuses the batch
    fields = [Notification._meta.get_field(name) for name in FIELDS]

    with pytest.raises(Exception), transaction.atomic():  # noqa: B017,PT011 - each backend has its own error
        insert_rows(Notification, fields, rows)

    assert not Notification.objects.exists()


def test_ids_are_distinct_uuid4_strings():
    ids = new_ids(1000)

    assert len(set(ids)) == 1000
    assert all(str(uuid.UUID(pk, version=4)) == pk for pk in ids)
    assert new_ids(0) == []
