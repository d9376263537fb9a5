"""The leader lock: only the process holding it schedules and fires jobs.

Two backends (``SCHEDULER_LOCK_BACKEND``):

- ``file``: ``fcntl.flock`` on ``SCHEDULER_LOCK_PATH``, held for the process
  lifetime. The kernel drops it when the process dies, however it dies, so
  there is no stale-lock guessing. One host only.
- ``database``: a PostgreSQL session advisory lock or a MySQL/MariaDB
  ``GET_LOCK`` taken on a dedicated connection (never the ORM's per-thread
  connection, which is closed and reopened around every run). The server drops
  it when that connection ends, so schedulers on several hosts can stand by for
  each other. ``still_held()`` re-checks it: a lost connection means the lock
  may already belong to someone else, and the leader steps down.

A process that does not get the lock stays a hot standby and retries.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import socket
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone

log = logging.getLogger("cronhub.scheduler.lock")


class LeaderLock:
    """Interface: ``try_acquire`` never blocks; ``still_held`` is cheap; ``release`` is idempotent."""

    held: bool = False

    def try_acquire(self) -> bool:
        raise NotImplementedError

    def still_held(self) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


class FileLock(LeaderLock):
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._file = None
        self.held = False

    def try_acquire(self) -> bool:
        if self.held:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - kept open while leading
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        # Informational only (who holds it); the flock is the lock.
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n{socket.gethostname()}\n{timezone.now().isoformat()}\n")
        handle.flush()
        self._file = handle
        self.held = True
        return True

    def still_held(self) -> bool:
        if not self.held or self._file is None:
            return False
        # If someone deleted or replaced the file, a newcomer can lock the new
        # inode while we hold the old one: two leaders. Step down instead.
        try:
            return os.stat(self.path).st_ino == os.fstat(self._file.fileno()).st_ino
        except OSError:
            return False

    def release(self) -> None:
        if self._file is not None:
            try:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            finally:
                self._file.close()
                self._file = None
        self.held = False

    def describe(self) -> str:
        return f"file lock {self.path}"


class DatabaseLock(LeaderLock):
    """PostgreSQL ``pg_try_advisory_lock`` / MySQL ``GET_LOCK`` on its own connection."""

    def __init__(self, alias: str = "default"):
        self.alias = alias
        self._conn = None
        self.held = False
        vendor = connections[alias].vendor
        if vendor not in ("postgresql", "mysql"):
            raise ValueError(f"the database lock backend needs PostgreSQL or MySQL/MariaDB, not {vendor}")
        self.vendor = vendor
        db_name = connections[alias].settings_dict["NAME"]
        # MySQL lock names are server-wide: include the database so two cronhub
        # databases on one server (e.g. CI and a developer) do not block each other.
        self.name = f"cronhub.scheduler.{db_name}"[:64]
        # PostgreSQL advisory locks are per database already; a fixed signed 64-bit key.
        digest = hashlib.sha256(b"cronhub.scheduler.leader").digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)

    def _connection(self):
        if self._conn is None:
            self._conn = connections.create_connection(self.alias)
        return self._conn

    def _query(self, sql: str, params: list) -> object:
        with self._connection().cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return row[0] if row else None

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # a dead connection may fail to close; it is gone either way
                pass
            self._conn = None

    def try_acquire(self) -> bool:
        if self.held:
            return True
        try:
            if self.vendor == "postgresql":
                got = bool(self._query("SELECT pg_try_advisory_lock(%s)", [self.key]))
            else:
                got = self._query("SELECT GET_LOCK(%s, 0)", [self.name]) == 1
        except DatabaseError as exc:
            log.warning("leader lock: database unavailable (%s); will retry", exc)
            self._drop_connection()
            return False
        self.held = got
        if not got:
            # Keep no idle connection while standing by.
            self._drop_connection()
        return got

    def still_held(self) -> bool:
        if not self.held:
            return False
        try:
            if self.vendor == "postgresql":
                classid, objid = (self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF
                held = bool(self._query(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND classid = %s AND objid = %s AND objsubid = 1",
                    [classid, objid],
                ))
            else:
                held = self._query("SELECT IS_USED_LOCK(%s) = CONNECTION_ID()", [self.name]) == 1
        except DatabaseError as exc:
            log.error("leader lock: lock connection lost (%s)", exc)
            held = False
        if not held:
            self.held = False
            self._drop_connection()
        return held

    def release(self) -> None:
        if self.held and self._conn is not None:
            try:
                if self.vendor == "postgresql":
                    self._query("SELECT pg_advisory_unlock(%s)", [self.key])
                else:
                    self._query("SELECT RELEASE_LOCK(%s)", [self.name])
            except DatabaseError:
                pass  # closing the connection below releases it on the server anyway
        self.held = False
        self._drop_connection()

    def session_id(self) -> int | None:
        """The server-side id of the lock's connection (the one to terminate to take the lock away)."""
        if self._conn is None:
            return None
        sql = "SELECT pg_backend_pid()" if self.vendor == "postgresql" else "SELECT CONNECTION_ID()"
        return int(self._query(sql, []))

    def describe(self) -> str:
        return f"database lock {self.name!r} ({self.vendor})"


def make_lock() -> LeaderLock:
    if settings.SCHEDULER_LOCK_BACKEND == "database":
        return DatabaseLock()
    return FileLock(settings.SCHEDULER_LOCK_PATH)
