"""The ``ports.Store`` of a cluster node: PostgreSQL, shared by every node.

The semantics are ``SqliteStore``'s, method for method. What the cluster
adds is the stream (``cluster/__init__.py``): every transaction that
changes what the nodes mirror (a batch of history, an account, a room, a
membership) first raises the one ``counters`` row. The row lock serialises
those transactions across nodes, so stream ids, seqs and file ids are
handed out and committed in one order with no gap, and ``stream_log`` says
what each id was, for a node that missed it on the bus (``stream_since``).

A batch of history is one statement (``pg_batch``), so the lock that
orders the cluster is held only while it runs and commits.

One connection for the loop thread, in autocommit mode with every
multi-statement change in an explicit transaction, opened again on the next
call after it broke (PostgreSQL restarted): the failing call raises, so the
hub refuses what it could not store and never acknowledges it. (A
connection lost while its COMMIT was under way cannot tell whether it
committed: the batch is refused to its senders and, if it did commit, still
reaches everyone through the stream.) ``search`` runs on a worker thread
and has a connection of its own (``pg_search``). A statement timeout keeps
a stuck database from holding the loop for long.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import attrs
import psycopg
from psycopg import conninfo

from chatproto import ChatMessage, FileAvailable, username_skeleton

from ..ports import Account, ChatRow, StoredFile, StoredResumeToken, StoredRoom
from ..search import SearchRow
from ..sqlite_store import StoreError, in_sql_range, sql_u64, u64_from_sql
from .entries import ControlKind, StreamEntry
from .pg_batch import commit_batch
from .pg_schema import Conn, SchemaTooNew, migrate
from .pg_search import PgSearcher

#: Seconds: how long a connection attempt may take, and any one statement.
CONNECT_TIMEOUT = 5
STATEMENT_TIMEOUT_MS = 5000

_HISTORY_SELECT = (
    "SELECT h.seq, h.timestamp_ms, h.sender, h.recipient, h.client_id, h.text,"
    " f.id, f.name, f.size, f.sha256"
    " FROM history h LEFT JOIN files f ON f.id = h.file_id"
    " WHERE h.seq > %(after)s AND h.seq <= %(up_to)s AND ({visible})"
    " ORDER BY h.seq LIMIT %(limit)s"
)
_DIRECT = ("h.recipient IS NULL OR h.recipient = %(user)s"
           " OR (h.sender = %(user)s AND h.recipient NOT LIKE '#%%')")
_HISTORY_FOR = _HISTORY_SELECT.format(visible=(
    _DIRECT + " OR (h.recipient LIKE '#%%' AND EXISTS (SELECT 1 FROM room_members m"
    " WHERE m.room = substr(h.recipient, 2) AND m.account = %(user)s"
    " AND h.seq > m.joined_seq))"
))
_HISTORY_FOR_NO_ROOMS = _HISTORY_SELECT.format(visible=_DIRECT)
_RANGE = (
    "SELECT h.seq, h.timestamp_ms, h.sender, h.recipient, h.client_id, h.text,"
    " f.id, f.name, f.size, f.sha256"
    " FROM history h LEFT JOIN files f ON f.id = h.file_id"
    " WHERE h.seq >= %s AND h.seq <= %s ORDER BY h.seq"
)
_TAKE = ("UPDATE counters SET stream = stream + 1, seq = seq + %s, file_id = file_id + %s"
         " WHERE id = 1 RETURNING stream, seq, file_id")


def where(dsn: str) -> str:
    """``host:port/db`` of ``dsn``, never its password; raises StoreError for a bad one."""
    try:
        info = conninfo.conninfo_to_dict(dsn)
    except psycopg.Error as exc:
        # Its quoted parts are pieces of the address, perhaps of its password.
        reason = re.sub(r'"[^"]*"', "...", _line(exc))
        raise StoreError(f"bad PostgreSQL address: {reason}") from None
    host = str(info.get("host") or info.get("hostaddr") or "localhost")
    port = str(info.get("port") or 5432)
    return f"{host}:{port}/{info.get('dbname') or info.get('user') or ''}"


def _line(exc: BaseException) -> str:
    """The first line of ``exc``: psycopg's messages go on with hints."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def connect(dsn: str) -> Conn:
    """A connection with this project's timeouts; raises StoreError in one line.

    Autocommit, with every transaction explicit (``Connection.transaction``):
    a lone read is then one round trip, not BEGIN, the read and COMMIT
    (measured on the loop's connection: 0.9 ms a lookup against 0.3 ms), and
    no read ever leaves a transaction open behind it."""
    try:
        return psycopg.connect(
            dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
            options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        )
    except psycopg.Error as exc:
        raise StoreError(f"cannot open the database {where(dsn)}: {_line(exc)}") from None


def _file(row: Sequence[Any]) -> FileAvailable:
    seq, ts, sender, recipient, _, _, fid, name, size, digest = row
    return FileAvailable(seq, ts, fid, sender, recipient, name, size, bytes(digest))


class PgStore:
    """The ``ports.Store`` of a cluster node (see the module's docstring)."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._where = where(dsn)
        self._db: Conn | None = connect(dsn)
        try:
            migrate(self._db)
            with self._tx() as db:
                counters = db.execute("SELECT seq, file_id FROM counters").fetchone()
                epoch = db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()
        except SchemaTooNew as exc:
            self.close()
            raise StoreError(f"cannot open the database {self._where}: {exc}") from None
        except psycopg.Error as exc:
            self.close()
            raise StoreError(f"cannot open the database {self._where}: {_line(exc)}") from None
        assert counters is not None and epoch is not None
        self.last_seq: int = int(counters[0])
        self.last_file_id: int = int(counters[1])
        self.epoch: int = int(epoch[0])
        self._searcher = PgSearcher(lambda: connect(dsn))
        #: Told every control entry this store committed (set by the cluster hub).
        self.on_control: Callable[[StreamEntry], None] | None = None

    def close(self) -> None:
        with contextlib.suppress(AttributeError):
            self._searcher.close()
        if self._db is not None:
            self._db.close()
            self._db = None

    @contextlib.contextmanager
    def _use(self) -> Iterator[Conn]:
        """The loop's connection, opened again if it broke; a statement on it
        outside ``_tx`` is a transaction of its own (one round trip)."""
        db = self._db
        if db is None or db.closed or db.broken:
            if db is not None:
                db.close()
            self._db = db = connect(self._dsn)
        try:
            yield db
        except psycopg.Error:
            if db.closed or db.broken:
                db.close()
                self._db = None  # the next call connects again
            raise

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Conn]:
        """One transaction on the loop's connection: committed when the block
        ends, rolled back (raising) when it fails."""
        with self._use() as db, db.transaction():
            yield db

    def _control(self, db: Conn, kind: ControlKind, data: dict[str, Any]) -> StreamEntry:
        row = db.execute(_TAKE, (0, 0)).fetchone()
        assert row is not None
        db.execute("INSERT INTO stream_log (id, kind, data) VALUES (%s, %s, %s)",
                   (row[0], kind, json.dumps(data)))
        return StreamEntry(int(row[0]), kind, data=data)

    def _counter_seq(self, db: Conn) -> int:
        """The newest seq any node committed, read under the counter's lock."""
        row = db.execute("SELECT seq FROM counters WHERE id = 1 FOR UPDATE").fetchone()
        assert row is not None
        return int(row[0])

    def _told(self, entry: StreamEntry) -> None:
        if self.on_control is not None:
            self.on_control(entry)

    # -- accounts ------------------------------------------------------------

    def account_names(self) -> list[str]:
        with self._use() as db:
            rows = db.execute("SELECT name FROM accounts ORDER BY created_ms, ord").fetchall()
        return [str(name) for (name,) in rows]

    def account(self, name: str) -> Account | None:
        with self._use() as db:
            row = db.execute("SELECT password_hash, created_seq FROM accounts WHERE name = %s",
                             (name,)).fetchone()
        return None if row is None else Account(name, row[0], int(row[1]))

    def create_account(self, account: Account, created_ms: int) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO accounts (name, password_hash, created_seq, created_ms, skeleton)"
                " VALUES (%s, %s, %s, %s, %s)",
                (account.name, account.password_hash, account.created_seq, created_ms,
                 username_skeleton(account.name)))
            entry = self._control(db, "account", {"name": account.name,
                                                  "created_seq": account.created_seq})
        self._told(entry)

    # -- resume tokens ---------------------------------------------------------

    def resume_token(self, digest: bytes) -> StoredResumeToken | None:
        with self._use() as db:
            row = db.execute("SELECT account, issued_ms FROM resume_tokens WHERE digest = %s",
                             (digest,)).fetchone()
        return None if row is None else StoredResumeToken(row[0], int(row[1]))

    def add_resume_token(
        self, account: str, digest: bytes, issued_ms: int, *, replacing: bytes | None,
        keep: int,
    ) -> None:
        with self._tx() as db:
            if replacing is not None:
                db.execute("DELETE FROM resume_tokens WHERE digest = %s", (replacing,))
            db.execute("INSERT INTO resume_tokens (digest, account, issued_ms)"
                       " VALUES (%s, %s, %s)", (digest, account, issued_ms))
            db.execute(
                "DELETE FROM resume_tokens WHERE account = %s AND id NOT IN ("
                " SELECT id FROM resume_tokens WHERE account = %s ORDER BY id DESC LIMIT %s)",
                (account, account, keep))

    def revoke_resume_tokens(self, account: str) -> None:
        with self._use() as db:
            db.execute("DELETE FROM resume_tokens WHERE account = %s", (account,))

    def drop_resume_tokens(self, issued_before_ms: int) -> int:
        with self._use() as db:
            cursor = db.execute("DELETE FROM resume_tokens WHERE issued_ms < %s",
                                (sql_u64(issued_before_ms, lossless=False),))
            return cursor.rowcount

    # -- history and the stream ---------------------------------------------------

    def commit(
        self, chat_rows: Sequence[ChatRow], files: Sequence[tuple[FileAvailable, str]]
    ) -> None:
        self.commit_entries(chat_rows, files)

    def commit_entries(
        self, rows: Sequence[ChatRow], files: Sequence[tuple[FileAvailable, str]]
    ) -> StreamEntry:
        """Number and store one batch under the counter's lock, with its
        ``stream_log`` row: all of it or, raising, none. The rows' seqs and
        the files' seqs and ids are provisional and renumbered here (rows
        first, then files, as ``hub.flush`` numbers them)."""
        with self._use() as db:
            stream_id, base, file_base = commit_batch(db, rows, files)
        numbered = [(base + 1 + i, *row[1:]) for i, row in enumerate(rows)]
        announced = [attrs.evolve(f, seq=base + 1 + len(rows) + i, file_id=file_base + 1 + i)
                     for i, (f, _) in enumerate(files)]
        return StreamEntry(stream_id, "entries", rows=tuple(numbered), files=tuple(announced))

    def stream_head(self) -> int:
        """The newest committed stream id (0 before the first)."""
        with self._use() as db:
            row = db.execute("SELECT stream FROM counters").fetchone()
        assert row is not None
        return int(row[0])

    def stream_since(self, after_id: int, limit: int = 1000) -> list[StreamEntry]:
        """The committed entries after ``after_id``, in id order, at most ``limit``."""
        with self._tx() as db:
            logged = db.execute(
                "SELECT id, kind, first_seq, last_seq, data FROM stream_log WHERE id > %s"
                " ORDER BY id LIMIT %s", (sql_u64(after_id, lossless=False),
                                          max(0, min(limit, 100_000)))).fetchall()
            batches = [(first, last) for _, kind, first, last, _ in logged
                       if kind == "entries" and first <= last]
            history = [] if not batches else db.execute(
                _RANGE, (batches[0][0], batches[-1][1])).fetchall()
        by_seq = {int(row[0]): row for row in history}
        entries: list[StreamEntry] = []
        for stream_id, kind, first, last, data in logged:
            if kind != "entries":
                entries.append(StreamEntry(int(stream_id), kind, data=dict(data or {})))
                continue
            chats: list[ChatRow] = []
            files: list[FileAvailable] = []
            for seq in range(int(first), int(last) + 1):
                row = by_seq[seq]
                if row[6] is None:
                    chats.append((int(row[0]), int(row[1]), row[2], row[3],
                                  u64_from_sql(int(row[4])), row[5]))
                else:
                    files.append(_file(row))
            entries.append(StreamEntry(int(stream_id), "entries", rows=tuple(chats),
                                       files=tuple(files)))
        return entries

    def history_for(
        self, user: str, after_seq: int, up_to_seq: int, limit: int, *, rooms: bool = True
    ) -> list[ChatMessage | FileAvailable]:
        params = {"after": sql_u64(after_seq, lossless=False),
                  "up_to": sql_u64(up_to_seq, lossless=False), "user": user,
                  "limit": sql_u64(limit, lossless=False)}
        with self._use() as db:
            rows = db.execute(_HISTORY_FOR if rooms else _HISTORY_FOR_NO_ROOMS,
                              params).fetchall()
        entries: list[ChatMessage | FileAvailable] = []
        for row in rows:
            seq, ts, sender, recipient, client_id, text = row[:6]
            if row[6] is None:
                entries.append(ChatMessage(seq, ts, u64_from_sql(client_id), sender,
                                           recipient, text))
            else:
                entries.append(_file(row))
        return entries

    # -- rooms ---------------------------------------------------------------------

    def rooms(self) -> list[StoredRoom]:
        with self._use() as db:
            rows = db.execute("SELECT name, private, creator, created_seq FROM rooms"
                              " ORDER BY created_seq, name").fetchall()
        return [StoredRoom(name, bool(private), creator, int(seq))
                for name, private, creator, seq in rows]

    def room_members(self) -> list[tuple[str, str, int]]:
        with self._use() as db:
            rows = db.execute("SELECT room, account, joined_seq FROM room_members").fetchall()
        return [(str(room), str(account), int(seq)) for room, account, seq in rows]

    def create_room(self, room: StoredRoom, created_ms: int) -> None:
        with self._tx() as db:
            # A lagging node must not let the creator see what came before.
            created_seq = max(room.created_seq, self._counter_seq(db))
            db.execute(
                "INSERT INTO rooms (name, skeleton, private, creator, created_seq, created_ms)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (room.name, username_skeleton(room.name), room.private, room.creator,
                 created_seq, created_ms))
            if room.creator is not None:
                db.execute("INSERT INTO room_members (room, account, joined_seq)"
                           " VALUES (%s, %s, %s)", (room.name, room.creator, created_seq))
            entry = self._control(db, "room_created", {
                "name": room.name, "private": room.private, "creator": room.creator,
                "created_seq": created_seq})
        self._told(entry)

    def add_room_member(self, room: str, account: str, joined_seq: int) -> None:
        with self._tx() as db:
            joined_seq = max(joined_seq, self._counter_seq(db))
            db.execute("INSERT INTO room_members (room, account, joined_seq)"
                       " VALUES (%s, %s, %s)", (room, account, joined_seq))
            entry = self._control(db, "member_added", {"room": room, "account": account,
                                                       "joined_seq": joined_seq})
        self._told(entry)

    def remove_room_member(self, room: str, account: str, *, drop_room: bool) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM room_members WHERE room = %s AND account = %s",
                       (room, account))
            if drop_room:
                db.execute("DELETE FROM rooms WHERE name = %s", (room,))
            entry = self._control(db, "member_removed", {"room": room, "account": account,
                                                         "drop_room": drop_room})
        self._told(entry)

    # -- search and files -------------------------------------------------------------

    def search(
        self, user: str, query: str, *, room: str | None, sender: str | None,
        before_seq: int, limit: int,
    ) -> tuple[list[SearchRow], bool]:
        """As ``SqliteStore.search``; safe from a worker thread (its own connection)."""
        return self._searcher.search(user, query, room=room, sender=sender,
                                     before_seq=before_seq, limit=limit)

    def file(self, file_id: int) -> StoredFile | None:
        if not in_sql_range(file_id):
            return None
        with self._use() as db:
            row = db.execute(
                "SELECT f.id, f.name, f.size, f.sha256, f.stored_name, f.sender, f.recipient,"
                " coalesce(h.seq, 0) FROM files f LEFT JOIN history h ON h.file_id = f.id"
                " WHERE f.id = %s", (file_id,)).fetchone()
        if row is None:
            return None
        fid, name, size, digest, stored_name, sender, recipient, seq = row
        return StoredFile(int(fid), name, int(size), bytes(digest), stored_name, sender,
                          recipient, int(seq))

    def stored_names(self) -> Iterable[str]:
        with self._use() as db:
            return [str(name) for (name,) in db.execute("SELECT stored_name FROM files")]

    # -- administration (account_watch.py) --

    def data_version(self) -> int:
        """Changes whenever the shared state did: the stream's head."""
        return self.stream_head()

    def disabled_accounts(self) -> set[str]:
        with self._use() as db:
            return {str(name) for (name,) in
                    db.execute("SELECT name FROM accounts WHERE disabled")}

    def reserved_names(self) -> dict[str, int | None]:
        with self._use() as db:
            return {str(s): None if u is None else int(u) for s, u in
                    db.execute("SELECT skeleton, until_ms FROM reserved_names")}
