"""The administrator's own SQL on a data dir's database (``chat-server admin``).

A connection of its own, next to a running server's: WAL lets both work
at once, and each change is one ``BEGIN IMMEDIATE`` transaction, so the
server (which polls ``PRAGMA data_version``, ``account_watch.py``) sees all
of it or none of it. The tool never creates a database: a missing one is an
error, since an empty new one would only hide a wrong ``--data-dir``.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import attrs

from chatproto import username_skeleton

from .sqlite_store import SCHEMA_VERSION

#: What the tool waits for a write lock the server holds (its commits are
#: milliseconds; a checkpoint does not take it).
BUSY_TIMEOUT_MS = 10_000
#: Deleted accounts are shown in history as ``deleted-<n>``: a valid user
#: name, so every client shows it as it shows any sender.
TOMBSTONE_PREFIX = "deleted-"


class AdminStoreError(Exception):
    """The database cannot be opened, is locked, or is not one this tool knows."""


class NoSuchUser(Exception):
    """No account has the name (nor its skeleton)."""


@attrs.frozen
class UserRow:
    name: str
    created_ms: int
    disabled: bool


@attrs.frozen
class Deletion:
    name: str
    tombstone: str
    held_until_ms: int


def _failure(exc: sqlite3.Error) -> str:
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return "the database is locked (another program is writing to it); try again"
    return str(exc)


class AdminStore:
    """``with AdminStore(path) as store: ...``"""

    def __init__(self, path: Path) -> None:
        if not path.parent.is_dir():
            raise AdminStoreError(f"no data dir {path.parent}")
        if not path.is_file():
            raise AdminStoreError(f"no database in {path.parent} (has the server run there?)")
        try:
            # mode=rw: never create one, even if it vanished since the check.
            self._db = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=rw", uri=True, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise AdminStoreError(f"cannot open the database {path}: {_failure(exc)}") from None
        try:
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")  # tokens and memberships go with accounts
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as exc:
            self._db.close()
            raise AdminStoreError(f"cannot open the database {path}: {_failure(exc)}") from None
        if version != SCHEMA_VERSION:
            self._db.close()
            raise AdminStoreError(
                f"the database {path} has schema version {version}, this tool knows "
                f"{SCHEMA_VERSION}: start this version of the server on it once first"
            )

    def __enter__(self) -> AdminStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")  # the write lock now: no upgrade deadlock later
        except sqlite3.Error as exc:
            raise AdminStoreError(_failure(exc)) from None
        try:
            yield db
            db.execute("COMMIT")
        except BaseException as exc:
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise AdminStoreError(_failure(exc)) from None
            raise

    def _read(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        try:
            return list(self._db.execute(sql, args))
        except sqlite3.Error as exc:
            raise AdminStoreError(_failure(exc)) from None

    # -- reading ---------------------------------------------------------------

    def users(self) -> list[UserRow]:
        rows = self._read(
            "SELECT name, created_ms, disabled FROM accounts ORDER BY created_ms, rowid"
        )
        return [UserRow(str(name), int(str(ms)), bool(off)) for name, ms, off in rows]

    def find(self, name: str) -> str:
        """The account ``name`` means, as the server finds it (``AccountNames``):
        the exact name, else the oldest account with its skeleton."""
        exact = self._read("SELECT name FROM accounts WHERE name = ?", (name,))
        if exact:
            return name
        rows = self._read(
            "SELECT name FROM accounts WHERE skeleton = ? ORDER BY created_ms, rowid LIMIT 1",
            (username_skeleton(name),),
        )
        if not rows:
            raise NoSuchUser(name)
        return str(rows[0][0])

    # -- changes ---------------------------------------------------------------

    def set_password_hash(self, name: str, password_hash: str) -> None:
        """A new password; every resume token goes (the next login takes the password)."""
        with self._write() as db:
            db.execute("UPDATE accounts SET password_hash = ? WHERE name = ?",
                       (password_hash, name))
            db.execute("DELETE FROM resume_tokens WHERE account = ?", (name,))

    def set_disabled(self, name: str, disabled: bool) -> bool:
        """Whether it changed anything. Disabling revokes the resume tokens."""
        with self._write() as db:
            changed = db.execute(
                "UPDATE accounts SET disabled = ? WHERE name = ? AND disabled != ?",
                (int(disabled), name, int(disabled)),
            ).rowcount
            if disabled:
                db.execute("DELETE FROM resume_tokens WHERE account = ?", (name,))
        return changed > 0

    def delete(self, name: str, now_ms: int, hold_ms: int) -> Deletion:
        """Remove the account (its hash, tokens and memberships go by cascade,
        and the rooms it was the last member of),
        show its history under a new tombstone name held for good, and hold
        the name's skeleton until ``now_ms + hold_ms``."""
        skeleton = username_skeleton(name)
        until = now_ms + hold_ms
        with self._write() as db:
            tombstone = self._new_tombstone(db)
            db.execute("DELETE FROM reserved_names WHERE until_ms <= ?", (now_ms,))
            db.execute("INSERT INTO reserved_names (skeleton, until_ms) VALUES (?, NULL)",
                       (username_skeleton(tombstone),))
            # A hold already longer (or for good) stays as it is.
            db.execute(
                "INSERT INTO reserved_names (skeleton, until_ms) VALUES (?, ?)"
                " ON CONFLICT (skeleton) DO UPDATE SET until_ms = excluded.until_ms"
                " WHERE until_ms IS NOT NULL AND until_ms < excluded.until_ms",
                (skeleton, until),
            )
            for table in ("history", "files"):
                db.execute(f"UPDATE {table} SET sender = ? WHERE sender = ?", (tombstone, name))
                db.execute(f"UPDATE {table} SET recipient = ? WHERE recipient = ?",
                           (tombstone, name))
            db.execute("UPDATE rooms SET creator = ? WHERE creator = ?", (tombstone, name))
            rooms = [room for (room,) in db.execute(
                "SELECT room FROM room_members WHERE account = ?", (name,))]
            db.execute("DELETE FROM accounts WHERE name = ?", (name,))
            # A room goes with its last member, as when the last one leaves (rooms.py).
            db.executemany(
                "DELETE FROM rooms WHERE name = ?"
                " AND NOT EXISTS (SELECT 1 FROM room_members WHERE room = ?)",
                [(room, room) for room in rooms],
            )
        return Deletion(name, tombstone, until)

    @staticmethod
    def _new_tombstone(db: sqlite3.Connection) -> str:
        """``deleted-<n>`` with the first n whose skeleton is neither an
        account's nor held (starting past the tombstones made so far)."""
        (number,) = db.execute(
            "SELECT count(*) + 1 FROM reserved_names WHERE until_ms IS NULL"
        ).fetchone()
        while True:
            name = f"{TOMBSTONE_PREFIX}{number}"
            skeleton = username_skeleton(name)
            taken = db.execute(
                "SELECT 1 FROM accounts WHERE skeleton = ? OR name = ?"
                " UNION ALL SELECT 1 FROM reserved_names WHERE skeleton = ?",
                (skeleton, name, skeleton),
            ).fetchone()
            if taken is None:
                return name
            number += 1
