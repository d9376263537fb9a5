"""Model building blocks shared by every app.

Primary keys are hyphenated UUID-4 strings in a ``VARCHAR(36)`` column, so
existing databases (whose ids are such strings) open unchanged on every backend.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence

from django.db import connection, models
from django.db.models.constants import OnConflict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_id() -> str:
    return str(uuid.uuid4())


def new_ids(count: int) -> list[str]:
    """``count`` ids as ``new_id`` makes them, from one read of the system's random source
    (a burst writes thousands of rows at once)."""
    randomness = os.urandom(16 * count)
    return [str(uuid.UUID(bytes=randomness[at:at + 16], version=4)) for at in range(0, 16 * count, 16)]


ROWS_PER_ARRAY_STATEMENT = 5000  # PostgreSQL: rows per statement that sends them as arrays


def _arrays(fields: Sequence[models.Field]) -> str:
    """One array parameter per field, cast to the column's type (PostgreSQL): an array of
    NULLs or of text would not go into a timestamp or integer column."""
    return ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)


def _array_chunks(rows: Sequence[Sequence]) -> Iterator[list[list]]:
    """``rows`` as the parameters of ``_arrays``: one list per column, ``ROWS_PER_ARRAY_STATEMENT``
    rows at a time."""
    for start in range(0, len(rows), ROWS_PER_ARRAY_STATEMENT):
        chunk = rows[start:start + ROWS_PER_ARRAY_STATEMENT]
        yield [list(values) for values in zip(*chunk, strict=True)]


def insert_statements(model: type[models.Model], fields: Sequence[models.Field], rows: Sequence[Sequence],
                      *, ignore_conflicts: bool = False) -> Iterator[tuple[str, list]]:
    """Multi-row ``INSERT`` statements, as (sql, params), that write ``rows`` into ``model``'s table.

    Each row holds one value per field of ``fields``, already as the database is sent it
    (``field.get_db_prep_save(value, connection)``): the many rows of a scheduler burst are
    written without building a model instance or compiling a statement for each. The
    columns left out are left to the database (NULL), so every column that may not be NULL
    must be among ``fields``. ``ignore_conflicts`` skips rows that would break a unique
    constraint (``ON CONFLICT DO NOTHING`` / ``INSERT OR IGNORE`` / ``INSERT IGNORE``), as
    ``bulk_create(ignore_conflicts=True)`` does. Statements hold as many rows as the
    database accepts parameters for (1,000 at most); on PostgreSQL the rows are sent as one
    array per column (``INSERT … SELECT * FROM unnest(…)``, rows inserted in the order given,
    ``ROWS_PER_ARRAY_STATEMENT`` a statement), whose text the driver parses once whatever the
    number of rows, instead of thousands of placeholders per statement.
    """
    ops = connection.ops
    conflict = OnConflict.IGNORE if ignore_conflicts else None
    columns = ", ".join(ops.quote_name(field.column) for field in fields)
    table = ops.quote_name(model._meta.db_table)
    tail = ops.on_conflict_suffix_sql(list(fields), conflict, None, None) or ""
    if connection.vendor == "postgresql":
        sql = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({_arrays(fields)})" + (
            " " + tail if tail else "")
        for chunk in _array_chunks(rows):
            yield sql, chunk
        return
    head = f"{ops.insert_statement(on_conflict=conflict)} {table} ({columns}) VALUES "
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, min(1000, _max_query_params() // len(fields)))
    for start in range(0, len(rows), per_statement):
        chunk = rows[start:start + per_statement]
        sql = head + ", ".join([one] * len(chunk)) + (" " + tail if tail else "")
        yield sql, [value for row in chunk for value in row]


def insert_rows(model: type[models.Model], fields: Sequence[models.Field], rows: Sequence[Sequence]) -> None:
    """Write ``rows`` (prepared values, as ``insert_statements`` takes them) into ``model``'s table.

    On PostgreSQL with ``COPY … FROM STDIN``, its bulk-load protocol: a multi-row ``INSERT`` of
    thousands of rows spends more of the client's time parsing the statement's placeholders
    than the server spends writing the rows. Elsewhere with ``insert_statements``. Runs in
    the caller's transaction.
    """
    if not rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            ops = connection.ops
            columns = ", ".join(ops.quote_name(field.column) for field in fields)
            with connection.wrap_database_errors, cursor.cursor.copy(
                    f"COPY {ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        for sql, params in insert_statements(model, fields, rows):
            cursor.execute(sql, params)


def update_rows(model: type[models.Model], fields: Sequence[models.Field], match: Sequence[models.Field],
                rows: Sequence[Sequence], *, where: str = "", where_params: Sequence = ()) -> None:
    """Set ``fields`` of many rows of ``model``'s table, each row to its own values.

    Each row of ``rows`` holds one prepared value per field of ``fields`` (as
    ``insert_statements`` takes them), then one per field of ``match``: the row updated is
    the one whose ``match`` columns equal those values (and that also meets ``where``, SQL
    on the table's own columns, with ``where_params``). Rows that match nothing are skipped.

    On PostgreSQL one ``UPDATE … FROM unnest(<one array per column>)`` per
    ``ROWS_PER_ARRAY_STATEMENT`` rows: its text is the same whatever the number of rows,
    where one ``UPDATE`` per row (what ``executemany`` sends) has the server parse, plan and
    run a statement for each, which cost 2–4 times the server's CPU of the update itself
    (2,000 rows: 230–560 ms against 90–140). Elsewhere ``executemany`` of the one-row
    statement (SQLite runs it in-process; MySQL/MariaDB has no array parameters). Runs in the caller's transaction.
    """
    if not rows:
        return
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    condition = f" AND ({where})" if where else ""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            assignments = ", ".join(f"{ops.quote_name(field.column)} = %s" for field in fields)
            matches = " AND ".join(f"{ops.quote_name(field.column)} = %s" for field in match)
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {matches}{condition}",
                               [[*row, *where_params] for row in rows])
            return
        # The arrays' columns are named v0, v1, … so that ``where`` can name the table's own
        # columns unqualified.
        columns = [*fields, *match]
        names = ", ".join(f"v{index}" for index in range(len(columns)))
        assignments = ", ".join(f"{ops.quote_name(field.column)} = v.v{index}"
                                for index, field in enumerate(fields))
        matches = " AND ".join(f"{table}.{ops.quote_name(field.column)} = v.v{len(fields) + index}"
                               for index, field in enumerate(match))
        sql = (f"UPDATE {table} SET {assignments} FROM unnest({_arrays(columns)}) AS v({names}) "
               f"WHERE {matches}{condition}")
        for chunk in _array_chunks(rows):
            cursor.execute(sql, [*chunk, *where_params])


def _max_query_params() -> int:
    if connection.vendor == "sqlite":
        import sqlite3

        return 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999
    return 60000  # PostgreSQL and MySQL: 65,535 parameters per statement


class IdField(models.CharField):
    """The primary key column: a ``CharField`` whose lookups never send the database an
    id it cannot hold.

    Ids arrive from URL paths and query strings as any text. One with a NUL
    character (``/jobs/ab%00cd``) or an unpaired surrogate names no row, but
    PostgreSQL refuses such text outright (an error, not "no rows"). Such a value
    is compared as the same text with U+FFFD in their place, which no id contains:
    the lookup finds nothing, and each route answers its own "not found", as for
    any unknown id. The column itself is a plain ``CharField`` (``deconstruct``),
    so migrations do not change.
    """

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if isinstance(value, str) and not _storable(value):
            value = "".join("\ufffd" if char == "\x00" or "\ud800" <= char <= "\udfff" else char
                            for char in value)
        return value

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs


def _storable(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class UUIDModel(models.Model):
    id = IdField(_("ID"), primary_key=True, max_length=36, default=new_id, editable=False)

    class Meta:
        abstract = True


class TimestampedModel(UUIDModel):
    """``created_at`` at insert, ``updated_at`` on every save.

    Bulk ``QuerySet.update()`` bypasses ``auto_now``: callers that rewrite rows in
    bulk (slug renames, auto-pause) set ``updated_at=timezone.now()`` themselves.
    """

    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True
