"""Look-alike names are one account (issue 11, item 5), through a real chat-server.

``Bob``, ``bob`` and fullwidth ``bob`` (U+FF42 U+FF4F U+FF42) used to be three
accounts and ``bob`` with a Cyrillic o (U+043E) a fourth: anyone could impersonate
anyone. Uniqueness is now decided on ``chatproto.username_skeleton`` (NFKC + case
folding), names that mix scripts confusably are refused, and the name is shown as
registered.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from chatproto import (
    ChatMessage,
    FileAvailable,
    LoginAccepted,
    LoginRejected,
    SendChat,
)
from chatserver.accounts import hash_password
from chatserver.app import DATABASE_NAME
from support import RawClient, presence_of, server_process, upload

FULLWIDTH_BOB = "\uff42\uff4f\uff42"
CYRILLIC_BOB = "b\u043eb"


def _login(server: object, name: str, password: str) -> LoginAccepted | LoginRejected:
    return RawClient(server.address).login(name, password)  # type: ignore[attr-defined]


def test_case_and_width_variants_are_the_same_account(tmp_path: Path) -> None:
    with server_process(tmp_path / "data") as server:
        bob = RawClient.login_as(server, "Bob", "bobs-pw")
        for variant in ("bob", "BOB", FULLWIDTH_BOB):
            refused = _login(server, variant, "bobs-pw")
            assert isinstance(refused, LoginRejected) and refused.reason == "already-active"
        bob.goodbye()
        for variant in ("bob", FULLWIDTH_BOB):
            wrong = _login(server, variant, "another-pw")  # not a new account
            assert isinstance(wrong, LoginRejected) and wrong.reason == "bad-password"
        client = RawClient(server.address)
        accepted = client.login(FULLWIDTH_BOB, "bobs-pw")
        assert isinstance(accepted, LoginAccepted)
        assert accepted.username == "Bob" and not accepted.new_account  # shown as registered
        client.wait_for(presence_of("Bob", "joined"))
        assert client.conn.username == "Bob"


def test_a_name_mixing_scripts_is_refused_and_marks_are_letters(tmp_path: Path) -> None:
    with server_process(tmp_path / "data") as server:
        RawClient.login_as(server, "bob", "pw").goodbye()
        refused = _login(server, CYRILLIC_BOB, "pw")
        assert isinstance(refused, LoginRejected) and refused.reason == "invalid-name"
        hindi = _login(server, "नमस्ते", "pw")  # combining marks after letters
        assert isinstance(hindi, LoginAccepted) and hindi.username == "नमस्ते"
        korean = _login(server, "개구리_2", "pw")
        assert isinstance(korean, LoginAccepted)
        server.wait_for_line(r"login refused for .*: invalid-name")


def test_direct_messages_and_files_find_the_registered_name(tmp_path: Path) -> None:
    with server_process(tmp_path / "data", "--flood-rate", "0") as server:
        bob = RawClient.login_as(server, "Bob", "pw")
        frog = RawClient.login_as(server, "frog", "pw")
        frog.send(SendChat("psst", "BOB", client_id=1))
        mine = frog.wait_for(lambda e: isinstance(e, ChatMessage) and e.client_id == 1)
        theirs = bob.wait_for(ChatMessage)
        assert mine.recipient == theirs.recipient == "Bob" and theirs.text == "psst"
        announced = upload(frog, b"for bob", "note.txt", upload_id=3, recipient=FULLWIDTH_BOB)
        assert isinstance(announced, FileAvailable) and announced.recipient == "Bob"
        assert bob.wait_for(FileAvailable).recipient == "Bob"


def test_accounts_from_before_skeletons_keep_their_exact_names(tmp_path: Path) -> None:
    """A version 1 database may hold Bob and bob: each still logs in as itself, any
    other spelling means the older, and no third spelling can be registered."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    db = sqlite3.connect(data / DATABASE_NAME)
    db.executescript("""
        CREATE TABLE accounts (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL,
            created_seq INTEGER NOT NULL, created_ms INTEGER NOT NULL);
        CREATE TABLE files (id INTEGER PRIMARY KEY, name TEXT NOT NULL, size INTEGER NOT NULL,
            sha256 BLOB NOT NULL, stored_name TEXT NOT NULL, sender TEXT NOT NULL,
            recipient TEXT);
        CREATE TABLE history (seq INTEGER PRIMARY KEY, timestamp_ms INTEGER NOT NULL,
            sender TEXT NOT NULL, recipient TEXT, client_id INTEGER NOT NULL DEFAULT 0,
            text TEXT, file_id INTEGER REFERENCES files(id));
        PRAGMA user_version = 1;
    """)
    db.execute("INSERT INTO accounts VALUES ('Bob', ?, 0, 1)", (hash_password("old", n=16),))
    db.execute("INSERT INTO accounts VALUES ('bob', ?, 0, 2)", (hash_password("new", n=16),))
    db.commit()
    db.close()
    with server_process(data) as server:
        for name, password in (("Bob", "old"), ("bob", "new"), ("BOB", "old")):
            client = RawClient(server.address)
            accepted = client.login(name, password)
            assert isinstance(accepted, LoginAccepted), (name, accepted)
            assert accepted.username == name if name != "BOB" else accepted.username == "Bob"
            client.goodbye()
        assert isinstance(_login(server, FULLWIDTH_BOB, "third"), LoginRejected)
