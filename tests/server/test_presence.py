"""Behaviours 1, 3-4, 6-11: accounts, presence and the participant count, end to end."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from chatproto import (
    Login,
    LoginAccepted,
    LoginRejected,
    Participant,
    ParticipantState,
    Presence,
    SendChat,
)
from chatserver import ServerConfig
from support import RawClient, RunningServer, presence_of, running_server


def test_defaults_match_the_original_port_and_all_interfaces() -> None:
    config = ServerConfig()
    assert (config.host, config.port) == ("0.0.0.0", 9000)
    assert config.deactivated_grace is None


def test_first_login_creates_the_account(server: RunningServer) -> None:
    frog = RawClient(server.address)
    reply = frog.login("frog", "pw1")
    assert isinstance(reply, LoginAccepted)
    assert (reply.new_account, reply.rejoined) == (True, False)
    assert reply.participants == (Participant("frog", ParticipantState.ACTIVE),)
    # The user is told of its own arrival, with the count.
    joined = frog.wait_for(presence_of("frog", "joined"))
    assert joined.participant_count == 1
    assert "frog" in server.call(lambda: server.server.hub.accounts)


def test_korean_id_works(server: RunningServer) -> None:
    client = RawClient.login_as(server, "개구리")
    assert client.wait_for(presence_of("개구리", "joined")).participant_count == 1


def test_active_id_is_refused_even_with_the_right_password(server: RunningServer) -> None:
    frog = RawClient.login_as(server, "frog", "pw")
    intruder = RawClient(server.address)
    reply = intruder.login("frog", "pw")
    assert isinstance(reply, LoginRejected) and reply.reason == "already-active"
    assert server.participants() == {"frog": "active"}
    frog.close()
    # The refused connection may try another name on the same connection.
    assert isinstance(intruder.login("toad", "pw"), LoginAccepted)


def test_refused_login_creates_no_account(server: RunningServer) -> None:
    frog = RawClient.login_as(server, "frog", "pw")
    reply = RawClient(server.address).login("frog", "other")
    assert isinstance(reply, LoginRejected)
    assert server.call(lambda: list(server.server.hub.accounts)) == ["frog"]
    frog.close()


def test_presence_reaches_everyone_and_the_count_follows_the_original(
    server: RunningServer,
) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    carol = RawClient.login_as(server, "carol")
    for client in (alice, bob, carol):
        assert client.wait_for(presence_of("carol", "joined")).participant_count == 3

    # Behaviour 8: a killed client (socket closed without Goodbye) is deactivated,
    # the count does not drop, and everyone (still connected) is told.
    carol.close()
    for client in (alice, bob):
        assert client.wait_for(presence_of("carol", "deactivated")).participant_count == 3
    assert server.participants() == {"alice": "active", "bob": "active", "carol": "deactivated"}

    # Behaviour 9: the same ID with the right password rejoins; count unchanged.
    carol = RawClient(server.address)
    reply = carol.login("carol", "secret")
    assert isinstance(reply, LoginAccepted) and reply.rejoined and not reply.new_account
    assert {p.name: p.state for p in reply.participants} == {
        "alice": ParticipantState.ACTIVE,
        "bob": ParticipantState.ACTIVE,
        "carol": ParticipantState.ACTIVE,
    }
    for client in (alice, bob, carol):
        assert client.wait_for(presence_of("carol", "rejoined")).participant_count == 3

    # Behaviour 7: a normal exit (Goodbye, the window's X) is "left": the count drops.
    bob.goodbye()
    for client in (alice, carol):
        assert client.wait_for(presence_of("bob", "left")).participant_count == 2
    assert server.participants() == {"alice": "active", "carol": "active"}


def test_network_error_deactivates(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    bob.reset()
    assert alice.wait_for(presence_of("bob", "deactivated")).participant_count == 2


def test_deactivated_user_listed_as_deactivated_at_login(server: RunningServer) -> None:
    RawClient.login_as(server, "bob").close()
    server.wait_until(lambda: server.server.hub.participants.is_deactivated("bob"))
    reply = RawClient(server.address).login("alice")
    assert isinstance(reply, LoginAccepted)
    assert set(reply.participants) == {
        Participant("alice", ParticipantState.ACTIVE),
        Participant("bob", ParticipantState.DEACTIVATED),
    }


def test_wrong_password_is_refused(server: RunningServer) -> None:
    RawClient.login_as(server, "frog", "right").goodbye()
    reply = RawClient(server.address).login("frog", "wrong")
    assert isinstance(reply, LoginRejected) and reply.reason == "bad-password"


@pytest.mark.parametrize("name", ["a/b", "frog\n[12:00] <bob> hi", "e\u0301", "x" * 33, ""])
def test_an_invalid_name_is_refused_and_the_connection_stays_usable(
    server: RunningServer, name: str
) -> None:
    client = RawClient(server.address)
    reply = client.login(name, "pw")
    assert isinstance(reply, LoginRejected) and reply.reason == "invalid-name"
    assert isinstance(client.login("frog", "pw"), LoginAccepted)  # same connection, a good name
    assert "frog" in server.participants()


def test_a_left_user_logs_in_again_as_joined_with_the_same_password(
    server: RunningServer,
) -> None:
    RawClient.login_as(server, "frog", "pw").goodbye()
    server.wait_until(lambda: "frog" not in server.server.hub.participants)
    frog = RawClient(server.address)
    reply = frog.login("frog", "pw")
    assert isinstance(reply, LoginAccepted)
    assert (reply.new_account, reply.rejoined) == (False, False)
    frog.wait_for(presence_of("frog", "joined"))


def test_server_keeps_running_when_everyone_left(server: RunningServer) -> None:
    for name in ("a", "b"):
        RawClient.login_as(server, name).goodbye()
    server.wait_until(lambda: len(server.server.hub.participants) == 0)
    late = RawClient.login_as(server, "c")
    late.send(SendChat("anyone?"))
    assert late.wait_for(presence_of("c", "joined")).participant_count == 1


def test_many_concurrent_first_logins_of_one_id_exactly_one_wins(
    server: RunningServer,
) -> None:
    clients = [RawClient(server.address) for _ in range(12)]
    for client in clients:
        client.hello()
    replies: list[LoginAccepted | LoginRejected] = []
    barrier = threading.Barrier(len(clients))

    def attempt(client: RawClient, index: int) -> None:
        barrier.wait()
        replies.append(client.login("newbie", f"password-{index}"))

    threads = [
        threading.Thread(target=attempt, args=(c, i)) for i, c in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    accepted = [r for r in replies if isinstance(r, LoginAccepted)]
    assert len(replies) == len(clients)
    assert len(accepted) == 1 and accepted[0].new_account
    assert all(r.reason == "already-active" for r in replies if isinstance(r, LoginRejected))


def test_failed_logins_are_rate_limited(tmp_path: Path) -> None:
    with running_server(tmp_path / "d", max_failed_logins_per_user=3) as server:
        RawClient.login_as(server, "frog", "right").goodbye()
        attacker = RawClient(server.address)
        reasons = [getattr(attacker.login("frog", f"guess{i}"), "reason", None) for i in range(4)]
        assert reasons == ["bad-password"] * 3 + ["rate-limited"]
        # Even the right password waits out the window.
        reply = RawClient(server.address).login("frog", "right")
        assert isinstance(reply, LoginRejected) and reply.reason == "rate-limited"


def test_deactivated_user_leaves_after_the_grace_time(tmp_path: Path) -> None:
    with running_server(tmp_path / "d", deactivated_grace=0.2) as server:
        alice = RawClient.login_as(server, "alice")
        RawClient.login_as(server, "bob").close()
        alice.wait_for(presence_of("bob", "deactivated"))
        assert alice.wait_for(presence_of("bob", "left")).participant_count == 1


def test_presence_events_are_in_order_for_each_user(server: RunningServer) -> None:
    watcher = RawClient.login_as(server, "watcher")
    for _ in range(3):
        RawClient.login_as(server, "flaky").close()
        watcher.wait_for(presence_of("flaky", "deactivated"))
    states = [
        e.state.value for e in watcher.received if isinstance(e, Presence) and e.user == "flaky"
    ]
    assert states == ["joined", "deactivated", "rejoined", "deactivated", "rejoined",
                      "deactivated"]


def test_a_login_still_being_checked_is_not_timed_out(tmp_path: Path) -> None:
    """The login timeout is for silent peers: a password hash that takes
    longer than it (a costly hash, many logins queued) must not cut the peer."""
    # The hash (n=2**17: half a second, more on a loaded machine) takes longer
    # than the timeout, which still leaves time to send Hello and Login.
    with running_server(tmp_path / "d", scrypt_n=2**17, login_timeout=0.25) as server:
        client = RawClient(server.address)
        client.send(client.conn.hello("fast-typist"))
        client.send(Login("patient", "pw"))
        # Hello then Login within the timeout; the verdict comes later.
        reply = client.wait_for((LoginAccepted, LoginRejected))
        assert isinstance(reply, LoginAccepted)


def test_passwords_are_stored_only_as_salted_hashes(server: RunningServer) -> None:
    import sqlite3

    for name in ("frog", "toad"):
        RawClient.login_as(server, name, "same password 비밀").goodbye()
    with sqlite3.connect(server.data_dir / "chat.sqlite3") as db:
        hashes = dict(db.execute("SELECT name, password_hash FROM accounts"))
    assert set(hashes) == {"frog", "toad"}
    assert all(h.startswith("scrypt$") and "same password" not in h for h in hashes.values())
    assert hashes["frog"] != hashes["toad"]  # a salt per account
    raw = (server.data_dir / "chat.sqlite3").read_bytes()
    assert b"same password" not in raw


def test_ipv6_loopback(tmp_path: Path) -> None:
    with running_server(tmp_path / "d", host="::1") as server:
        frog = RawClient.login_as(server, "frog")
        frog.send(SendChat("over IPv6"))
        from chatproto import ChatMessage

        assert frog.wait_for(ChatMessage).text == "over IPv6"
        assert server.call(lambda: [c.address for c in server.server.ctx.registry.clients]) == [
            "::1"
        ]
