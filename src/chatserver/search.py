"""Full-text search of the history (docs/protocol.md 7.11).

The index (``history_fts``, ``search_text.py``) is contentless and keyed by
seq. Besides the words of a row it holds terms that say where the row went
and who sent it (``search_text.index_body``): general, a room, the two users
of a direct message, the sender. What a user may see is a union of a few
parts, each with a lower bound of its own: ``general`` after their account's
``created_seq``, each room they are in after its ``joined_seq``, their direct
messages all along. Each part is one FTS5 query, the words AND the part's
term (AND the sender's term for ``--from``), walked newest first (``ORDER BY
rowid DESC`` walks the doclists backwards, no sort) from the part's bound;
the parts are merged by seq and stop at the first ``limit + 1``.

So the work is bounded by what the user may see, not by what the words
match: FTS5 intersects a long doclist with a short one by seeking in the
long one. A word in 90% of a million messages costs about as much as a rare
one, whether the user sees most of the history or a sliver of it
(docs/performance.md, Search).

Every result is checked against its ``history`` row all the same (the
account, the rooms and the row read in one snapshot): the terms only choose
which rows to read, so a row whose names changed after it was indexed
(``delete-user``'s tombstone names) is never shown to the wrong user.
"""

from __future__ import annotations

import heapq
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from chatproto import is_general, username_skeleton

from .search_text import match_expression, quote, term

#: One result: (seq, timestamp_ms, sender, recipient, text).
SearchRow = tuple[int, int, str, str | None, str]

_SQL_MAX = 2**63 - 1

#: Rooms are walked in at most this many parts (rooms with neighbouring
#: ``joined_seq`` together): a hundred cursors would cost more to start
#: than the rows they save.
_ROOM_PARTS = 8

_PART = (
    "SELECT rowid FROM history_fts WHERE history_fts MATCH ? AND rowid > ? AND rowid < ?"
    " ORDER BY rowid DESC"
)


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
            # One snapshot for the account, the memberships and every part.
            db.execute("BEGIN")
            try:
                return _Search(db, user, match, room, sender, before_seq).run(limit)
            finally:
                db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def visible_targets(
    db: Any, user: str, room: str | None, mark: str,
) -> tuple[dict[str | None, int], bool]:
    """Where ``user``'s search looks, by the history's own rule: each target
    (None for general, ``#room``) and the seq after which the user sees it,
    and whether their direct messages count. ``db`` is a DB-API connection
    of the store's schema (SQLite's or PostgreSQL's), ``mark`` its
    placeholder (``?`` or ``%s``)."""
    after: dict[str | None, int] = {}
    row = db.execute(f"SELECT created_seq FROM accounts WHERE name = {mark}", (user,)).fetchone()
    if row is None:
        return after, False
    if room is None or is_general(room):
        after[None] = int(row[0])
    if room is None:
        members = db.execute(
            f"SELECT room, joined_seq FROM room_members WHERE account = {mark}", (user,))
    elif not is_general(room):
        members = db.execute(
            "SELECT r.name, m.joined_seq FROM rooms r JOIN room_members m ON m.room = r.name"
            f" WHERE r.skeleton = {mark} AND m.account = {mark}", (username_skeleton(room), user))
    else:
        return after, False
    for name, joined in members:
        after["#" + str(name)] = int(joined)
    return after, room is None



def newest_visible(
    candidates: Iterator[int], limit: int, visible: Callable[[list[int]], list[SearchRow]],
) -> tuple[list[SearchRow], bool]:
    """Up to ``limit`` rows, newest first, of the candidate seqs (newest
    first) that ``visible`` keeps, asked in batches of what is still
    missing; and whether there were more."""
    found: list[SearchRow] = []
    while len(found) <= limit:
        batch = [seq for _, seq in zip(range(limit + 1 - len(found)), candidates, strict=False)]
        if not batch:
            break
        found.extend(visible(batch))
    return found[:limit], len(found) > limit


def visible_rows(
    rows: Iterable[Sequence[Any]], user: str, sender: str | None,
    after: dict[str | None, int], direct: bool,
) -> list[SearchRow]:
    """The history rows (seq, timestamp, sender, recipient, text) that
    ``user`` may see, from ``sender`` only if given: a room's (or general's)
    after the seq ``after`` holds for it, a direct message of theirs if
    ``direct``. The targets come from ``visible_targets``."""
    visible: list[SearchRow] = []
    for seq_, ts, sender_, recipient_, text in rows:
        seq, row_sender = int(seq_), str(sender_)
        recipient = None if recipient_ is None else str(recipient_)
        if sender is not None and row_sender != sender:
            continue
        if recipient is None or recipient.startswith("#"):
            since = after.get(recipient)
            if since is None or seq <= since:
                continue
        elif not direct or user not in (row_sender, recipient):
            continue
        visible.append((seq, int(ts), row_sender, recipient, str(text)))
    return visible


class _Search:
    """One search: the parts of the history the user may see, and the check of each row."""

    def __init__(self, db: sqlite3.Connection, user: str, match: str, room: str | None,
                 sender: str | None, before_seq: int) -> None:
        self.db = db
        self.user = user
        self.sender = sender
        self.before = _SQL_MAX if before_seq <= 0 or before_seq > _SQL_MAX else before_seq
        self.match = match if sender is None else f"{match} AND {quote(term('s', sender))}"
        #: The lowest seq each target is visible after: None for general,
        #: ``#room`` for a room. Direct messages are the user's all along.
        self.after, self.direct = visible_targets(db, user, room, "?")

    def parts(self) -> list[Iterator[int]]:
        parts: list[tuple[str, int]] = []
        if None in self.after:
            parts.append((quote(term("g", "")), self.after[None]))
        if self.direct:
            parts.append((quote(term("p", self.user)), 0))
        rooms = sorted((joined, target[1:]) for target, joined in self.after.items()
                       if target is not None)
        size = -(-len(rooms) // _ROOM_PARTS)
        for i in range(0, len(rooms), size or 1):
            group = rooms[i : i + size]
            terms = " OR ".join(quote(term("r", name)) for _, name in group)
            parts.append((f"({terms})", group[0][0]))
        return [self._walk(f"{self.match} AND {where}", after) for where, after in parts]

    def _walk(self, match: str, after: int) -> Iterator[int]:
        for (seq,) in self.db.execute(_PART, (match, after, self.before)):
            yield int(seq)

    def run(self, limit: int) -> tuple[list[SearchRow], bool]:
        return newest_visible(heapq.merge(*self.parts(), reverse=True), limit, self._visible)

    def _visible(self, seqs: list[int]) -> list[SearchRow]:
        """The rows of ``seqs`` (newest first) that the user may see and asked for."""
        rows = self.db.execute(
            "SELECT seq, timestamp_ms, sender, recipient, text FROM history WHERE seq IN"
            f" ({','.join('?' * len(seqs))}) AND text IS NOT NULL ORDER BY seq DESC",
            seqs,
        )
        return visible_rows(rows, self.user, self.sender, self.after, self.direct)


