"""Model building blocks shared by every app.

Primary keys are hyphenated UUID-4 strings in a ``VARCHAR(36)`` column, so
existing databases (whose ids are such strings) open unchanged on every backend.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator, Sequence

from django.db import connection, models, transaction
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
    database accepts parameters for (1,000 at most).
    """
    ops = connection.ops
    conflict = OnConflict.IGNORE if ignore_conflicts else None
    columns = ", ".join(ops.quote_name(field.column) for field in fields)
    table = ops.quote_name(model._meta.db_table)
    head = f"{ops.insert_statement(on_conflict=conflict)} {table} ({columns}) VALUES "
    tail = ops.on_conflict_suffix_sql(list(fields), conflict, None, None) or ""
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, min(1000, _max_query_params() // len(fields)))
    for start in range(0, len(rows), per_statement):
        chunk = rows[start:start + per_statement]
        sql = head + ", ".join([one] * len(chunk)) + (" " + tail if tail else "")
        yield sql, [value for row in chunk for value in row]


# On PostgreSQL the bulk writes go through COPY, its bulk-load protocol, whose rows psycopg
# writes in C: a statement with thousands of placeholders (a multi-row INSERT) costs more of
# the client's time to send than the server's to run, and so do array parameters, which
# psycopg builds element by element in Python (measured on 2,000 outcomes of 14 columns:
# 27–37 µs of the client's CPU a row as arrays, 5–9 through COPY).
def insert_rows(model: type[models.Model], fields: Sequence[models.Field], rows: Sequence[Sequence],
                *, ignore_conflicts: bool = False) -> None:
    """Write ``rows`` (prepared values, as ``insert_statements`` takes them) into ``model``'s table.

    On PostgreSQL with ``COPY … FROM STDIN`` (with ``ignore_conflicts``: into a staging table,
    then ``INSERT … SELECT … ON CONFLICT DO NOTHING`` in the order given, which a plain COPY
    cannot do). Elsewhere with ``insert_statements``. Runs in the caller's transaction
    (one is opened when there is none).
    """
    if not rows:
        return
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    columns = ", ".join(ops.quote_name(field.column) for field in fields)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            for sql, params in insert_statements(model, fields, rows, ignore_conflicts=ignore_conflicts):
                cursor.execute(sql, params)
        elif not ignore_conflicts:
            _copy(cursor, f"{table} ({columns})", rows)
        else:
            staged = _staged(cursor, fields, rows)
            # In the order given (the physical order of the rows just copied): two writers that
            # sort their rows alike take the rows' locks in one order, never in a cycle.
            cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {_names(fields)} FROM {staged} "
                           f"ORDER BY ctid ON CONFLICT DO NOTHING")


def update_rows(model: type[models.Model], fields: Sequence[models.Field], match: Sequence[models.Field],
                rows: Sequence[Sequence], *, where: str = "", where_params: Sequence = ()) -> None:
    """Set ``fields`` of many rows of ``model``'s table, each row to its own values.

    Each row of ``rows`` holds one prepared value per field of ``fields`` (as
    ``insert_statements`` takes them), then one per field of ``match``: the row updated is
    the one whose ``match`` columns equal those values (and that also meets ``where``, SQL
    on the table's own columns, with ``where_params``). Rows that match nothing are skipped.

    On PostgreSQL the rows are copied into a staging table and applied by one
    ``UPDATE … FROM``: one ``UPDATE`` per row (what ``executemany`` sends) has the server
    parse, plan and run a statement for each, which cost 2–4 times the server's CPU of the
    update itself (2,000 rows: 230–560 ms against 90–140). On MySQL/MariaDB the rows are a
    derived table of ``SELECT … UNION ALL SELECT …`` joined to the table, a few hundred rows a
    statement (``executemany`` sends one ``UPDATE`` per row, a round trip each: 2,000 rows
    took 450–500 ms, 155–200 ms of the client's CPU and 250–310 of the server's, against
    110–160, 46–66 and 50–110). SQLite runs ``executemany`` of the one-row statement
    in-process. Runs in the caller's transaction (one is opened when there is none).
    """
    if not rows:
        return
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    condition = f" AND ({where})" if where else ""
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "mysql":
            _update_joined(cursor, table, fields, match, rows, where, where_params)
            return
        if connection.vendor != "postgresql":
            assignments = ", ".join(f"{ops.quote_name(field.column)} = %s" for field in fields)
            matches = " AND ".join(f"{ops.quote_name(field.column)} = %s" for field in match)
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {matches}{condition}",
                               [[*row, *where_params] for row in rows])
            return
        staged = _staged(cursor, [*fields, *match], rows)
        # The staging table's columns are v0, v1, …, so ``where`` names the table's own unqualified.
        assignments = ", ".join(f"{ops.quote_name(field.column)} = v.v{index}"
                                for index, field in enumerate(fields))
        matches = " AND ".join(f"{table}.{ops.quote_name(field.column)} = v.v{len(fields) + index}"
                               for index, field in enumerate(match))
        cursor.execute(f"UPDATE {table} SET {assignments} FROM {staged} AS v WHERE {matches}{condition}",
                       list(where_params))


# MySQL/MariaDB: rows and characters of text a statement, well within ``max_allowed_packet``.
MYSQL_UPDATE_ROWS, MYSQL_UPDATE_CHARS = 500, 1_000_000


def _update_joined(cursor, table: str, fields, match, rows, where: str, where_params) -> None:
    """MySQL/MariaDB: ``update_rows`` as ``UPDATE (<the rows>) AS v STRAIGHT_JOIN <table> AS t …``:
    the rows are read first and each finds its row by the match columns' index (the
    planner, left to itself, may scan the table's rows by ``where`` and the derived rows
    for each)."""
    quote = connection.ops.quote_name
    columns = [*fields, *match]
    first = "SELECT " + ", ".join(f"%s AS v{index}" for index in range(len(columns)))
    other = " UNION ALL SELECT " + ", ".join(["%s"] * len(columns))
    assignments = ", ".join(f"t.{quote(field.column)} = v.v{index}" for index, field in enumerate(fields))
    matches = " AND ".join(f"t.{quote(field.column)} = v.v{len(fields) + index}"
                           for index, field in enumerate(match))
    condition = f" WHERE {where}" if where else ""
    chunk: list[Sequence] = []
    size = 0
    for row in [*rows, None]:
        if chunk and (row is None or len(chunk) == MYSQL_UPDATE_ROWS or size > MYSQL_UPDATE_CHARS):
            cursor.execute(f"UPDATE ({first}{other * (len(chunk) - 1)}) AS v STRAIGHT_JOIN {table} AS t "
                           f"ON {matches} SET {assignments}{condition}",
                           [*(value for values in chunk for value in values), *where_params])
            chunk, size = [], 0
        if row is not None:
            chunk.append(row)
            size += sum(len(value) for value in row if isinstance(value, str))


def _names(fields: Sequence[models.Field]) -> str:
    return ", ".join(f"v{index}" for index in range(len(fields)))


def _copy(cursor, target: str, rows: Sequence[Sequence]) -> None:
    with connection.wrap_database_errors, cursor.cursor.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _staged(cursor, fields: Sequence[models.Field], rows: Sequence[Sequence]) -> str:
    """PostgreSQL: ``rows`` copied into a temporary table of this session, one column per field
    (``v0``, ``v1``, … of the fields' types), emptied when the transaction ends; its name.

    The table is created by the first write of its shape in a session (``IF NOT EXISTS``
    every time: a transaction rolled back takes its creation with it) and holds rows only
    within one transaction (``ON COMMIT DELETE ROWS``); an earlier write of the same
    transaction is deleted first, so each write sees only its own rows.
    """
    shape = ", ".join(f"v{index} {field.db_type(connection)}" for index, field in enumerate(fields))
    name = "cronhub_staged_" + hashlib.sha256(shape.encode()).hexdigest()[:16]
    cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({shape}) ON COMMIT DELETE ROWS")
    cursor.execute(f"DELETE FROM {name}")
    _copy(cursor, name, rows)
    return name


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
