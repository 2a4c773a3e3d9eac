"""``PgStore`` on a real PostgreSQL: every Store method, the stream's order
under concurrent commits from two stores, control entries, migrations,
refused and dropped connections."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

from chatproto import ChatMessage, FileAvailable
from chatserver.cluster.entries import StreamEntry
from chatserver.cluster.pg_batch import COPY_FROM
from chatserver.cluster.pg_schema import SCHEMA_VERSION
from chatserver.cluster.pg_store import PgStore
from chatserver.ports import Account, StoredRoom
from chatserver.resume_tokens import TOKENS_PER_ACCOUNT, ResumeTokens, token_digest
from chatserver.sqlite_store import StoreError

from .pg_support import pg_dsn  # noqa: F401  (a fixture)

T0 = 1_700_000_000_000
DIGEST = bytes(range(32))


@pytest.fixture
def store(pg_dsn: str) -> Iterator[PgStore]:  # noqa: F811
    s = PgStore(pg_dsn)
    try:
        yield s
    finally:
        s.close()


def _file(name: str = "a.txt", recipient: str | None = None) -> FileAvailable:
    return FileAvailable(0, T0, 0, "alice", recipient, name, 3, b"\x01" * 32, 7)


def test_a_fresh_store_is_empty_with_an_epoch(store: PgStore) -> None:
    assert (store.last_seq, store.last_file_id, store.stream_head()) == (0, 0, 0)
    assert 1 <= store.epoch < 2**63
    assert store.account_names() == [] and store.rooms() == [] and store.room_members() == []
    assert store.stream_since(0) == [] and list(store.stored_names()) == []
    assert store.file(1) is None and store.file(2**64 - 1) is None


def test_accounts_round_trip_and_are_control_entries(store: PgStore) -> None:
    told: list[StreamEntry] = []
    store.on_control = told.append
    for name in ("bob", "alice", "carol"):
        store.create_account(Account(name, f"hash-{name}", 4), T0)
    assert store.account_names() == ["bob", "alice", "carol"]  # oldest first
    assert store.account("alice") == Account("alice", "hash-alice", 4)
    assert store.account("nobody") is None
    assert [(e.id, e.kind, e.data) for e in told] == [
        (i + 1, "account", {"name": n, "created_seq": 4})
        for i, n in enumerate(("bob", "alice", "carol"))]
    assert store.stream_since(0) == told
    with pytest.raises(psycopg.Error):
        store.create_account(Account("bob", "again", 0), T0)
    assert store.stream_head() == 3  # the failed one took no id
    assert store.disabled_accounts() == set() and store.reserved_names() == {}


def test_commit_entries_renumbers_and_keeps_timestamps(store: PgStore) -> None:
    for name in ("alice", "bob"):
        store.create_account(Account(name, "-", 0), T0)
    entry = store.commit_entries(
        [(0, T0 + 1, "alice", None, 2**64 - 1, "one"), (0, T0 + 2, "bob", "alice", 5, "two")],
        [(_file("a.txt"), "stored-a"), (_file("b.txt", "bob"), "stored-b")])
    assert entry.id == 3 and entry.kind == "entries"
    assert entry.rows == ((1, T0 + 1, "alice", None, 2**64 - 1, "one"),
                          (2, T0 + 2, "bob", "alice", 5, "two"))
    assert [(f.seq, f.file_id, f.name, f.upload_id) for f in entry.files] == [
        (3, 1, "a.txt", 7), (4, 2, "b.txt", 7)]
    assert entry.last_seq == 4
    # The applier moves these, not the commit.
    assert (store.last_seq, store.last_file_id) == (0, 0)
    second = store.commit_entries([(0, T0 + 3, "alice", None, 0, "three")], [])
    assert second.rows[0][0] == 5 and second.id == 4
    history = store.history_for("bob", 0, 100, 100)
    assert history == [
        ChatMessage(1, T0 + 1, 2**64 - 1, "alice", None, "one"),
        ChatMessage(2, T0 + 2, 5, "bob", "alice", "two"),
        FileAvailable(3, T0, 1, "alice", None, "a.txt", 3, b"\x01" * 32),
        FileAvailable(4, T0, 2, "alice", "bob", "b.txt", 3, b"\x01" * 32),
        ChatMessage(5, T0 + 3, 0, "alice", None, "three"),
    ]
    assert store.history_for("bob", 1, 4, 2) == history[1:3]
    assert store.history_for("bob", 0, 2**64 - 1, 2**64 - 1) == history
    stored = store.file(2)
    assert stored is not None and (stored.stored_name, stored.seq, stored.recipient) == (
        "stored-b", 4, "bob")
    assert sorted(store.stored_names()) == ["stored-a", "stored-b"]
    # Rebuilt from the log: what was committed, upload ids aside (no replay has them).
    since = store.stream_since(2)
    assert since[0].rows == entry.rows and since[1] == second
    assert [f.file_id for f in since[0].files] == [1, 2]
    assert all(f.upload_id == 0 for f in since[0].files)
    assert store.stream_since(3, limit=1) == [second] and store.stream_since(4) == []
    reopened = PgStore(store._dsn)
    try:
        assert (reopened.last_seq, reopened.last_file_id, reopened.epoch) == (
            5, 2, store.epoch)
    finally:
        reopened.close()


@pytest.mark.parametrize("count", [COPY_FROM - 1, COPY_FROM, 4096])
def test_large_batches_are_stored_and_indexed(store: PgStore, count: int) -> None:
    # Large batches go through COPY (pg_batch): the same rows, bodies and numbers.
    store.create_account(Account("alice", "-", 0), T0)
    store.commit_entries([(0, T0, "alice", None, 0, "before")], [])
    rows = [(0, T0 + i, "alice", None if i % 2 else "alice", 2**64 - 1 - i, f"큰 배치 {i}")
            for i in range(count)]
    entry = store.commit_entries(rows, [(_file(), "s")])
    assert [r[0] for r in entry.rows] == list(range(2, count + 2))
    assert entry.files[0].seq == count + 2
    assert store.stream_since(2)[0].rows == entry.rows
    found, more = store.search("alice", "배치", room=None, sender="alice", before_seq=0,
                               limit=count)
    assert [r[0] for r in found] == list(range(count + 1, 1, -1)) and not more
    history = store.history_for("alice", 1, 2**63, 10)
    assert [(m.seq, m.client_id) for m in history if isinstance(m, ChatMessage)] == [
        (i + 2, 2**64 - 1 - i) for i in range(min(10, count))]


def test_a_failed_commit_stores_nothing_and_takes_no_id(store: PgStore) -> None:
    store.create_account(Account("alice", "-", 0), T0)
    with psycopg.connect(store._dsn, autocommit=True) as db:  # seq 2 is taken already
        db.execute("INSERT INTO history (seq, timestamp_ms, sender, recipient)"
                   " VALUES (2, 0, 'x', 'y')")
    with pytest.raises(psycopg.IntegrityError):
        store.commit_entries([(0, T0, "alice", None, 0, "x"), (0, T0, "alice", None, 0, "y")],
                             [(_file(), "s")])
    with pytest.raises(psycopg.IntegrityError):  # the same through the COPY path
        store.commit_entries([(0, T0, "alice", None, 0, "x")] * COPY_FROM, [])
    assert store.stream_head() == 1 and store.history_for("alice", 0, 100, 100) == []
    assert store.file(1) is None and list(store.stored_names()) == []
    with psycopg.connect(store._dsn, autocommit=True) as db:
        db.execute("DELETE FROM history WHERE seq = 2")
    entry = store.commit_entries([(0, T0, "alice", None, 0, "z")], [(_file(), "s")])
    assert (entry.id, entry.rows[0][0], entry.files[0].file_id) == (2, 1, 1)
    with pytest.raises(psycopg.Error):  # refused before it reaches the server
        store.commit_entries([(0, T0, "alice", None, 0, "nul \0 byte")], [])
    assert store.stream_head() == 2


def test_rooms_and_members_with_seqs_under_the_counter(store: PgStore) -> None:
    told: list[StreamEntry] = []
    for name in ("alice", "bob"):
        store.create_account(Account(name, "-", 0), T0)
    store.on_control = told.append
    store.commit_entries([(0, T0, "alice", None, 0, f"m{i}") for i in range(5)], [])
    # A lagging node asks for seq 2: the store makes it 5, what was committed.
    store.create_room(StoredRoom("dev", True, "alice", 2), T0)
    store.add_room_member("dev", "bob", 1)
    store.create_room(StoredRoom("ops", False, None, 9), T0)
    assert store.rooms() == [StoredRoom("dev", True, "alice", 5),
                             StoredRoom("ops", False, None, 9)]
    assert sorted(store.room_members()) == [("dev", "alice", 5), ("dev", "bob", 5)]
    store.remove_room_member("dev", "bob", drop_room=False)
    store.remove_room_member("dev", "alice", drop_room=True)
    assert store.rooms() == [StoredRoom("ops", False, None, 9)] and store.room_members() == []
    assert [(e.kind, e.data) for e in told] == [
        ("room_created", {"name": "dev", "private": True, "creator": "alice",
                          "created_seq": 5}),
        ("member_added", {"room": "dev", "account": "bob", "joined_seq": 5}),
        ("room_created", {"name": "ops", "private": False, "creator": None,
                          "created_seq": 9}),
        ("member_removed", {"room": "dev", "account": "bob", "drop_room": False}),
        ("member_removed", {"room": "dev", "account": "alice", "drop_room": True}),
    ]
    assert [e.id for e in told] == list(range(4, 9))
    assert store.stream_since(3) == told


def test_resume_tokens(store: PgStore) -> None:
    for name in ("alice", "bob"):
        store.create_account(Account(name, "-", 0), T0)
    tokens = ResumeTokens(store, 60.0)
    issued = [tokens.issue("alice") for _ in range(TOKENS_PER_ACCOUNT + 1)]
    bobs = tokens.issue("bob")
    assert tokens.account_of(issued[0]) is None
    assert [tokens.account_of(t) for t in issued[1:]] == ["alice"] * TOKENS_PER_ACCOUNT
    rotated = tokens.issue("alice", replacing=issued[1])
    assert tokens.account_of(issued[1]) is None and tokens.account_of(rotated) == "alice"
    store.revoke_resume_tokens("alice")
    assert all(tokens.account_of(t) is None for t in [*issued, rotated])
    assert tokens.account_of(bobs) == "bob"
    store.add_resume_token("bob", DIGEST, 0, replacing=None, keep=8)
    assert store.resume_token(DIGEST) is not None
    assert store.drop_resume_tokens(1) == 1 and store.resume_token(DIGEST) is None
    assert store.resume_token(token_digest(bobs)) is not None
    assert store.drop_resume_tokens(2**64 - 1) == 1


def test_two_stores_committing_at_once_make_one_dense_order(pg_dsn: str) -> None:  # noqa: F811
    stores = [PgStore(pg_dsn), PgStore(pg_dsn)]
    committed: list[list[StreamEntry]] = [[], []]
    try:
        stores[0].create_account(Account("alice", "-", 0), T0)
        start = threading.Barrier(2)

        def commit(index: int) -> None:
            start.wait()
            for i in range(60):
                rows = [(0, T0 + i, "alice", None, index, f"{index}-{i}-{j}")
                        for j in range(i % 4)]
                files = [(_file(f"{index}-{i}"), f"s{index}-{i}")] if i % 5 == 0 else []
                committed[index].append(stores[index].commit_entries(rows, files))

        threads = [threading.Thread(target=commit, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
        everything = sorted(committed[0] + committed[1], key=lambda e: e.id)
        assert [e.id for e in everything] == list(range(2, 122))
        seqs = [seq for e in everything for seq in
                [r[0] for r in e.rows] + [f.seq for f in e.files]]
        assert seqs == list(range(1, len(seqs) + 1))  # commit order is id order, no gap
        file_ids = [f.file_id for e in everything for f in e.files]
        assert file_ids == list(range(1, len(file_ids) + 1))
        since = stores[1].stream_since(1)
        assert [(e.id, e.rows, [(f.seq, f.file_id, f.name) for f in e.files])
                for e in since] == [
            (e.id, e.rows, [(f.seq, f.file_id, f.name) for f in e.files]) for e in everything]
        assert stores[0].stream_head() == 121
    finally:
        for s in stores:
            s.close()


def test_a_refused_connection_is_one_line_without_the_password() -> None:
    with pytest.raises(StoreError) as caught:
        PgStore("postgresql://postgres:hunter2@127.0.0.1:1/nowhere")
    message = str(caught.value)
    assert "\n" not in message and "hunter2" not in message
    assert "127.0.0.1:1/nowhere" in message
    for bad_dsn in ("postgresql://u:hunter2@[bad", "host=x password=hunter2 nokey"):
        with pytest.raises(StoreError) as bad:
            PgStore(bad_dsn)
        assert "\n" not in str(bad.value) and "hunter2" not in str(bad.value), bad.value


def test_the_store_survives_its_connection_being_terminated(store: PgStore) -> None:
    store.create_account(Account("alice", "-", 0), T0)
    assert store._db is not None
    pid = store._db.info.backend_pid
    with psycopg.connect(store._dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(psycopg.OperationalError):
        store.commit_entries([(0, T0, "alice", None, 0, "lost")], [])
    entry = store.commit_entries([(0, T0, "alice", None, 0, "kept")], [])
    assert entry.rows[0][0] == 1
    assert store.account("alice") is not None
    # The search's own connection too.
    store.search("alice", "kept", room=None, sender=None, before_seq=0, limit=5)
    with psycopg.connect(store._dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                      " WHERE datname = current_database() AND pid <> pg_backend_pid()")
    with pytest.raises(psycopg.OperationalError):
        store.search("alice", "kept", room=None, sender=None, before_seq=0, limit=5)
    rows, _ = store.search("alice", "kept", room=None, sender=None, before_seq=0, limit=5)
    assert [r[4] for r in rows] == ["kept"]


def test_migrations_are_idempotent_and_safe_at_once(pg_dsn: str) -> None:  # noqa: F811
    opened: list[PgStore] = []
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def open_one() -> None:
        start.wait()
        try:
            opened.append(PgStore(pg_dsn))
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert failures == [] and len(opened) == 4
        assert len({s.epoch for s in opened}) == 1
        again = PgStore(pg_dsn)
        opened.append(again)
        assert again.epoch == opened[0].epoch
        with psycopg.connect(pg_dsn) as db:
            assert db.execute("SELECT version FROM schema_version").fetchall() == [
                (SCHEMA_VERSION,)]
            db.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION + 1,))
        with pytest.raises(StoreError, match="unknown database schema version"):
            PgStore(pg_dsn)
    finally:
        for s in opened:
            s.close()
