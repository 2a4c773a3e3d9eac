"""``admin_store.AdminStore`` on a real database made by ``SqliteStore``: what
``delete-user`` leaves in every table, tombstone numbering, name lookup; and
``AccountNames.remove``."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from chatproto import FileAvailable, username_skeleton
from chatserver.accounts import AccountNames
from chatserver.admin_store import AdminStore, AdminStoreError, NoSuchUser
from chatserver.ports import Account
from chatserver.sqlite_store import SqliteStore
from support import server_command

NOW = 1_700_000_000_000


def make_db(path: Path, names: list[str]) -> None:
    store = SqliteStore(path)
    for index, name in enumerate(names):
        store.create_account(Account(name, "scrypt$hash", 0), NOW + index)
    store.commit(
        [(1, NOW, "alice", None, 1, "hi all"), (2, NOW, "alice", "bob", 2, "hi bob"),
         (3, NOW, "bob", "alice", 3, "hi alice"), (4, NOW, "alice", "#dev", 4, "hi dev")],
        [(FileAvailable(5, NOW, 1, "alice", "bob", "a.txt", 1, b"\0" * 32), "stored-1")],
    )
    store.add_resume_token("alice", b"d" * 32, NOW, replacing=None, keep=8)
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO rooms (name, skeleton, private, creator, created_seq, created_ms)"
                   " VALUES ('dev', 'dev', 0, 'alice', 0, ?)", (NOW,))
        db.execute("INSERT INTO rooms (name, skeleton, private, creator, created_seq, created_ms)"
                   " VALUES ('den', 'den', 1, 'alice', 0, ?)", (NOW,))
        db.executemany("INSERT INTO room_members (room, account, joined_seq) VALUES (?, ?, 0)",
                       [("dev", "alice"), ("dev", "bob"), ("den", "alice")])


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return list(db.execute(sql))


def test_delete_leaves_history_to_a_tombstone_and_nothing_of_the_account(
    tmp_path: Path,
) -> None:
    path = tmp_path / "chat.sqlite3"
    make_db(path, ["alice", "bob"])
    with AdminStore(path) as store:
        first = store.delete("alice", NOW, 60_000)
    assert first.tombstone == "deleted-1" and first.held_until_ms == NOW + 60_000
    assert rows(path, "SELECT sender, recipient, text FROM history WHERE text IS NOT NULL"
                      " ORDER BY seq") == [
        ("deleted-1", None, "hi all"), ("deleted-1", "bob", "hi bob"),
        ("bob", "deleted-1", "hi alice"), ("deleted-1", "#dev", "hi dev")]
    assert rows(path, "SELECT sender, recipient FROM files") == [("deleted-1", "bob")]
    assert rows(path, "SELECT sender FROM history WHERE file_id = 1") == [("deleted-1",)]
    assert rows(path, "SELECT name FROM accounts") == [("bob",)]
    assert rows(path, "SELECT * FROM resume_tokens") == []
    assert rows(path, "SELECT account FROM room_members") == [("bob",)]
    # den had alice alone: it went with her; dev keeps bob.
    assert rows(path, "SELECT name, creator FROM rooms") == [("dev", "deleted-1")]
    assert sorted(rows(path, "SELECT skeleton, until_ms FROM reserved_names")) == sorted([
        (username_skeleton("alice"), NOW + 60_000), (username_skeleton("deleted-1"), None)])
    # The next deletion gets the next number; an expired hold is dropped then.
    with AdminStore(path) as store:
        second = store.delete("bob", NOW + 120_000, 0)
    assert second.tombstone == "deleted-2"
    held = {row[0]: row[1] for row in rows(path, "SELECT skeleton, until_ms FROM reserved_names")}
    assert username_skeleton("alice") not in held
    assert held[username_skeleton("deleted-2")] is None


def test_a_tombstone_skips_names_already_taken(tmp_path: Path) -> None:
    path = tmp_path / "chat.sqlite3"
    make_db(path, ["alice", "bob", "Deleted-1"])
    with AdminStore(path) as store:
        assert store.delete("alice", NOW, 0).tombstone == "deleted-2"


def test_find_follows_the_server_spelling_rules(tmp_path: Path) -> None:
    path = tmp_path / "chat.sqlite3"
    make_db(path, ["alice", "bob"])
    with AdminStore(path) as store:
        assert store.find("ALICE") == "alice"
        assert store.find("bob") == "bob"
        with pytest.raises(NoSuchUser):
            store.find("carol")
        assert [u.name for u in store.users()] == ["alice", "bob"]
        assert store.set_disabled("bob", True) and not store.set_disabled("bob", True)
        assert [u.disabled for u in store.users()] == [False, True]


def test_an_unknown_schema_or_no_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AdminStoreError, match="no database"):
        AdminStore(tmp_path / "chat.sqlite3")
    assert not (tmp_path / "chat.sqlite3").exists()
    with sqlite3.connect(tmp_path / "chat.sqlite3") as db:
        db.execute("PRAGMA user_version = 2")
    with pytest.raises(AdminStoreError, match="schema version 2"):
        AdminStore(tmp_path / "chat.sqlite3")
    result = subprocess.run(
        server_command("admin", "list-users", "--data-dir", str(tmp_path)),
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 4 and "schema version 2" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_account_names_remove_hands_the_skeleton_on() -> None:
    names = AccountNames(["Bob", "bob", "alice"])  # an old database's pair
    assert names.registered("BOB") == "Bob"
    names.remove("Bob")
    assert names.registered("BOB") == "bob" and "Bob" not in list(names)
    names.remove("bob")
    assert names.registered("BOB") is None and names.registered("Bob") is None
    names.remove("nobody")  # nothing to do
    assert list(names) == ["alice"]
