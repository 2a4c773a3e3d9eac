"""Full-text search of the history on PostgreSQL: SQLite's ``search.py``
with a ``tsvector`` instead of FTS5, the same results, order and paging.

A row's ``body`` is ``to_tsvector('simple', ...)`` of its text as
``search_text.index_text`` prepares it (Korean, Chinese and Japanese as
pairs), case folded by the ``simple`` configuration and diacritics folded
here (FTS5's ``remove_diacritics``), plus the terms that say where the row
went and who sent it (``search_text.term``). Those go in through
``array_to_tsvector``, untouched by the parser: they start with
``search_text.MARK``, which the parser treats as a separator, so no word of
a user's, indexed or searched, can ever be one of them.

A query becomes one ``tsquery``: each piece a phrase (``phraseto_tsquery``,
cut by the same parser as the text), a single CJK character a prefix, all
ANDed. What the user may see is walked in parts as in ``search.py``, each
part's seqs newest first a page at a time, merged, and every row checked
against its ``history`` row in the same snapshot.
"""

from __future__ import annotations

import heapq
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator

import psycopg

from ..search import BadQuery, SearchRow, newest_visible, visible_rows, visible_targets
from ..search_text import _RUN, _WORD, MARK, index_body, index_text, term
from .pg_schema import Conn

_SQL_MAX = 2**63 - 1
_ROOM_PARTS = 8
_DIACRITICS = re.compile("[\u0300-\u036f]")

#: A part's matches are looked for in two ways. Among the newest
#: ``_RECENT`` seqs (seqs are dense: that many rows), walking the primary
#: key backwards and testing each body: a common word is found at once,
#: without reading all its matches. Older than that, through the GIN index
#: (``seq + 0`` keeps the planner off the primary key's order): a rare word
#: costs its few matches instead of a walk of the whole history. The planner
#: left to itself takes the backward walk for both (its estimate for a word
#: it has no statistics of is too high): 275 ms for a word in 0.05% of 200k
#: rows, against 4 ms for a common one; in two ways, 38 ms and 9 ms (a whole
#: search of three parts). Right after a bulk load the GIN index's pending
#: list (``fastupdate``) slows every search until autovacuum merges it.
_RECENT = 20_000
_PART = (
    "SELECT seq FROM history WHERE body @@ (%s::tsquery && %s::tsquery)"
    " AND seq > %s AND seq < %s ORDER BY seq DESC LIMIT %s"
)
_PART_INDEXED = (
    "SELECT seq FROM history WHERE body @@ (%s::tsquery && %s::tsquery)"
    " AND seq > %s AND seq < %s ORDER BY seq + 0 DESC LIMIT %s"
)


def fold(text: str) -> str:
    """``text`` without the combining accents of Latin, Greek and Cyrillic
    letters (``café`` is ``cafe``); other scripts' marks stay."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", _DIACRITICS.sub("", unicodedata.normalize("NFD", text)))


def body_params(text: str, sender: str, recipient: str | None) -> tuple[str, list[str]]:
    """What a chat row's ``body`` is made of (``pg_batch``): its text as
    prepared for the parser, and its terms, for ``array_to_tsvector``."""
    terms = index_body("", sender, recipient).split()
    return fold(index_text(text)), terms


def _lexeme(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


class PgSearcher:
    """Searches on a connection of its own (made by ``connect``), one thread at a time."""

    def __init__(self, connect: Callable[[], Conn]) -> None:
        self._connect = connect
        self._lock = threading.Lock()
        self._db: Conn | None = None

    def search(
        self, user: str, query: str, *, room: str | None, sender: str | None,
        before_seq: int, limit: int,
    ) -> tuple[list[SearchRow], bool]:
        pieces = _pieces(query)
        if not pieces:
            raise BadQuery("the query has no word to search for")
        if limit <= 0:
            return [], False
        with self._lock:
            if self._db is None or self._db.closed:
                self._db = self._connect()
            db = self._db
            try:
                # One snapshot for the account, the memberships and every part.
                with db.transaction():
                    db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    match = _tsquery(db, pieces)
                    return _Search(db, user, match, room, sender, before_seq).run(limit)
            except psycopg.Error:
                if db.broken or db.closed:
                    self._db = None
                    db.close()
                raise

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def _pieces(query: str) -> list[tuple[str, str]]:
    """The query as (kind, text): ``phrase`` pieces and ``prefix`` characters,
    cut as ``search_text.match_expression`` cuts it."""
    pieces: list[tuple[str, str]] = []
    for word in query.replace("\0", " ").replace(MARK, " ").split():
        last = 0
        for run in _RUN.finditer(word):
            _plain(pieces, word[last : run.start()])
            chars = run.group()
            if len(chars) == 1:
                pieces.append(("prefix", chars))
            else:
                pieces.append(("phrase", " ".join(chars[i : i + 2]
                                                  for i in range(len(chars) - 1))))
            last = run.end()
        _plain(pieces, word[last:])
    return pieces


def _plain(pieces: list[tuple[str, str]], piece: str) -> None:
    if _WORD.search(piece) is not None:
        pieces.append(("phrase", fold(piece)))


def _tsquery(db: Conn, pieces: list[tuple[str, str]]) -> str:
    """The ``tsquery`` (as text) that every piece must match, cut by PostgreSQL's parser."""
    parts: list[str] = []
    params: list[str] = []
    for kind, text in pieces:
        if kind == "prefix":
            parts.append("to_tsquery('simple', %s)")
            params.append(_lexeme(text.lower()) + ":*")
        else:
            parts.append("phraseto_tsquery('simple', %s)")
            params.append(text)
    row = db.execute(f"SELECT ({' && '.join(parts)})::text", params).fetchone()
    text = str(row[0]) if row is not None and row[0] is not None else ""
    # A piece the parser finds no word in (``_WORD`` and it disagree on a few
    # characters) matches nothing rather than everything.
    return text or "'" + MARK + "none'"


class _Search:
    """One search: the parts of the history the user may see, and the check of each row."""

    def __init__(self, db: Conn, user: str, match: str,
                 room: str | None, sender: str | None, before_seq: int) -> None:
        self.db = db
        self.user = user
        self.sender = sender
        self.before = _SQL_MAX if before_seq <= 0 or before_seq > _SQL_MAX else before_seq
        head = db.execute("SELECT coalesce(max(seq), 0) FROM history").fetchone()
        self.head = 0 if head is None else int(head[0])
        self.match = match if sender is None else f"({match}) & {_lexeme(term('s', sender))}"
        self.after, self.direct = visible_targets(db, user, room, "%s")

    def parts(self, page: int) -> list[Iterator[int]]:
        parts: list[tuple[str, int]] = []
        if None in self.after:
            parts.append((_lexeme(term("g", "")), self.after[None]))
        if self.direct:
            parts.append((_lexeme(term("p", self.user)), 0))
        rooms = sorted((joined, target[1:]) for target, joined in self.after.items()
                       if target is not None)
        size = -(-len(rooms) // _ROOM_PARTS)
        for i in range(0, len(rooms), size or 1):
            group = rooms[i : i + size]
            parts.append((" | ".join(_lexeme(term("r", name)) for _, name in group),
                          group[0][0]))
        return [self._walk(where, after, page) for where, after in parts]

    def _walk(self, where: str, after: int, page: int) -> Iterator[int]:
        before = min(self.before, self.head + 1)
        recent_from = max(after, before - 1 - _RECENT)
        for query, low in ((_PART, recent_from), (_PART_INDEXED, after)):
            while before - 1 > low:
                seqs = [int(seq) for (seq,) in self.db.execute(
                    query, (self.match, where, low, before, page)).fetchall()]
                yield from seqs
                if len(seqs) < page:
                    break
                before = seqs[-1]
            before = min(before, low + 1)

    def run(self, limit: int) -> tuple[list[SearchRow], bool]:
        return newest_visible(
            heapq.merge(*self.parts(limit + 1), reverse=True), limit, self._visible)

    def _visible(self, seqs: list[int]) -> list[SearchRow]:
        rows = self.db.execute(
            "SELECT seq, timestamp_ms, sender, recipient, text FROM history"
            " WHERE seq = ANY(%s) AND text IS NOT NULL ORDER BY seq DESC", (seqs,))
        return visible_rows(rows, self.user, self.sender, self.after, self.direct)
