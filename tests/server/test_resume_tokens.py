"""Resume tokens in the server: real ``chat-server`` processes restarted under real
clients, tokens stored only hashed and never logged, rotation, eviction, the schema
migration from version 2.

Whether scrypt ran is read from the server's DEBUG log (one ``scrypt`` line per
password hashed or checked), never from timings."""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
from pathlib import Path

import pytest

from chatproto import ChatMessage, Login, LoginAccepted, LoginRejected, SendChat
from chatproto.limits import RESUME_TOKEN_BYTES
from chatserver import sqlite_store
from chatserver.accounts import hash_password
from chatserver.app import DATABASE_NAME
from chatserver.ports import Account
from chatserver.resume_tokens import TOKENS_PER_ACCOUNT, ResumeTokens, token_digest
from chatserver.sqlite_store import SqliteStore
from support import RawClient, ServerProcess, server_process, wait_until

DEBUG = ("--log-level", "DEBUG")
SCRYPT = re.compile(r": scrypt \(")


def login(server: ServerProcess, name: str, password: str = "secret",
          token: bytes = b"", last_seen_seq: int = 0) -> tuple[RawClient, LoginAccepted]:
    client = RawClient(server.address)
    client.hello()
    client.send(Login(name, password, last_seen_seq, 0, token))
    reply = client.wait_for((LoginAccepted, LoginRejected))
    assert isinstance(reply, LoginAccepted), reply
    return client, reply


def refused(server: ServerProcess, name: str, token: bytes) -> LoginRejected:
    with RawClient(server.address) as client:
        client.hello()
        client.send(Login(name, "", 0, 0, token))
        reply = client.wait_for((LoginAccepted, LoginRejected))
        assert isinstance(reply, LoginRejected), reply
        return reply


def scrypt_runs(server: ServerProcess) -> int:
    """scrypt runs in the log so far (call once the logins counted were logged)."""
    return sum(1 for line in server.output().splitlines() if SCRYPT.search(line))


def test_a_restarted_server_takes_everyone_back_by_token_without_scrypt(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    names = ["alice", "bob", "개구리"]
    with server_process(data, *DEBUG) as first:
        clients = {name: login(first, name) for name in names}
        alice, _ = clients["alice"]
        alice.send(SendChat("before the restart", client_id=1))
        seq = alice.wait_for(ChatMessage).seq
        for name in names:
            first.wait_for_line(rf"{name} joined")
        assert scrypt_runs(first) == len(names)  # one hash per new account
        tokens = {name: accepted.resume_token for name, (_, accepted) in clients.items()}
    first_log = first.output()
    for client, _ in clients.values():  # the restart broke every connection
        client.wait_closed()
        client.close()
    assert all(len(token) == RESUME_TOKEN_BYTES for token in tokens.values())

    with server_process(data, *DEBUG) as second:
        back = {name: login(second, name, "", tokens[name], seq - 1) for name in names}
        for name, (client, accepted) in back.items():
            second.wait_for_line(rf"{name} logs in by resume token from 127\.0\.0\.1")
            assert not accepted.new_account
            assert accepted.resume_token not in (b"", tokens[name])  # rotated
            replayed = client.wait_for(ChatMessage)  # and replayed
            assert (replayed.seq, replayed.text) == (seq, "before the restart")
        second.wait_for_line(r"개구리 joined")
        assert scrypt_runs(second) == 0
        new_tokens = [accepted.resume_token for _, accepted in back.values()]
        for client, _ in back.values():
            client.goodbye()
        # A used token is gone: refused, and the refusal is logged without it.
        second.wait_for_line(r"alice left")
        assert refused(second, "alice", tokens["alice"]).reason == "bad-resume-token"
        second.wait_for_line(r"login refused for alice from .*: bad-resume-token")
    logs = first_log + second.output()
    for token in [*tokens.values(), *new_tokens]:
        assert token.hex() not in logs
        assert repr(token)[2:-1] not in logs
        assert token_digest(token).hex() not in logs


def test_an_expired_or_forged_token_is_refused_and_the_password_still_works(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with server_process(data) as server:
        client, accepted = login(server, "alice")
        client.goodbye()
        assert refused(server, "alice", secrets.token_bytes(32)).reason == "bad-resume-token"
    # Restarted with a lifetime the token has outlived (set by the environment).
    with server_process(data, env={"CHAT_SERVER_RESUME_TOKEN_LIFETIME": "0.001"}) as server:
        assert refused(server, "alice", accepted.resume_token).reason == "bad-resume-token"
        client, by_password = login(server, "alice")
        assert by_password.resume_token  # still issued, good for a millisecond
        client.goodbye()
    with server_process(data, "--resume-token-lifetime", "0") as server:
        client, by_password = login(server, "alice")
        assert by_password.resume_token == b""  # tokens off: none issued
        client.goodbye()


def test_the_same_connection_may_try_the_password_after_a_refused_token(
    tmp_path: Path,
) -> None:
    with server_process(tmp_path / "data", *DEBUG) as server:
        login(server, "alice")[0].goodbye()
        with RawClient(server.address) as client:
            client.hello()
            client.send(Login("alice", "", 0, 0, secrets.token_bytes(32)))
            assert client.wait_for(LoginRejected).reason == "bad-resume-token"
            client.send(Login("alice", "secret"))
            assert client.wait_for(LoginAccepted).resume_token
        # The registration and the password Login; the refused token cost none.
        wait_until(lambda: server.output().count("alice joined") == 2, what="two joins")
        assert scrypt_runs(server) == 2


# -- the store ------------------------------------------------------------------------


def _store(tmp_path: Path, *names: str) -> SqliteStore:
    store = SqliteStore(tmp_path / DATABASE_NAME)
    for name in names:
        store.create_account(Account(name, "scrypt$x", 0), 0)
    return store


def test_only_the_hash_of_a_token_is_stored(tmp_path: Path) -> None:
    store = _store(tmp_path, "alice")
    token = ResumeTokens(store, 60.0).issue("alice")
    store.close()
    db = sqlite3.connect(tmp_path / DATABASE_NAME)
    rows = db.execute("SELECT digest, account FROM resume_tokens").fetchall()
    assert rows == [(hashlib.sha256(token).digest(), "alice")]
    assert token not in (tmp_path / DATABASE_NAME).read_bytes()


def test_tokens_rotate_are_bounded_per_account_and_bound_to_it(tmp_path: Path) -> None:
    store = _store(tmp_path, "alice", "bob")
    tokens = ResumeTokens(store, 60.0)
    issued = [tokens.issue("alice") for _ in range(TOKENS_PER_ACCOUNT + 1)]
    bobs = tokens.issue("bob")
    # The oldest of alice's was evicted by the newest; bob's are his own.
    assert tokens.account_of(issued[0]) is None
    assert [tokens.account_of(t) for t in issued[1:]] == ["alice"] * TOKENS_PER_ACCOUNT
    assert tokens.account_of(bobs) == "bob"
    # Using one replaces it.
    rotated = tokens.issue("alice", replacing=issued[1])
    assert tokens.account_of(issued[1]) is None and tokens.account_of(rotated) == "alice"
    # What a password change must do.
    store.revoke_resume_tokens("alice")
    assert all(tokens.account_of(t) is None for t in [*issued, rotated])
    assert tokens.account_of(bobs) == "bob"
    assert tokens.account_of(b"") is None and tokens.account_of(bobs[:-1]) is None


def test_tokens_expire_and_are_purged_at_start(tmp_path: Path) -> None:
    store = _store(tmp_path, "alice")
    token = ResumeTokens(store, 3600.0).issue("alice")
    store.add_resume_token("alice", token_digest(b"x" * 32), 0, replacing=None, keep=8)
    assert ResumeTokens(store, 3600.0).account_of(token) == "alice"
    # The one from 1970 went at start; a lifetime of 0 refuses (and drops) all of them.
    assert store.resume_token(token_digest(b"x" * 32)) is None
    off = ResumeTokens(store, 0)
    assert not off.enabled and off.account_of(token) is None and off.issue("alice") == b""
    assert store.resume_token(token_digest(token)) is None


# -- the schema migration ---------------------------------------------------------------


def _version_2_database(path: Path) -> None:
    """A database as schema version 2 made it: an account with its password, a line of
    history, the epoch; no resume tokens."""
    db = sqlite3.connect(path)
    db.executescript(sqlite_store._VERSION_1 + sqlite_store._VERSION_2)
    db.execute("INSERT INTO meta (key, value) VALUES ('epoch', 1234)")
    db.execute("INSERT INTO accounts (name, password_hash, created_seq, created_ms, skeleton)"
               " VALUES ('frog', ?, 0, 0, 'frog')", (hash_password("secret", 2**10),))
    db.execute("INSERT INTO history (seq, timestamp_ms, sender, recipient, client_id, text)"
               " VALUES (1, 0, 'frog', NULL, 7, 'kept')")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()


def test_a_version_2_database_gets_resume_tokens_and_keeps_the_rest(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    _version_2_database(data / DATABASE_NAME)
    with server_process(data) as server:
        client, accepted = login(server, "frog")
        assert (accepted.epoch, accepted.last_seq, accepted.new_account) == (1234, 1, False)
        assert client.wait_for(ChatMessage).text == "kept"
        client.goodbye()
        again, by_token = login(server, "frog", "", accepted.resume_token)
        assert by_token.resume_token and again.wait_for(ChatMessage).text == "kept"
        again.goodbye()
    db = sqlite3.connect(data / DATABASE_NAME)
    assert db.execute("PRAGMA user_version").fetchone() == (sqlite_store.SCHEMA_VERSION,)
    assert db.execute("SELECT count(*) FROM resume_tokens").fetchone() == (1,)


@pytest.mark.parametrize("version", [5, 99])
def test_a_database_from_a_newer_schema_is_refused(tmp_path: Path, version: int) -> None:
    path = tmp_path / DATABASE_NAME
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {version}")
    db.close()
    with pytest.raises(sqlite_store.StoreError, match=f"version {version}"):
        SqliteStore(path)
