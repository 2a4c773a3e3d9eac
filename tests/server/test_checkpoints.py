"""WAL checkpoints run on their own thread (``chatserver.checkpoints``), with
real SQLite files: committed rows reach the database file itself, the loop's
connection does not checkpoint by itself, and closing never hangs."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from chatserver.app import DATABASE_NAME
from chatserver.checkpoints import BACKSTOP_PAGES
from chatserver.sqlite_store import SqliteStore


def _rows(count: int, first: int = 1) -> list[tuple[int, int, str, None, int, str]]:
    return [(seq, 1_700_000_000_000, "alice", None, seq, f"line {seq}") for seq in
            range(first, first + count)]


def _wait_for(condition: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_committed_rows_reach_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_NAME
    store = SqliteStore(path)
    try:
        for batch in range(20):
            store.commit(_rows(50, 1 + batch * 50), ())
        checkpointer = store._checkpointer
        _wait_for(lambda: checkpointer.checkpoints >= 1)
        # Wait until no write is pending: a checkpoint after the last commit.
        _wait_for(lambda: not checkpointer._wake.is_set())
        time.sleep(0.5)  # the checkpoint that the last wake-up started
        # The database file alone, without its WAL: what a checkpoint copied.
        alone = tmp_path / "alone.sqlite3"
        shutil.copyfile(path, alone)
        copy = sqlite3.connect(alone)
        try:
            count, last = copy.execute("SELECT count(*), max(seq) FROM history").fetchone()
        finally:
            copy.close()
        assert (count, last) == (1000, 1000)
    finally:
        store.close()


def test_the_loops_connection_checkpoints_only_as_a_backstop(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / DATABASE_NAME)
    try:
        (pages,) = store._db.execute("PRAGMA wal_autocheckpoint").fetchone()
        assert pages == BACKSTOP_PAGES
    finally:
        store.close()


def test_close_right_after_a_write_ends_the_thread(tmp_path: Path) -> None:
    # The thread is in its batching pause when close() comes: it must still stop.
    for attempt in range(20):
        store = SqliteStore(tmp_path / f"{attempt}.sqlite3")
        store.commit(_rows(1), ())
        time.sleep(0.01 * (attempt % 5))
        started = time.monotonic()
        store.close()
        assert not store._checkpointer._thread.is_alive()
        assert time.monotonic() - started < 5.0


def test_everything_committed_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_NAME
    store = SqliteStore(path)
    store.commit(_rows(300), ())
    store.close()
    reopened = SqliteStore(path)
    try:
        assert reopened.last_seq == 300
    finally:
        reopened.close()
