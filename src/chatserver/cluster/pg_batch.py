"""One batch of history committed in one statement: the counter raised,
the chat rows, the files and their history rows, the ``stream_log`` row.

The counter's row lock is what orders every node's commits, so how long it
is held is the cost of the global order. Taken by a separate ``UPDATE``
before the inserts, it is held for every round trip after it; here the
whole batch is one statement of data-modifying CTEs, run on an autocommit
connection, so the lock is held only while that statement runs and commits.
The numbers come from the ``UPDATE``'s ``RETURNING`` inside the statement.

A batch of ``COPY_FROM`` rows or more is first copied (before the lock) to
a staging table of the connection, which the statement then reads instead
of its arrays. Measured on this machine (PostgreSQL 15 on loopback, the GIN
index of the bodies in place, a whole commit, median of 8 to 30, the machine
busy with other work, so only the ratios mean much):

* 4096 rows, each way in a transaction after a separate counter ``UPDATE``:
  ``executemany`` (psycopg pipelines it) 191 ms, one ``INSERT ... SELECT
  FROM unnest(arrays)`` 135 ms, COPY to a staging table then ``INSERT ...
  SELECT`` 104 ms. As one statement (this module): COPY 79 ms.
* 1 row: 2.8 ms in a transaction (five round trips), 1.8 ms as one statement.
* 16 / 64 / 128 rows as one statement: arrays 1.0 / 1.7 / 3.7 ms, staged
  through COPY 2.0 / 3.1 / 4.3 ms: arrays below ``COPY_FROM``.

The bodies (``tsvector``) are made by the server in both paths: its parser
is what searches cut queries with (``pg_search``).
"""

from __future__ import annotations

from collections.abc import Sequence

from chatproto import FileAvailable

from ..ports import ChatRow
from ..sqlite_store import sql_u64
from .pg_schema import Conn
from .pg_search import body_params

#: From this many chat rows on a batch goes through COPY.
COPY_FROM = 128

_CHAT_COLUMNS = "ts, sender, recipient, client_id, text, b, t, i"
_FROM_ARRAYS = (
    "unnest(%(ts)s::bigint[], %(sender)s::text[], %(recipient)s::text[],"
    " %(client_id)s::bigint[], %(text)s::text[], %(b)s::text[], %(t)s::text[])"
    f" WITH ORDINALITY AS u ({_CHAT_COLUMNS})"
)
_FROM_STAGING = "history_in AS u"
_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS history_in (ts bigint, sender text, recipient text,"
    " client_id bigint, text text, b text, t text, i bigint) ON COMMIT DELETE ROWS"
)
_COMMIT = """
WITH taken AS (
    UPDATE counters SET stream = stream + 1, seq = seq + %(n)s, file_id = file_id + %(nf)s
    WHERE id = 1 RETURNING stream, seq - %(n)s AS base, file_id - %(nf)s AS fbase
), chats AS (
    INSERT INTO history (seq, timestamp_ms, sender, recipient, client_id, text, body)
    SELECT taken.base + u.i, u.ts, u.sender, u.recipient, u.client_id, u.text,
           to_tsvector('simple', u.b) || array_to_tsvector(string_to_array(u.t, ' '))
    FROM taken, {chats}
), files_in AS (
    INSERT INTO files (id, name, size, sha256, stored_name, sender, recipient)
    SELECT taken.fbase + v.i, v.name, v.size, v.sha256, v.stored, v.sender, v.recipient
    FROM taken, unnest(%(f_name)s::text[], %(f_size)s::bigint[], %(f_sha)s::bytea[],
                       %(f_stored)s::text[], %(f_sender)s::text[], %(f_recipient)s::text[])
         WITH ORDINALITY AS v (name, size, sha256, stored, sender, recipient, i)
), file_rows AS (
    INSERT INTO history (seq, timestamp_ms, sender, recipient, file_id)
    SELECT taken.base + %(nrows)s + v.i, v.ts, v.sender, v.recipient, taken.fbase + v.i
    FROM taken, unnest(%(f_ts)s::bigint[], %(f_sender)s::text[], %(f_recipient)s::text[])
         WITH ORDINALITY AS v (ts, sender, recipient, i)
), logged AS (
    INSERT INTO stream_log (id, kind, first_seq, last_seq)
    SELECT stream, 'entries', base + 1, base + %(n)s FROM taken
)
SELECT stream, base, fbase FROM taken
"""


def _chat_columns(rows: Sequence[ChatRow]) -> dict[str, list[object]]:
    columns: dict[str, list[object]] = {k: [] for k in ("ts", "sender", "recipient",
                                                         "client_id", "text", "b", "t")}
    for _, ts, sender, recipient, client_id, text in rows:
        body, terms = body_params(text, sender, recipient)
        for key, value in (("ts", ts), ("sender", sender), ("recipient", recipient),
                           ("client_id", sql_u64(client_id)), ("text", text), ("b", body),
                           ("t", " ".join(terms))):  # each term is a space-free hash
            columns[key].append(value)
    return columns


def commit_batch(
    db: Conn, rows: Sequence[ChatRow], files: Sequence[tuple[FileAvailable, str]]
) -> tuple[int, int, int]:
    """Store ``rows`` then ``files`` numbered from the counter (their own
    seqs and file ids are ignored): the stream id taken, and the seq and file
    id the batch's numbers start after. ``db`` must be in autocommit mode:
    the statement is its own transaction, unless the batch is large enough
    to be staged (then one transaction of its own)."""
    columns = _chat_columns(rows)
    params: dict[str, object] = {
        "n": len(rows) + len(files), "nf": len(files), "nrows": len(rows),
        "f_name": [f.name for f, _ in files], "f_size": [f.size for f, _ in files],
        "f_sha": [f.sha256 for f, _ in files], "f_stored": [s for _, s in files],
        "f_sender": [f.sender for f, _ in files], "f_recipient": [f.recipient for f, _ in files],
        "f_ts": [f.timestamp_ms for f, _ in files],
    }
    if len(rows) < COPY_FROM:
        params.update(columns)
        row = db.execute(_COMMIT.format(chats=_FROM_ARRAYS), params).fetchone()
    else:
        with db.transaction():
            db.execute(_STAGING)
            with db.cursor() as cursor, cursor.copy(
                f"COPY history_in ({_CHAT_COLUMNS}) FROM STDIN"
            ) as copy:
                for index, values in enumerate(zip(*columns.values(), strict=True)):
                    copy.write_row((*values, index + 1))
            # The lock is taken only now, by this statement.
            row = db.execute(_COMMIT.format(chats=_FROM_STAGING), params).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])
