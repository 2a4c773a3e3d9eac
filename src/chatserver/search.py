"""Full-text search of the history (docs/protocol.md 7.11).

The index (``history_fts``, ``search_text.py``) is contentless and keyed by
seq, so a query walks the matching seqs newest first (``ORDER BY rowid
DESC`` walks FTS5's doclist backwards, no sort) and reads each candidate's
``history`` row by its primary key to decide whether ``user`` may see it.
The walk stops at the first ``limit + 1`` visible rows: a word that matches
most of the history costs no more than a rare one as long as the user sees
most of what matches.

What it does not bound: a word that matches much of the history and a user
(or a ``--from``) that sees little of it, for instance a sender who wrote
one message in a thousand. Then every candidate's row is read, about 0.3 µs
each (a word in 900,000 of a million messages: 300-500 ms; docs/performance.md,
Search). A ``room`` filter starts the walk above the room's ``joined_seq``,
``general`` above the account's ``created_seq``. Bounding the rest needs the
index to know where each row went and who sent it (terms of their own beside
the words, searched together with them): that is the change proposed in
docs/performance.md.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from chatproto import is_general, username_skeleton

from .search_text import match_expression

#: One result: (seq, timestamp_ms, sender, recipient, text).
SearchRow = tuple[int, int, str, str | None, str]

_SQL_MAX = 2**63 - 1

#: Who may see a history row ``h``: ``general`` after they registered, their
#: direct messages (to them, or from them to a user: a recipient not starting
#: with ``#``), and the rooms they are in now, from the seq at which they joined.
_VISIBLE = """(
    (h.recipient IS NULL AND h.seq > :created)
    OR h.recipient = :user
    OR (h.sender = :user AND substr(h.recipient, 1, 1) <> '#')
    OR (substr(h.recipient, 1, 1) = '#' AND EXISTS (
        SELECT 1 FROM room_members m
        WHERE m.room = substr(h.recipient, 2) AND m.account = :user
        AND h.seq > m.joined_seq))
)"""

#: Candidates newest first: FTS5 takes the MATCH, both rowid bounds and the
#: order into its doclist walk, and the join reads ``history`` by primary key
#: (EXPLAIN QUERY PLAN: ``SCAN f VIRTUAL TABLE INDEX 192:M1<>``, ``SEARCH h
#: USING INTEGER PRIMARY KEY``, no temporary B-tree for the ORDER BY).
_CANDIDATES = """
SELECT h.seq, h.timestamp_ms, h.sender, h.recipient, h.text
FROM history_fts f JOIN history h ON h.seq = f.rowid
WHERE history_fts MATCH :match AND f.rowid < :before AND f.rowid > :after
AND h.text IS NOT NULL AND {narrow} AND {visible}
ORDER BY f.rowid DESC
LIMIT :take
"""


class BadQuery(ValueError):
    """The query has nothing to search for (no word)."""


class Searcher:
    """Searches on a read connection of its own, from any one thread at a time."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            # Opened on first use: a server nobody searches never holds it.
            # Not ``mode=ro``: a read-only connection cannot create the WAL's
            # shared-memory file if it is missing; ``query_only`` refuses
            # every write all the same.
            db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA query_only = 1")
            self._db = db
        return self._db

    def search(
        self, user: str, query: str, *, room: str | None, sender: str | None,
        before_seq: int, limit: int,
    ) -> tuple[list[SearchRow], bool]:
        """The newest ``limit`` chat messages ``user`` may see that match
        ``query`` (with seq below ``before_seq`` unless it is 0), newest first,
        and whether an older one matches too. Raises ``BadQuery`` for a query
        without a word."""
        match = match_expression(query)
        if match is None:
            raise BadQuery("the query has no word to search for")
        if limit <= 0:
            return [], False
        with self._lock:
            db = self._connection()
            # One snapshot for the account, the memberships and every chunk.
            db.execute("BEGIN")
            try:
                return self._search(db, user, match, room, sender, before_seq, limit)
            finally:
                db.execute("COMMIT")

    def _search(
        self, db: sqlite3.Connection, user: str, match: str, room: str | None,
        sender: str | None, before_seq: int, limit: int,
    ) -> tuple[list[SearchRow], bool]:
        account = db.execute(
            "SELECT created_seq FROM accounts WHERE name = ?", (user,)
        ).fetchone()
        if account is None:
            return [], False
        created = int(account[0])
        before = _SQL_MAX if before_seq <= 0 or before_seq > _SQL_MAX else before_seq
        params: dict[str, object] = {
            "match": match, "user": user, "created": created, "before": before,
            "after": 0, "take": limit + 1,
        }
        narrow = ["1"]
        if sender is not None:
            narrow.append("h.sender = :sender")
            params["sender"] = sender
        if room is not None:
            if is_general(room):
                narrow.append("h.recipient IS NULL")
                params["after"] = created
            else:
                joined = _membership(db, user, room)
                if joined is None:  # not a member (or no such room): nothing to see
                    return [], False
                narrow.append("h.recipient = :target")
                params["target"] = "#" + joined[0]
                params["after"] = joined[1]
        sql = _CANDIDATES.format(narrow=" AND ".join(narrow), visible=_VISIBLE)
        rows: list[SearchRow] = [
            (int(seq), int(ts), str(who), to, str(text))
            for seq, ts, who, to, text in db.execute(sql, params)
        ]
        return rows[:limit], len(rows) > limit

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def _membership(db: sqlite3.Connection, user: str, room: str) -> tuple[str, int] | None:
    """The room's stored name and the seq from which ``user`` sees it, if a member."""
    row = db.execute(
        "SELECT r.name, m.joined_seq FROM rooms r JOIN room_members m ON m.room = r.name"
        " WHERE r.skeleton = ? AND m.account = ?",
        (username_skeleton(room), user),
    ).fetchone()
    return None if row is None else (str(row[0]), int(row[1]))
