"""SQLite persistence: accounts, the message history and file metadata
(``ports.Store``).

One connection, used only from the event loop's thread. WAL with
``synchronous=NORMAL``: a commit survives the process being killed (the WAL
is in the OS cache), and a batch of messages costs one commit. The WAL goes
back into the database on a thread of its own (``checkpoints.py``), so no
commit waits for the disk. The schema, and how an older database comes up
to date, are ``sqlite_schema.py``'s.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from chatproto import ChatMessage, FileAvailable, username_skeleton

from .checkpoints import BACKSTOP_PAGES, Checkpointer
from .ports import Account, ChatRow, StoredFile, StoredResumeToken, StoredRoom
from .search import Searcher, SearchRow
from .search_text import index_body
from .sql_common import SQL_MAX as _SQL_MAX

# ``X as X``: re-exported, since others import them from here (``admin_store``,
# ``cluster/``; the tests build old databases from the versions' SQL).
from .sql_common import StoreError as StoreError
from .sql_common import in_sql_range as in_sql_range
from .sql_common import sql_u64 as sql_u64
from .sql_common import u64_from_sql as u64_from_sql
from .sqlite_schema import _VERSION_1 as _VERSION_1
from .sqlite_schema import _VERSION_2 as _VERSION_2
from .sqlite_schema import SCHEMA_VERSION as SCHEMA_VERSION
from .sqlite_schema import migrate

#: What ``history_for`` returns (docs/protocol.md, replay): ``general``, the
#: user's direct messages (to them, or from them to a user: a recipient that
#: is not a ``#room``), and the rooms they are in now, after the seq at which
#: they joined. Bound: after, up to, user, limit.
_HISTORY_SELECT = (
    "SELECT h.seq, h.timestamp_ms, h.sender, h.recipient, h.client_id, h.text,"
    " f.id, f.name, f.size, f.sha256"
    " FROM history h LEFT JOIN files f ON f.id = h.file_id"
    " WHERE h.seq > ?1 AND h.seq <= ?2 AND ({visible})"
    " ORDER BY h.seq LIMIT ?4"
)
_DIRECT = "h.recipient IS NULL OR h.recipient = ?3 OR (h.sender = ?3 AND h.recipient NOT LIKE '#%')"
_HISTORY_FOR = _HISTORY_SELECT.format(visible=(
    _DIRECT + " OR (h.recipient LIKE '#%' AND EXISTS (SELECT 1 FROM room_members m"
    " WHERE m.room = substr(h.recipient, 2) AND m.account = ?3 AND h.seq > m.joined_seq))"
))
_HISTORY_FOR_NO_ROOMS = _HISTORY_SELECT.format(visible=_DIRECT)


class SqliteStore:
    """The ``ports.Store`` of one server: a file in its data dir."""

    def __init__(self, path: Path) -> None:
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
            migrate(self._db)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database {path}: {exc}") from None
        self._checkpointer = Checkpointer(path)
        self._searcher = Searcher(path)
        self.last_seq: int = self._scalar("SELECT coalesce(max(seq), 0) FROM history")
        self.last_file_id: int = self._scalar("SELECT coalesce(max(id), 0) FROM files")
        #: This history's identity, made with the database: a client whose
        #: seq belongs to another epoch (a reset or replaced data folder) is
        #: replayed everything instead of nothing.
        self.epoch: int = self._scalar("SELECT value FROM meta WHERE key = 'epoch'")

    def _scalar(self, sql: str) -> int:
        row = self._db.execute(sql).fetchone()
        return int(row[0])

    def close(self) -> None:
        self._searcher.close()
        self._checkpointer.close()
        self._db.close()

    # -- accounts ------------------------------------------------------------

    def account_names(self) -> list[str]:
        """Every account's name, oldest first."""
        rows = self._db.execute("SELECT name FROM accounts ORDER BY created_ms, rowid")
        return [name for (name,) in rows]

    def account(self, name: str) -> Account | None:
        row = self._db.execute(
            "SELECT password_hash, created_seq FROM accounts WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else Account(name, row[0], row[1])

    def create_account(self, account: Account, created_ms: int) -> None:
        self._db.execute(
            "INSERT INTO accounts (name, password_hash, created_seq, created_ms, skeleton) "
            "VALUES (?, ?, ?, ?, ?)",
            (account.name, account.password_hash, account.created_seq, created_ms,
             username_skeleton(account.name)),
        )
        self._checkpointer.wrote()

    # -- resume tokens ---------------------------------------------------------

    def resume_token(self, digest: bytes) -> StoredResumeToken | None:
        row = self._db.execute(
            "SELECT account, issued_ms FROM resume_tokens WHERE digest = ?", (digest,)
        ).fetchone()
        return None if row is None else StoredResumeToken(row[0], row[1])

    def add_resume_token(
        self, account: str, digest: bytes, issued_ms: int, *, replacing: bytes | None,
        keep: int,
    ) -> None:
        with self._transaction() as db:
            if replacing is not None:
                db.execute("DELETE FROM resume_tokens WHERE digest = ?", (replacing,))
            db.execute(
                "INSERT INTO resume_tokens (digest, account, issued_ms) VALUES (?, ?, ?)",
                (digest, account, issued_ms),
            )
            # One token per client the user logs in from; the oldest go first.
            db.execute(
                "DELETE FROM resume_tokens WHERE account = ? AND id NOT IN ("
                " SELECT id FROM resume_tokens WHERE account = ? ORDER BY id DESC LIMIT ?)",
                (account, account, keep),
            )

    def revoke_resume_tokens(self, account: str) -> None:
        self._db.execute("DELETE FROM resume_tokens WHERE account = ?", (account,))
        self._checkpointer.wrote()

    def drop_resume_tokens(self, issued_before_ms: int) -> int:
        cursor = self._db.execute(
            "DELETE FROM resume_tokens WHERE issued_ms < ?", (issued_before_ms,)
        )
        self._checkpointer.wrote()
        return cursor.rowcount

    # -- history ---------------------------------------------------------------

    def commit(
        self, chat_rows: Sequence[ChatRow], files: Sequence[tuple[FileAvailable, str]]
    ) -> None:
        """Store a batch of chat rows and file announcements in one transaction:
        all of it, or (raising whatever went wrong) none of it.

        Sequence numbers and file ids were assigned by the caller (in order)."""
        db = self._db
        if any(row[4] > _SQL_MAX for row in chat_rows):  # client ids: u64
            chat_rows = [(*row[:4], sql_u64(row[4]), row[5]) for row in chat_rows]
        with self._transaction():
            if chat_rows:
                db.executemany(
                    "INSERT INTO history (seq, timestamp_ms, sender, recipient, client_id, text)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    chat_rows,
                )
                # The index moves with the history, in the same transaction.
                db.executemany(
                    "INSERT INTO history_fts (rowid, body) VALUES (?, ?)",
                    [(row[0], index_body(row[5], row[2], row[3])) for row in chat_rows],
                )
            for announcement, stored_name in files:
                self._insert_file(announcement, stored_name)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction: committed (and the WAL's checkpointer told) when
        the block ends, rolled back (raising whatever went wrong) when it fails."""
        db = self._db
        if db.in_transaction:  # an earlier failure's, left open: never join it
            db.execute("ROLLBACK")
        db.execute("BEGIN")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            # SQLite may have rolled back already (a full disk); the error
            # that brought us here is the one to raise.
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            raise
        self._checkpointer.wrote()

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
        self, user: str, after_seq: int, up_to_seq: int, limit: int, *, rooms: bool = True
    ) -> list[ChatMessage | FileAvailable]:
        """Entries ``user`` may see with ``after_seq < seq <= up_to_seq``, in
        order: ``general``, their direct messages and (``rooms``) the rooms
        they are in now, from the seq at which they joined."""
        rows = self._db.execute(
            _HISTORY_FOR if rooms else _HISTORY_FOR_NO_ROOMS,
            (
                sql_u64(after_seq, lossless=False), sql_u64(up_to_seq, lossless=False),
                user, sql_u64(limit, lossless=False),
            ),
        )
        entries: list[ChatMessage | FileAvailable] = []
        for seq, ts, sender, recipient, client_id, text, fid, name, size, digest in rows:
            if fid is None:
                entries.append(
                    ChatMessage(seq, ts, u64_from_sql(client_id), sender, recipient, text)
                )
            else:
                entries.append(
                    FileAvailable(seq, ts, fid, sender, recipient, name, size, bytes(digest))
                )
        return entries

    # -- rooms (rooms.py) -----------------------------------------------------------

    def rooms(self) -> list[StoredRoom]:
        rows = self._db.execute(
            "SELECT name, private, creator, created_seq FROM rooms ORDER BY created_seq, name"
        )
        return [StoredRoom(name, bool(private), creator, seq) for name, private, creator, seq
                in rows]

    def room_members(self) -> list[tuple[str, str, int]]:
        rows = self._db.execute("SELECT room, account, joined_seq FROM room_members")
        return [(room, account, int(seq)) for room, account, seq in rows]

    def create_room(self, room: StoredRoom, created_ms: int) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO rooms (name, skeleton, private, creator, created_seq, created_ms)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (room.name, username_skeleton(room.name), int(room.private), room.creator,
                 room.created_seq, created_ms),
            )
            if room.creator is not None:
                db.execute(
                    "INSERT INTO room_members (room, account, joined_seq) VALUES (?, ?, ?)",
                    (room.name, room.creator, room.created_seq),
                )

    def add_room_member(self, room: str, account: str, joined_seq: int) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO room_members (room, account, joined_seq) VALUES (?, ?, ?)",
                (room, account, joined_seq),
            )

    def remove_room_member(self, room: str, account: str, *, drop_room: bool) -> None:
        with self._transaction() as db:
            db.execute(
                "DELETE FROM room_members WHERE room = ? AND account = ?", (room, account)
            )
            if drop_room:
                db.execute("DELETE FROM rooms WHERE name = ?", (room,))

    # -- search (search.py) -------------------------------------------------------

    def search(
        self, user: str, query: str, *, room: str | None, sender: str | None,
        before_seq: int, limit: int,
    ) -> tuple[list[SearchRow], bool]:
        """The newest chat messages ``user`` may see that match ``query``
        (``search.Searcher``), and whether older ones match too. Safe to call
        from a worker thread: it reads on a connection of its own."""
        return self._searcher.search(
            user, query, room=room, sender=sender, before_seq=before_seq, limit=limit
        )

    # -- files -------------------------------------------------------------------

    def file(self, file_id: int) -> StoredFile | None:
        if not in_sql_range(file_id):  # a peer's u64: no stored id is that large
            return None
        row = self._db.execute(
            "SELECT f.id, f.name, f.size, f.sha256, f.stored_name, f.sender, f.recipient,"
            " coalesce(h.seq, 0) FROM files f LEFT JOIN history h ON h.file_id = f.id"
            " WHERE f.id = ?",
            (file_id,),
        ).fetchone()
        if row is None:
            return None
        fid, name, size, digest, stored_name, sender, recipient, seq = row
        return StoredFile(fid, name, size, bytes(digest), stored_name, sender, recipient, seq)

    def stored_names(self) -> Iterable[str]:
        return [row[0] for row in self._db.execute("SELECT stored_name FROM files")]

    # -- administration (admin.py, account_watch.py) --
    # What ``chat-server admin`` changes from its own connection; the server
    # reads it back here when ``data_version`` says another connection wrote.

    def data_version(self) -> int:
        """Changes when another connection commits (``PRAGMA data_version``):
        one cheap read, no lock, no I/O while nothing changed."""
        return self._scalar("PRAGMA data_version")

    def disabled_accounts(self) -> set[str]:
        return {name for (name,) in self._db.execute("SELECT name FROM accounts WHERE disabled")}

    def reserved_names(self) -> dict[str, int | None]:
        """Held skeletons and until when (milliseconds; None: for good)."""
        return dict(self._db.execute("SELECT skeleton, until_ms FROM reserved_names"))
