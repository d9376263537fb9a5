"""What the database was asked to write, from captured queries (``CaptureQueriesContext``)."""

from __future__ import annotations


def writes(queries, verb: str, table: str) -> int:
    """How many ``verb`` (INSERT, UPDATE, DELETE) statements wrote to ``table``, on any backend."""
    prefixes = (f'{verb} "{table}"'.upper(), f'{verb} INTO "{table}"'.upper())
    return sum(1 for q in queries if q["sql"].replace("`", '"').lstrip().upper().startswith(prefixes))
