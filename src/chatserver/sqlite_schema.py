"""The SQLite store's schema: the SQL of each version, and ``migrate``, which
brings a database of any older version up to this one.

Apart from the store (``sqlite_store.py``) because it changes on a rhythm of
its own: a new version is one more ``_VERSION_N`` and one more step in
``migrate``, never an edit of an older one, since databases that an older
server made are out there and must still come up to date. The store runs
``migrate`` when it opens a database; ``admin_store.py`` only checks
``SCHEMA_VERSION`` and leaves migrating to the server.
"""

from __future__ import annotations

import secrets
import sqlite3

from chatproto import username_skeleton

from .search_text import index_body
from .sql_common import StoreError

SCHEMA_VERSION = 4

#: What version 4 adds: rooms other than ``general`` (which every account is
#: in and which has no row), their members since the ``joined_seq`` from
#: which they see the room's history, accounts an administrator disabled,
#: names held back after an account was deleted (``until_ms`` NULL: for
#: good), and the full-text index of the chat text (``search_text.py`` says
#: what it holds; contentless, keyed by seq: the text itself stays in
#: ``history`` alone), and the history's file entries by file id (a fetch
#: finds the seq of its file, which decides who may see it, without a scan).
_VERSION_4 = """
CREATE TABLE rooms (
    name TEXT PRIMARY KEY,
    skeleton TEXT NOT NULL UNIQUE,
    private INTEGER NOT NULL DEFAULT 0,
    creator TEXT,
    created_seq INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE room_members (
    room TEXT NOT NULL REFERENCES rooms (name) ON DELETE CASCADE,
    account TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    joined_seq INTEGER NOT NULL,
    PRIMARY KEY (room, account)
) WITHOUT ROWID;
CREATE INDEX room_members_by_account ON room_members (account, room);
ALTER TABLE accounts ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
CREATE TABLE reserved_names (
    skeleton TEXT PRIMARY KEY,
    until_ms INTEGER
);
CREATE VIRTUAL TABLE history_fts USING fts5(
    body, content='', columnsize=0, tokenize='unicode61 remove_diacritics 2'
);
INSERT INTO history_fts (rowid, body)
    SELECT seq, index_body(text, sender, recipient) FROM history WHERE text IS NOT NULL;
CREATE INDEX history_by_file ON history (file_id) WHERE file_id IS NOT NULL
"""

#: What version 3 adds: resume tokens (docs/protocol.md 7.8), by the SHA-256 of
#: the token, never the token itself. ``id`` orders them for eviction (many are
#: issued within one millisecond); deleting an account deletes its tokens.
_VERSION_3 = """
CREATE TABLE resume_tokens (
    id INTEGER PRIMARY KEY,
    digest BLOB NOT NULL UNIQUE,
    account TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    issued_ms INTEGER NOT NULL
);
CREATE INDEX resume_tokens_by_account ON resume_tokens (account, id);
CREATE INDEX resume_tokens_by_age ON resume_tokens (issued_ms);
"""

#: What version 2 adds: settings of the database itself (its history epoch),
#: and each account's name skeleton (``chatproto.username_skeleton``), on which
#: uniqueness is decided. Not UNIQUE: a version 1 database may hold ``Bob``
#: and ``bob`` (see ``AccountNames``); new accounts never collide.
_VERSION_2 = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
ALTER TABLE accounts ADD COLUMN skeleton TEXT;
CREATE INDEX accounts_by_skeleton ON accounts (skeleton);
"""

_VERSION_1 = """
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


def migrate(db: sqlite3.Connection) -> None:
    """Bring the schema from any older version to this one, in one transaction.

    ``db`` is in autocommit mode (``isolation_level=None``, as the store opens
    it): the transaction is this function's own ``BEGIN``."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version == SCHEMA_VERSION:
        return
    if version not in (0, 1, 2, 3):
        raise StoreError(f"unknown database schema version {version}")
    db.execute("BEGIN")
    try:
        if version == 0:
            _run(db, _VERSION_1)
        if version <= 1:
            _to_version_2(db)
        if version <= 2:
            _run(db, _VERSION_3)
        db.create_function("index_body", 3, index_body, deterministic=True)
        _run(db, _VERSION_4)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _run(db: sqlite3.Connection, script: str) -> None:
    # Statement by statement: ``executescript`` would commit the migration's transaction.
    for statement in script.split(";"):
        db.execute(statement)


def _to_version_2(db: sqlite3.Connection) -> None:
    _run(db, _VERSION_2)
    names = [name for (name,) in db.execute("SELECT name FROM accounts")]
    db.executemany("UPDATE accounts SET skeleton = ? WHERE name = ?",
                   [(username_skeleton(name), name) for name in names])
    # A random epoch below 2**63, so it fits SQLite's INTEGER as it is.
    db.execute("INSERT INTO meta (key, value) VALUES ('epoch', ?)",
               (secrets.randbelow(2**63 - 1) + 1,))
