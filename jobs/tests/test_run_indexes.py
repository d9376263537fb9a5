"""The indexes written with every run's row and every notification row: only those a query uses."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.dbcompat]


def _indexes(table):
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {name: info["columns"] for name, info in found.items() if info["index"] or info["unique"]}


def _single(table, column):
    return [name for name, columns in _indexes(table).items() if columns == [column]]


def _pattern_ops_twins(table):
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
                       [table, "%pattern_ops%"])
        return sorted(row[0] for row in cursor.fetchall())


def _partial(name):
    if connection.vendor == "postgresql":
        sql = "SELECT indexdef FROM pg_indexes WHERE indexname = %s"
    elif connection.vendor == "sqlite":
        sql = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = %s"
    else:
        return None  # MariaDB has no partial indexes: it builds them full
    with connection.cursor() as cursor:
        cursor.execute(sql, [name])
        return "WHERE" in cursor.fetchone()[0].upper()


def test_run_and_notification_rows_write_no_index_that_another_covers_or_no_query_uses():
    runs = _indexes("job_executions")
    assert _single("job_executions", "job_id") == []
    assert any(columns[0] == "job_id" for columns in runs.values())  # its lookups still have one
    assert _single("notifications", "user_id") == []
    assert any(columns[0] == "user_id" for columns in _indexes("notifications").values())
    assert _pattern_ops_twins("job_executions") == [] and _pattern_ops_twins("notifications") == []
    for name in ("ix_job_executions_follow_next", "ix_job_executions_github_run"):
        assert _partial(name) in (True, None)


def test_the_index_migrations_reverse_to_the_indexes_they_dropped():
    executor = MigrationExecutor(connection)
    before = [("jobs", "0010_jobs_updated_at_index"), ("notifications", "0002_translatable_names")]
    try:
        executor.migrate(before)
        assert _single("job_executions", "job_id") and _single("notifications", "user_id")
        assert _partial("ix_job_executions_github_run") in (False, None)
        if connection.vendor == "postgresql":
            assert len(_pattern_ops_twins("job_executions")) == 2  # the id's and job_id's
            assert len(_pattern_ops_twins("notifications")) == 4
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert _single("job_executions", "job_id") == [] and _pattern_ops_twins("job_executions") == []
