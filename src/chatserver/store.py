"""SQLite persistence: accounts, the message history and file metadata.

One connection, used only from the event loop's thread. WAL with
``synchronous=NORMAL``: a commit survives the process being killed (the WAL
is in the OS cache), and a batch of messages costs one commit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

from chatproto import ChatMessage, FileAvailable

SCHEMA_VERSION = 1

#: One chat line of the history table, in its column order:
#: (seq, timestamp_ms, sender, recipient, client_id, text).
ChatRow = tuple[int, int, str, str | None, int, str]

_SCHEMA = """
CREATE TABLE accounts (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_seq INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 BLOB NOT NULL,
    stored_name TEXT NOT NULL,
    sender TEXT NOT NULL,
    recipient TEXT
);
CREATE TABLE history (
    seq INTEGER PRIMARY KEY,
    timestamp_ms INTEGER NOT NULL,
    sender TEXT NOT NULL,
    recipient TEXT,
    client_id INTEGER NOT NULL DEFAULT 0,
    text TEXT,
    file_id INTEGER REFERENCES files(id)
);
"""


class StoreError(Exception):
    """The database cannot be opened or has an unknown schema."""


@attrs.frozen
class Account:
    name: str
    password_hash: str
    created_seq: int


@attrs.frozen
class StoredFile:
    id: int
    name: str
    size: int
    sha256: bytes
    stored_name: str
    sender: str
    recipient: str | None

    def visible_to(self, user: str) -> bool:
        return self.recipient is None or user in (self.sender, self.recipient)


class Store:
    def __init__(self, path: Path) -> None:
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database {path}: {exc}") from None
        self.last_seq: int = self._scalar("SELECT coalesce(max(seq), 0) FROM history")
        self.last_file_id: int = self._scalar("SELECT coalesce(max(id), 0) FROM files")

    def _scalar(self, sql: str) -> int:
        row = self._db.execute(sql).fetchone()
        return int(row[0])

    def _migrate(self) -> None:
        version = self._scalar("PRAGMA user_version")
        if version == SCHEMA_VERSION:
            return
        if version != 0:
            raise StoreError(f"unknown database schema version {version}")
        self._db.executescript(
            "BEGIN;" + _SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
        )

    def close(self) -> None:
        self._db.close()

    # -- accounts ------------------------------------------------------------

    def account_names(self) -> set[str]:
        return {name for (name,) in self._db.execute("SELECT name FROM accounts")}

    def account(self, name: str) -> Account | None:
        row = self._db.execute(
            "SELECT password_hash, created_seq FROM accounts WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else Account(name, row[0], row[1])

    def create_account(self, account: Account, created_ms: int) -> None:
        self._db.execute(
            "INSERT INTO accounts (name, password_hash, created_seq, created_ms) "
            "VALUES (?, ?, ?, ?)",
            (account.name, account.password_hash, account.created_seq, created_ms),
        )

    # -- history ---------------------------------------------------------------

    def commit(
        self, chat_rows: Sequence[ChatRow], files: Sequence[tuple[FileAvailable, str]]
    ) -> None:
        """Store a batch of chat rows and file announcements in one transaction.

        Sequence numbers and file ids were assigned by the caller (in order)."""
        db = self._db
        db.execute("BEGIN")
        try:
            if chat_rows:
                db.executemany(
                    "INSERT INTO history (seq, timestamp_ms, sender, recipient, client_id, text)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    chat_rows,
                )
            for announcement, stored_name in files:
                self._insert_file(announcement, stored_name)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _insert_file(self, f: FileAvailable, stored_name: str) -> None:
        self._db.execute(
            "INSERT INTO files (id, name, size, sha256, stored_name, sender, recipient)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (f.file_id, f.name, f.size, f.sha256, stored_name, f.sender, f.recipient),
        )
        self._db.execute(
            "INSERT INTO history (seq, timestamp_ms, sender, recipient, file_id)"
            " VALUES (?, ?, ?, ?, ?)",
            (f.seq, f.timestamp_ms, f.sender, f.recipient, f.file_id),
        )

    def history_for(
        self, user: str, after_seq: int, up_to_seq: int, limit: int
    ) -> list[ChatMessage | FileAvailable]:
        """Entries addressed to ``user`` with ``after_seq < seq <= up_to_seq``, in order."""
        rows = self._db.execute(
            "SELECT h.seq, h.timestamp_ms, h.sender, h.recipient, h.client_id, h.text,"
            " f.id, f.name, f.size, f.sha256"
            " FROM history h LEFT JOIN files f ON f.id = h.file_id"
            " WHERE h.seq > ? AND h.seq <= ?"
            " AND (h.recipient IS NULL OR h.recipient = ? OR h.sender = ?)"
            " ORDER BY h.seq LIMIT ?",
            (after_seq, up_to_seq, user, user, limit),
        )
        entries: list[ChatMessage | FileAvailable] = []
        for seq, ts, sender, recipient, client_id, text, fid, name, size, digest in rows:
            if fid is None:
                entries.append(ChatMessage(seq, ts, client_id, sender, recipient, text))
            else:
                entries.append(
                    FileAvailable(seq, ts, fid, sender, recipient, name, size, bytes(digest))
                )
        return entries

    # -- files -------------------------------------------------------------------

    def file(self, file_id: int) -> StoredFile | None:
        row = self._db.execute(
            "SELECT id, name, size, sha256, stored_name, sender, recipient FROM files"
            " WHERE id = ?",
            (file_id,),
        ).fetchone()
        if row is None:
            return None
        fid, name, size, digest, stored_name, sender, recipient = row
        return StoredFile(fid, name, size, bytes(digest), stored_name, sender, recipient)

    def stored_names(self) -> Iterable[str]:
        return [row[0] for row in self._db.execute("SELECT stored_name FROM files")]
