"""Transient logins (docs/protocol.md 7.9) against a real server over real sockets.

Absence is shown by order, never by waiting: the server sends every connection its frames
in the order it makes them, so "no presence of carol" is checked on everything a watcher
received up to a later event that would have come after it (carol's next message, or the
presence of someone who logged in after carol left).
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

from chatproto import (
    ChatMessage,
    ChatRejected,
    Error,
    Event,
    FetchFile,
    FileAvailable,
    Hello,
    LoginAccepted,
    LoginRejected,
    Participant,
    ParticipantState,
    Ping,
    Pong,
    Presence,
    PresenceState,
    SendChat,
    TransientLogin,
    encode_event,
)
from chatproto.limits import DEFAULT_MAX_FRAME_SIZE, OLDEST_PROTOCOL_VERSION, PROTOCOL_VERSION
from chatserver.per_user import MAX_TRANSIENT_LOGINS_PER_USER
from support import (
    Closed,
    RawClient,
    RunningServer,
    fetch,
    presence_of,
    running_server,
    server_process,
    upload,
)


def transient(server: RunningServer, name: str, password: str = "pw") -> RawClient:
    """A connection whose TransientLogin was accepted."""
    client = RawClient(server.address)
    reply = transient_login(client, name, password)
    assert isinstance(reply, LoginAccepted), reply
    return client


def transient_login(client: RawClient, name: str, password: str = "pw") -> Event:
    client.hello()  # the Hello must say version 3 first
    assert client.conn.version == PROTOCOL_VERSION
    client.send(TransientLogin(name, password))
    return client.wait_for((LoginAccepted, LoginRejected))


def presences_of(client: RawClient, user: str) -> list[Presence]:
    return [e for e in client.received if isinstance(e, Presence) and e.user == user]


def not_keepalive(events: list[Event]) -> list[Event]:
    return [e for e in events if not isinstance(e, Ping | Pong)]


def test_a_transient_login_is_no_presence(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice", "pw")
    alice.wait_for(presence_of("alice", "joined"))
    carol = RawClient(server.address)
    accepted = transient_login(carol, "carol")
    # A new name is registered, as a send with a new ID always did; but carol is no
    # participant: the list is alice alone, and no resume token is issued.
    assert isinstance(accepted, LoginAccepted)
    assert accepted.username == "carol"
    assert (accepted.new_account, accepted.rejoined, accepted.history_reset) == (
        True, False, False)
    assert accepted.participants == (Participant("alice"),)
    assert accepted.participant_count == 1
    assert accepted.resume_token == b""
    assert server.participants() == {"alice": "active"}
    assert "carol" not in server.call(lambda: dict(server.server.hub.sessions))
    assert "carol" in server.call(lambda: list(server.server.hub.accounts))

    carol.send(SendChat("from a script", None, 7))
    echo = carol.wait_for(ChatMessage)
    assert (echo.sender, echo.client_id, echo.text) == ("carol", 7, "from a script")
    delivered = alice.wait_for(lambda e: isinstance(e, ChatMessage) and e.sender == "carol")
    assert delivered.text == "from a script"
    carol.goodbye()
    # bob logs in after carol left: a presence of carol, joined or left, would be first.
    bob = RawClient.login_as(server, "bob", "pw")
    assert alice.wait_for(presence_of("bob", "joined")).participant_count == 2
    assert presences_of(alice, "carol") == []
    assert server.participants() == {"alice": "active", "bob": "active"}
    bob.goodbye()


def test_a_broken_transient_connection_is_not_deactivated(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice", "pw")
    carol = transient(server, "carol")
    carol.reset()
    server.wait_until(lambda: server.server.hub.transients.count("carol") == 0,
                      what="the transient login's place was freed")
    bob = RawClient.login_as(server, "bob", "pw")
    alice.wait_for(presence_of("bob", "joined"))
    assert presences_of(alice, "carol") == []
    assert server.participants() == {"alice": "active", "bob": "active"}
    bob.goodbye()


def test_the_same_user_may_send_while_active_elsewhere(server: RunningServer) -> None:
    RawClient.login_as(server, "bob", "pw").goodbye()  # bob has an account, then leaves
    frog = RawClient.login_as(server, "frog", "pw")
    frog.wait_for(presence_of("frog", "joined"))
    script = RawClient(server.address)
    accepted = transient_login(script, "FROG")  # any spelling of the name
    assert isinstance(accepted, LoginAccepted)
    assert accepted.username == "frog" and not accepted.new_account
    # frog is listed: as the participant its session makes it.
    assert accepted.participants == (Participant("frog"),)

    script.send(SendChat("from my script", None, 41))
    assert script.wait_for(ChatMessage).client_id == 41
    mine = frog.wait_for(lambda e: isinstance(e, ChatMessage) and e.text == "from my script")
    assert mine.sender == "frog"
    script.send(SendChat("psst", "bob", 42))  # a direct message, to someone not here
    assert script.wait_for(ChatMessage).recipient == "bob"
    script.goodbye()
    assert presences_of(frog, "frog") == [Presence("frog", PresenceState.JOINED, 1)]

    # Stored like any chat: replayed to bob at his next login.
    bob = RawClient(server.address)
    assert isinstance(bob.login("bob", "pw", last_seen_seq=0), LoginAccepted)
    replayed = [bob.wait_for(ChatMessage) for _ in range(2)]
    assert [(m.sender, m.recipient, m.text) for m in replayed] == [
        ("frog", None, "from my script"), ("frog", "bob", "psst")]


def test_a_transient_connection_receives_nothing_unasked(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice", "pw")
    script = transient(server, "dave")
    alice.send(SendChat("for everyone", None, 1))
    alice.wait_for(lambda e: isinstance(e, ChatMessage) and e.client_id == 1)
    alice.send(SendChat("for dave", "dave", 2))
    alice.wait_for(lambda e: isinstance(e, ChatMessage) and e.client_id == 2)
    RawClient.login_as(server, "bob", "pw").goodbye()  # joined and left
    alice.wait_for(presence_of("bob", "left"))
    # Anything broadcast would have reached dave before the echo of this message.
    script.send(SendChat("mine", None, 3))
    echo = script.wait_for(ChatMessage)
    assert echo.text == "mine"
    assert [type(e) for e in not_keepalive(script.received)] == [
        Hello, LoginAccepted, ChatMessage]


def test_a_wrong_password_is_refused_and_counted(tmp_path: Path) -> None:
    with running_server(tmp_path / "data", flood_rate=0, max_failed_logins_per_user=2) as srv:
        RawClient.login_as(srv, "frog", "right").goodbye()
        for _ in range(2):
            reply = transient_login(RawClient(srv.address), "frog", "wrong")
            assert isinstance(reply, LoginRejected) and reply.reason == "bad-password"
        # The same limit on failures as any login: now even the right password waits.
        reply = transient_login(RawClient(srv.address), "frog", "right")
        assert isinstance(reply, LoginRejected) and reply.reason == "rate-limited"
        reply = transient_login(RawClient(srv.address), "not a name!", "pw")
        assert isinstance(reply, LoginRejected) and reply.reason == "invalid-name"
        assert srv.call(lambda: srv.server.hub.transients.count("frog")) == 0


def test_transient_logins_of_one_user_are_bounded(server: RunningServer) -> None:
    frog = RawClient.login_as(server, "frog", "pw")  # its own session does not count
    scripts = [transient(server, "frog") for _ in range(MAX_TRANSIENT_LOGINS_PER_USER)]
    refused = RawClient(server.address)
    reply = transient_login(refused, "frog")
    assert isinstance(reply, LoginRejected)
    assert reply.reason == "too-many-logins"
    assert str(MAX_TRANSIENT_LOGINS_PER_USER) in reply.message
    # Another user is not affected, and the refused connection may log in otherwise.
    transient(server, "toad").goodbye()
    refused.send(TransientLogin("toad", "pw"))
    assert isinstance(refused.wait_for((LoginAccepted, LoginRejected)), LoginAccepted)
    # Once one of frog's ends, there is room for another.
    scripts.pop().goodbye()
    scripts.append(transient(server, "frog"))
    for script in scripts:
        script.send(SendChat("still fine", None, 5))
        assert script.wait_for(ChatMessage).client_id == 5
        script.goodbye()
    frog.goodbye()
    server.wait_until(lambda: server.server.hub.transients.count("frog") == 0)


def test_the_flood_limit_is_the_users_not_each_connections(tmp_path: Path) -> None:
    # Five messages in all, almost no refill: the user's session and its scripts share them.
    with running_server(tmp_path / "data", flood_rate=0.001, flood_burst=5) as srv:
        frog = RawClient.login_as(srv, "frog", "pw")
        first, second = transient(srv, "frog"), transient(srv, "frog")
        answers: list[Event] = []
        for number, client in enumerate([frog, frog, first, first, second, second], 1):
            client.send(SendChat("x", None, number))
            answers.append(client.wait_for(
                lambda e, n=number: isinstance(e, ChatMessage | ChatRejected)
                and e.client_id == n))
        assert [type(a) for a in answers] == [ChatMessage] * 5 + [ChatRejected]
        assert isinstance(answers[-1], ChatRejected) and answers[-1].reason == "rate-limited"
        # Another user has a bucket of its own.
        toad = transient(srv, "toad")
        toad.send(SendChat("x", None, 1))
        assert isinstance(toad.wait_for((ChatMessage, ChatRejected)), ChatMessage)


def test_a_file_from_a_transient_connection(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice", "pw")
    frog = RawClient.login_as(server, "frog", "pw")
    script = transient(server, "frog")
    data = b"a file from a script " * 5000
    done = upload(script, data, "report.txt", upload_id=3)
    assert isinstance(done, FileAvailable)
    assert (done.upload_id, done.sender, done.size) == (3, "frog", len(data))
    # Everyone else, frog's own session included, gets it as from anyone: upload id 0.
    for other in (alice, frog):
        seen = other.wait_for(FileAvailable)
        assert (seen.file_id, seen.upload_id, seen.sha256) == (
            done.file_id, 0, hashlib.sha256(data).digest())
    assert fetch(alice, done.file_id) == data
    # A transient connection may not fetch: the server breaks the connection.
    script.send_raw(encode_event(FetchFile(done.file_id)))
    with contextlib.suppress(Closed):
        script.wait_for(Error)
    errors = [e for e in script.received if isinstance(e, Error)]
    assert [e.code for e in errors] == ["unexpected-message"]


def test_a_version_2_client_cannot_log_in_transiently(server: RunningServer) -> None:
    old = RawClient(server.address)
    old.send(Hello(OLDEST_PROTOCOL_VERSION, DEFAULT_MAX_FRAME_SIZE, "old"))
    assert old.wait_for(Hello).version == OLDEST_PROTOCOL_VERSION
    old.send_raw(encode_event(TransientLogin("frog", "pw")))
    with contextlib.suppress(Closed):
        old.wait_for(Error)
    assert [e.code for e in old.received if isinstance(e, Error)] == ["unexpected-message"]
    # The same old client logs in the ordinary way, as before.
    ordinary = RawClient(server.address)
    ordinary.send(Hello(OLDEST_PROTOCOL_VERSION, DEFAULT_MAX_FRAME_SIZE, "old"))
    ordinary.wait_for(Hello)
    reply = ordinary.login("frog", "pw")
    assert isinstance(reply, LoginAccepted)
    assert reply.participants == (Participant("frog", ParticipantState.ACTIVE),)


def test_the_log_says_transient_and_never_joined(data_dir: Path) -> None:
    with server_process(data_dir, "--flood-rate", "0") as proc:
        watcher = RawClient.login_as(proc, "watcher", "pw")
        script = RawClient(proc.address)
        assert isinstance(transient_login(script, "carol"), LoginAccepted)
        script.send(SendChat("hi", None, 1))
        script.wait_for(ChatMessage)
        script.goodbye()
        proc.wait_for_line(r"carol's transient login from 127\.0\.0\.1 ended")
        bob = RawClient.login_as(proc, "bob", "pw")
        proc.wait_for_line(r"bob joined \(2 participants\)")
        watcher.wait_for(presence_of("bob", "joined"))
        log = proc.output()
        assert "carol logged in transiently from 127.0.0.1 (1 of 4)" in log
        assert "carol joined" not in log and "carol left" not in log
        bob.goodbye()
