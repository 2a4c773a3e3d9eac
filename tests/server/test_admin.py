"""``chat-server admin`` against a real ``chat-server`` process on the same data
dir: every command run as its own process while the server runs, and what
the server's clients see of it (raw protocol clients)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from chatproto import (
    ChatMessage,
    ChatRejected,
    CreateRoom,
    Error,
    ErrorCode,
    Event,
    JoinRoom,
    ListRooms,
    Login,
    LoginAccepted,
    LoginRejected,
    LoginRejectReason,
    RequestDone,
    RoomList,
    SendChat,
    TransientLogin,
)
from support import RawClient, ServerProcess, presence_of, server_command, server_process

DISABLED = LoginRejectReason.DISABLED.value
RESERVED = LoginRejectReason.NAME_RESERVED.value


def admin(data: Path, command: str, *args: str, stdin: str = "",
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """One ``chat-server admin`` command as its own process."""
    return subprocess.run(
        server_command("admin", command, "--data-dir", str(data), *args), input=stdin,
        capture_output=True, text=True, timeout=60, env=dict(os.environ, **(env or {})),
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result
    assert result.stderr == ""
    return result.stdout


def login(server: ServerProcess, name: str, password: str = "secret",
          token: bytes = b"") -> LoginAccepted | LoginRejected:
    """One login on a new connection (left open when it was accepted)."""
    client = RawClient(server.address)
    client.hello()
    client.send(Login(name, password, 0, 0, token))
    reply: Event = client.wait_for((LoginAccepted, LoginRejected))
    assert isinstance(reply, LoginAccepted | LoginRejected)
    if isinstance(reply, LoginRejected):
        client.close()
    return reply


def refused(server: ServerProcess, name: str, password: str = "secret",
            token: bytes = b"", *, transient: bool = False) -> str:
    """The reason a login is refused for (it must be)."""
    with RawClient(server.address) as client:
        client.hello()
        event: Login | TransientLogin = (
            TransientLogin(name, password) if transient else Login(name, password, 0, 0, token)
        )
        client.send(event)
        reply: Event = client.wait_for((LoginAccepted, LoginRejected))
        assert isinstance(reply, LoginRejected), reply
        return reply.reason


def accepted_of(client: RawClient) -> LoginAccepted:
    return next(e for e in client.received if isinstance(e, LoginAccepted))


def ended_by_admin(client: RawClient, code: ErrorCode) -> Error:
    error = client.wait_for(Error, timeout=20)
    assert error.code == code.value, error
    client.wait_closed()
    return error


def test_disable_ends_every_session_at_once_and_enable_lets_the_user_back(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with server_process(data) as server:
        alice = RawClient.login_as(server, "alice")
        token = accepted_of(alice)
        assert token.resume_token
        script = RawClient(server.address)
        script.hello()
        script.send(TransientLogin("alice", "secret"))
        assert isinstance(script.wait_for((LoginAccepted, LoginRejected)), LoginAccepted)
        bob = RawClient.login_as(server, "bob")

        out = ok(admin(data, "disable", "ALICE"))  # any spelling of the name
        assert "alice disabled" in out

        error = ended_by_admin(alice, ErrorCode.ACCOUNT_DISABLED)
        assert "disabled" in error.message
        ended_by_admin(script, ErrorCode.ACCOUNT_DISABLED)
        bob.wait_for(presence_of("alice", "left"))
        assert refused(server, "alice") == DISABLED
        assert refused(server, "alice", transient=True) == DISABLED
        assert refused(server, "alice", "", token.resume_token) == DISABLED
        assert "already" in ok(admin(data, "disable", "alice"))

        assert "alice enabled" in ok(admin(data, "enable", "alice"))
        back = login(server, "alice")
        assert isinstance(back, LoginAccepted) and not back.new_account
        # Disabling revoked the token: the password is what lets them back.
        bob.wait_for(presence_of("alice", "joined"))
        bob.goodbye()
    server_log = server.output()
    assert "alice was disabled by the administrator" in server_log


def test_a_deactivated_user_who_is_disabled_leaves_the_participant_list(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with server_process(data) as server:
        bob = RawClient.login_as(server, "bob")
        alice = RawClient.login_as(server, "alice")
        alice.close()  # no Goodbye: deactivated, still a participant
        bob.wait_for(presence_of("alice", "deactivated"))
        ok(admin(data, "disable", "alice"))
        bob.wait_for(presence_of("alice", "left"), timeout=20)
        bob.goodbye()


def test_reset_password_takes_effect_at_the_next_login_and_revokes_tokens(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    new_password = "correct horse 말 battery"
    with server_process(data) as server:
        alice = RawClient.login_as(server, "alice", "old password")
        accepted = accepted_of(alice)
        bob = RawClient.login_as(server, "bob")

        result = admin(data, "reset-password", "alice", "--password-stdin",
                       stdin=new_password + "\n")
        out = ok(result)
        assert "alice: password changed" in out
        for shown in (result.stdout, result.stderr):
            assert new_password not in shown and "scrypt" not in shown

        # Once the server has seen a later change, alice is still connected:
        # a new password does not end a session.
        ok(admin(data, "disable", "bob"))
        ended_by_admin(bob, ErrorCode.ACCOUNT_DISABLED)
        alice.send(SendChat("still here", client_id=7))
        assert alice.wait_for(ChatMessage).text == "still here"
        alice.goodbye()

        assert refused(server, "alice", "old password") == LoginRejectReason.BAD_PASSWORD.value
        assert refused(server, "alice", "", accepted.resume_token) == (
            LoginRejectReason.BAD_RESUME_TOKEN.value
        )
        assert isinstance(login(server, "alice", new_password), LoginAccepted)
    db_text = (data / "chat.sqlite3").read_bytes()
    assert new_password.encode() not in db_text


def test_reset_password_refuses_empty_too_long_and_missing_passwords(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with server_process(data) as server:
        RawClient.login_as(server, "alice").goodbye()
        for stdin, why in (("\n", "empty"), ("x" * 1025, "too long"),
                           ("가" * 342, "too long")):  # 1026 bytes of UTF-8
            result = admin(data, "reset-password", "alice", "--password-stdin", stdin=stdin)
            assert result.returncode == 2, result
            assert result.stdout == ""
            assert why in result.stderr and len(result.stderr.splitlines()) == 1
        # Without --password-stdin it asks on the terminal; there is none here.
        result = admin(data, "reset-password", "alice", stdin="typed\n")
        assert result.returncode == 2
        assert "--password-stdin" in result.stderr
        assert "Traceback" not in result.stderr
        # 1024 bytes is the protocol's limit: allowed, and it works.
        longest = "가" * 341 + "x"
        ok(admin(data, "reset-password", "alice", "--password-stdin", stdin=longest))
        assert isinstance(login(server, "alice", longest), LoginAccepted)


def test_delete_user_keeps_the_history_under_a_tombstone_and_holds_the_name(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with server_process(data) as server:
        alice = RawClient.login_as(server, "alice")
        bob = RawClient.login_as(server, "bob")
        alice.send(SendChat("hello everyone", client_id=1))
        alice.send(SendChat("psst bob", recipient="bob", client_id=2))
        bob.send(SendChat("psst alice", recipient="alice", client_id=3))
        for text in ("hello everyone", "psst bob", "psst alice"):
            bob.wait_for(_chat(text))

        out = ok(admin(data, "delete-user", "alice", "--deleted-name-hold", "3600"))
        assert "alice deleted" in out and "deleted-1" in out
        ended_by_admin(alice, ErrorCode.ACCOUNT_DELETED)
        bob.wait_for(presence_of("alice", "left"))
        bob.send(SendChat("are you there?", recipient="alice", client_id=4))
        assert bob.wait_for(ChatRejected).reason == "unknown-user"
        bob.goodbye()

        # Another user's replay shows the messages, from the tombstone.
        back = RawClient.login_as(server, "bob")
        seen = {(e.sender, e.recipient, e.text) for e in _replayed(back)}
        assert {("deleted-1", None, "hello everyone"), ("deleted-1", "bob", "psst bob"),
                ("bob", "deleted-1", "psst alice")} <= seen
        assert not any("alice" in (e.sender, e.recipient) for e in _replayed(back))

        # The name (any look-alike too) and the tombstone cannot be registered.
        for name in ("alice", "ALICE", "\uff41\uff4c\uff49\uff43\uff45", "deleted-1"):
            assert refused(server, name) == RESERVED, name
            assert refused(server, name, transient=True) == RESERVED, name
        users = json.loads(ok(admin(data, "list-users", "--json")))
        assert [user["name"] for user in users] == ["bob"]

        # A hold of 0 frees the name at once (a new account, a new tombstone).
        ok(admin(data, "delete-user", "bob", "--deleted-name-hold", "0"))
        back.wait_for(Error, timeout=20)
        again = login(server, "bob", "another")
        assert isinstance(again, LoginAccepted) and again.new_account


def _chat(text: str) -> Callable[[Event], bool]:
    return lambda event: isinstance(event, ChatMessage) and event.text == text


def _replayed(client: RawClient) -> list[ChatMessage]:
    """Chat messages received so far, once the replay of the history has come."""
    client.send(SendChat("marker", client_id=99))
    client.wait_for(_chat("marker"))
    return [e for e in client.received if isinstance(e, ChatMessage)]


def test_list_users_plain_and_json(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with server_process(data) as server:
        for name in ("frog", "개구리", "toad"):
            RawClient.login_as(server, name).goodbye()
        ok(admin(data, "disable", "toad"))
        users = json.loads(ok(admin(data, "list-users", "--json")))
        assert [(u["name"], u["disabled"]) for u in users] == [
            ("frog", False), ("개구리", False), ("toad", True)]
        assert all(isinstance(u["created_ms"], int) and u["created"].endswith("UTC")
                   for u in users)
        lines = ok(admin(data, "list-users")).splitlines()
        assert [line.split()[0] for line in lines] == ["frog", "개구리", "toad"]
        assert lines[2].endswith("disabled") and not lines[0].endswith("disabled")
        # The data dir from the server's own variable.
        env = {"CHAT_SERVER_DATA_DIR": str(data)}
        result = subprocess.run(server_command("admin", "list-users", "--json"),
                                capture_output=True, text=True, timeout=60,
                                env=dict(os.environ, **env))
        assert json.loads(result.stdout) == users


def test_errors_are_one_line_with_their_exit_codes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    missing = tmp_path / "missing"
    result = admin(missing, "list-users")
    assert result.returncode == 4 and "no data dir" in result.stderr
    assert not missing.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in (("list-users",), ("disable", "frog")):
        result = admin(empty, *args)
        assert result.returncode == 4, result
        assert len(result.stderr.splitlines()) == 1 and "no database" in result.stderr
    assert list(empty.iterdir()) == []  # never creates one
    with server_process(data) as server:
        RawClient.login_as(server, "frog").goodbye()
        for command in ("disable", "enable", "delete-user"):
            result = admin(data, command, "nobody")
            assert result.returncode == 3, result
            assert result.stderr.strip() == "chat-server admin: no such user 'nobody'"
        result = admin(data, "reset-password", "nobody", "--password-stdin", stdin="pw\n")
        assert result.returncode == 3
        result = admin(data, "disable")
        assert result.returncode == 2  # click: missing USER
        assert "Traceback" not in result.stderr


def test_a_deleted_user_leaves_their_rooms_in_the_running_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with server_process(data) as server:
        alice = RawClient.login_as(server, "alice")
        bob = RawClient.login_as(server, "bob")
        alice.send(CreateRoom(1, "dev"))
        alice.wait_for(RequestDone)
        alice.send(CreateRoom(2, "den"))  # alice alone: goes with her
        alice.wait_for(RequestDone)
        bob.send(JoinRoom(1, "dev"))
        bob.wait_for(RequestDone)
        alice.send(SendChat("in dev", recipient="#dev", client_id=5))
        bob.wait_for(_chat("in dev"))

        ok(admin(data, "delete-user", "alice"))
        ended_by_admin(alice, ErrorCode.ACCOUNT_DELETED)
        bob.wait_for(presence_of("alice", "left"))
        bob.send(ListRooms(2))
        listing = {room.name: room for room in bob.wait_for(RoomList).rooms}
        assert listing["dev"].member_count == 1 and listing["dev"].member
        assert "den" not in listing
        bob.goodbye()
        # The room's history shows the tombstone.
        back = RawClient.login_as(server, "bob")
        assert ("deleted-1", "#dev", "in dev") in {
            (e.sender, e.recipient, e.text) for e in _replayed(back)}
