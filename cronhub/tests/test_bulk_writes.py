"""``cronhub.db.insert_rows``/``insert_statements``/``update_rows``: the bulk writes of a scheduler burst."""

import datetime as dt
import uuid

import pytest
from django.db import connection, transaction

from cronhub import db
from cronhub.db import insert_rows, insert_statements, new_ids, update_rows
from cronhub.testing.factories import JobExecutionFactory, JobFactory, UserFactory
from jobs.models import ExecutionStatus, JobExecution
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
    assert len(list(insert_statements(Notification, fields, rows))) == 3  # at most 1,000 rows a statement

    with transaction.atomic(), connection.cursor() as cursor:
        insert_rows(Notification, fields, rows[:1000])  # COPY on PostgreSQL
        insert_rows(Notification, fields, rows[1000:2000], ignore_conflicts=True)  # staged on PostgreSQL
        for sql, params in insert_statements(Notification, fields, rows[2000:]):
            cursor.execute(sql, params)

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


@pytest.mark.parametrize("write", ["insert_rows", "insert_statements"])
def test_rows_that_clash_with_a_stored_row_are_skipped_when_asked(write):
    user, job = UserFactory(), JobFactory()
    rows = _rows(user, job, 6, dt.datetime(2026, 12, 3, tzinfo=dt.UTC))
    fields = [Notification._meta.get_field(name) for name in FIELDS]
    with transaction.atomic():
        insert_rows(Notification, fields, rows[::2])
    Notification.objects.update(message="first")

    with transaction.atomic(), connection.cursor() as cursor:
        if write == "insert_rows":
            insert_rows(Notification, fields, rows, ignore_conflicts=True)
        else:
            for sql, params in insert_statements(Notification, fields, rows, ignore_conflicts=True):
                cursor.execute(sql, params)

    stored = dict(Notification.objects.values_list("id", "message"))
    assert len(stored) == 6
    assert [stored[row[0]] == "first" for row in rows] == [True, False] * 3


def test_ids_are_distinct_uuid4_strings():
    ids = new_ids(1000)

    assert len(set(ids)) == 1000
    assert all(str(uuid.UUID(pk, version=4)) == pk for pk in ids)
    assert new_ids(0) == []


# --- update_rows --------------------------------------------------------------------------------
# Text an array literal or a statement could mangle: quotes, backslashes, braces, commas,
# the word NULL, an empty string, line breaks, Japanese; and NULL itself.
AWKWARD = ["plain", "it's \"quoted\"", "back\\slash \\N", "{braces, and commas}", "NULL", "", "改行\nあり",
           None, "100% done; DROP TABLE jobs; --"]
UPDATED = ("status", "output", "note", "duration_seconds", "response_status", "github_run_id", "completed_at",
           "attempt_log")


def _prepared(field_names, values):
    fields = [JobExecution._meta.get_field(name) for name in field_names]
    return fields, [field.get_db_prep_save(value, connection)
                    for field, value in zip(fields, values, strict=True)]


def _running(count, claimer="me"):
    job = JobFactory()
    started = dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC)
    return [JobExecutionFactory(job=job, status=ExecutionStatus.RUNNING, claimed_by=claimer,
                                started_at=started, scheduled_for=started + dt.timedelta(minutes=n),
                                completed_at=None, duration_seconds=None, response_status=None)
            for n in range(count)]


def _outcome(n):
    at = dt.datetime(2026, 12, 3, 1, 0, 1, n, tzinfo=dt.UTC)
    log = [{"attempt": 1, "text": AWKWARD[n % len(AWKWARD)], "nested": {"n": n, "list": [1.5, None, "x"]}}]
    return ("success" if n % 2 else "failed", AWKWARD[n % len(AWKWARD)], AWKWARD[(n + 3) % len(AWKWARD)],
            n + 0.25, 200 + n, 10**12 + n if n % 3 else None, at if n % 4 else None, log)


# MySQL/MariaDB: the default split, then a statement for every three rows or ~40 characters of text.
@pytest.mark.parametrize("split", [(500, 1_000_000), (3, 40)])
def test_update_rows_sets_each_row_to_its_own_values(monkeypatch, split):
    monkeypatch.setattr(db, "MYSQL_UPDATE_ROWS", split[0])
    monkeypatch.setattr(db, "MYSQL_UPDATE_CHARS", split[1])
    executions = _running(len(AWKWARD) + 2)
    match = [JobExecution._meta.get_field(name) for name in ("id", "claimed_by")]
    rows = []
    for n, execution in enumerate(executions):
        fields, values = _prepared(UPDATED, _outcome(n))
        rows.append([*values, execution.pk, "me"])

    with transaction.atomic():
        update_rows(JobExecution, fields, match, rows, where='status = %s', where_params=["running"])

    stored = {row["id"]: row for row in JobExecution.objects.values("id", *UPDATED)}
    for n, execution in enumerate(executions):
        assert tuple(stored[execution.pk][name] for name in UPDATED) == _outcome(n), n


def test_two_updates_in_one_transaction_each_apply_only_their_own_rows():
    first, second = _running(2)
    match = [JobExecution._meta.get_field(name) for name in ("id", "claimed_by")]
    fields, one = _prepared(("status", "output"), ("failed", "first update"))
    _fields, two = _prepared(("status", "output"), ("success", "second update"))

    with transaction.atomic():
        update_rows(JobExecution, fields, match, [[*one, first.pk, "me"]])
        update_rows(JobExecution, fields, match, [[*two, second.pk, "me"]])
        JobExecution.objects.filter(pk=first.pk).update(output="changed in between")
        update_rows(JobExecution, fields, match, [[*two, second.pk, "me"]])

    stored = dict(JobExecution.objects.values_list("id", "output"))
    assert stored == {first.pk: "changed in between", second.pk: "second update"}


def test_update_rows_leaves_rows_that_do_not_match_or_fail_the_condition():
    mine, theirs, ended = _running(1)[0], _running(1, claimer="another")[0], _running(1)[0]
    JobExecution.objects.filter(pk=ended.pk).update(status="success", output="kept")
    match = [JobExecution._meta.get_field(name) for name in ("id", "claimed_by")]
    fields, values = _prepared(("status", "output"), ("failed", "overwritten"))
    rows = [[*values, execution.pk, "me"] for execution in (mine, theirs, ended)]
    rows.append([*values, "no-such-id", "me"])

    with transaction.atomic():
        update_rows(JobExecution, fields, match, rows, where='status = %s', where_params=["running"])

    stored = dict(JobExecution.objects.values_list("id", "output"))
    assert stored == {mine.pk: "overwritten", theirs.pk: None, ended.pk: "kept"}
    update_rows(JobExecution, fields, match, [])  # nothing to do: no statement at all


def test_a_failed_update_leaves_every_row_as_it_was():
    executions = _running(6)
    match = [JobExecution._meta.get_field(name) for name in ("id", "claimed_by")]
    rows = []
    for n, execution in enumerate(executions):
        # the last row's status is NULL, which the column refuses: the whole update fails
        fields, values = _prepared(("status", "output"), (None if n == 5 else "success", f"run {n}"))
        rows.append([*values, execution.pk, "me"])

    with pytest.raises(Exception), transaction.atomic():  # noqa: B017,PT011 - each backend has its own error
        update_rows(JobExecution, fields, match, rows)

    assert set(JobExecution.objects.values_list("status", "output")) == {("running", None)}
