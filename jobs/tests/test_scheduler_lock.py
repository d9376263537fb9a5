"""The leader lock: one holder at a time, handed over when the holder goes away."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection

from jobs.scheduler.lock import DatabaseLock, FileLock

HOLD_SCRIPT = """
import fcntl, sys, time
handle = open(sys.argv[1], "a+")
fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(60)
"""


def test_only_one_file_lock_holder_at_a_time_and_release_hands_it_over(tmp_path):
    path = tmp_path / "run" / "scheduler.lock"
    leader, standby = FileLock(path), FileLock(path)

    assert leader.try_acquire()
    assert not standby.try_acquire()
    assert leader.still_held()
    assert path.read_text().splitlines()[0] == str(os.getpid())

    leader.release()
    assert not leader.still_held()
    assert standby.try_acquire()
    standby.release()


def test_the_file_lock_is_free_as_soon_as_its_holder_is_killed(tmp_path):
    path = tmp_path / "scheduler.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_SCRIPT, str(path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        standby = FileLock(path)
        assert not standby.try_acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        assert standby.try_acquire()  # no stale-lock guessing: the kernel released it
        standby.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_a_leader_whose_lock_file_was_replaced_knows_it_no_longer_holds_the_lock(tmp_path):
    path = tmp_path / "scheduler.lock"
    leader = FileLock(path)
    assert leader.try_acquire()
    path.unlink()
    newcomer = FileLock(path)
    assert newcomer.try_acquire()  # a new inode, so this succeeds...
    assert not leader.still_held()  # ...and the old leader must step down
    newcomer.release()
    leader.release()


def test_the_database_lock_backend_refuses_sqlite(db):
    if connection.vendor != "sqlite":
        pytest.skip("checks the SQLite refusal")
    with pytest.raises(ValueError, match="PostgreSQL or MySQL"):
        DatabaseLock()


@pytest.fixture
def server_lock(db):
    locks = []

    def make():
        locks.append(DatabaseLock())
        return locks[-1]

    yield make
    for lock in locks:
        lock.release()


def _terminate(session_id):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_terminate_backend(%s)", [session_id])
        else:
            cursor.execute(f"KILL {int(session_id)}")


@pytest.mark.dbcompat
@pytest.mark.server_db
def test_only_one_database_lock_holder_at_a_time_and_release_hands_it_over(server_lock):
    leader, standby = server_lock(), server_lock()

    assert leader.try_acquire()
    assert not standby.try_acquire()
    assert leader.still_held()
    # The lock lives on its own connection, not on the ORM's (which is closed around every run).
    with connection.cursor() as cursor:
        pg = connection.vendor == "postgresql"
        cursor.execute("SELECT pg_backend_pid()" if pg else "SELECT CONNECTION_ID()")
        assert leader.session_id() != cursor.fetchone()[0]
    leader.release()
    assert standby.try_acquire()
    assert standby.still_held()


@pytest.mark.dbcompat
@pytest.mark.server_db
def test_a_leader_whose_lock_connection_dies_steps_down_and_a_standby_takes_over(server_lock):
    leader, standby = server_lock(), server_lock()
    assert leader.try_acquire()
    assert not standby.try_acquire()

    _terminate(leader.session_id())

    assert not leader.still_held()
    deadline = time.monotonic() + 10
    while not standby.try_acquire():
        assert time.monotonic() < deadline, "the server never released the dead session's lock"
        time.sleep(0.2)
    assert standby.still_held()
