"""The PostgreSQL schema of the cluster, and its versioned migrations.

Every node runs ``migrate`` at start, and several may start at once against
a fresh database: each step takes a transaction-scoped advisory lock before
it reads ``schema_version``, so exactly one node applies a step and the
others, waiting on the lock, then see it done. A step is one transaction:
a node killed half way leaves the previous version, never half of one.

The tables mirror the SQLite schema (``sqlite_schema.py``) with what the
cluster adds: ``counters``, the one row every shared change locks to take
the next stream id (and, for history, the next seqs and file ids), so ids
commit in order and leave no gap; ``stream_log``, one row per stream id;
``file_chunks``, the files' bytes, readable by any node; and the history's
full-text index as a ``tsvector`` column (``pg_search.py``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import psycopg
from psycopg.rows import TupleRow

Conn = psycopg.Connection[TupleRow]

#: Any fixed 64-bit key: the lock every migrating node takes.
_LOCK_KEY = 0x63686174_73636D61  # "chatscma"

_VERSION_1 = """
CREATE TABLE meta (
    key text PRIMARY KEY,
    value bigint NOT NULL
);
CREATE TABLE counters (
    id integer PRIMARY KEY CHECK (id = 1),
    stream bigint NOT NULL,
    seq bigint NOT NULL,
    file_id bigint NOT NULL
);
INSERT INTO counters (id, stream, seq, file_id) VALUES (1, 0, 0, 0);
CREATE TABLE accounts (
    name text PRIMARY KEY,
    password_hash text NOT NULL,
    created_seq bigint NOT NULL,
    created_ms bigint NOT NULL,
    skeleton text NOT NULL,
    disabled boolean NOT NULL DEFAULT false,
    -- "oldest first" among accounts created in one millisecond
    ord bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX accounts_by_skeleton ON accounts (skeleton);
CREATE TABLE files (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    size bigint NOT NULL,
    sha256 bytea NOT NULL,
    stored_name text NOT NULL,
    sender text NOT NULL,
    recipient text
);
CREATE INDEX files_by_stored_name ON files (stored_name);
CREATE TABLE history (
    seq bigint PRIMARY KEY,
    timestamp_ms bigint NOT NULL,
    sender text NOT NULL,
    recipient text,
    client_id bigint NOT NULL DEFAULT 0,
    text text,
    file_id bigint REFERENCES files (id),
    body tsvector
);
CREATE INDEX history_by_file ON history (file_id) WHERE file_id IS NOT NULL;
CREATE INDEX history_body ON history USING gin (body);
CREATE TABLE resume_tokens (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    digest bytea NOT NULL UNIQUE,
    account text NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    issued_ms bigint NOT NULL
);
CREATE INDEX resume_tokens_by_account ON resume_tokens (account, id);
CREATE INDEX resume_tokens_by_age ON resume_tokens (issued_ms);
CREATE TABLE rooms (
    name text PRIMARY KEY,
    skeleton text NOT NULL UNIQUE,
    private boolean NOT NULL DEFAULT false,
    creator text,
    created_seq bigint NOT NULL,
    created_ms bigint NOT NULL
);
CREATE TABLE room_members (
    room text NOT NULL REFERENCES rooms (name) ON DELETE CASCADE,
    account text NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    joined_seq bigint NOT NULL,
    PRIMARY KEY (room, account)
);
CREATE INDEX room_members_by_account ON room_members (account, room);
CREATE TABLE reserved_names (
    skeleton text PRIMARY KEY,
    until_ms bigint
);
CREATE TABLE stream_log (
    id bigint PRIMARY KEY,
    kind text NOT NULL,
    first_seq bigint NOT NULL DEFAULT 0,
    last_seq bigint NOT NULL DEFAULT 0,
    data jsonb
);
CREATE TABLE file_chunks (
    stored_name text NOT NULL,
    idx integer NOT NULL,
    data bytea NOT NULL,
    written_ms bigint NOT NULL,
    PRIMARY KEY (stored_name, idx)
);
ALTER TABLE file_chunks ALTER COLUMN data SET STORAGE EXTERNAL
"""


def _version_1(conn: Conn) -> None:
    for statement in _VERSION_1.split(";"):
        conn.execute(statement)
    # The history's identity (docs/protocol.md): random, made with the schema.
    conn.execute("INSERT INTO meta (key, value) VALUES ('epoch', %s)",
                 (secrets.randbelow(2**63 - 1) + 1,))


#: Step n brings the schema from version n - 1 to n.
STEPS: tuple[Callable[[Conn], None], ...] = (_version_1,)
SCHEMA_VERSION = len(STEPS)


class SchemaTooNew(Exception):
    """The database was made by a newer version of the server."""


def migrate(conn: Conn) -> None:
    """Bring the schema of ``conn``'s database to ``SCHEMA_VERSION``, step by step."""
    while True:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
            row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
            version = int(row[0]) if row is not None and row[0] is not None else 0
            if version > SCHEMA_VERSION:
                raise SchemaTooNew(f"unknown database schema version {version}")
            if version == SCHEMA_VERSION:
                return
            STEPS[version](conn)
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version + 1,))
