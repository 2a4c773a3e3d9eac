"""Abuse against the real server over real sockets: password guessing,
connection floods, slow-loris clients, chat floods.

127.0.0.2 and 127.0.0.3 stand for other machines: on Linux the whole of
127.0.0.0/8 is loopback, and binding the client socket to one of them makes
the server see that source address.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from chatproto import (
    PROTOCOL_VERSION,
    ChatMessage,
    ChatRejected,
    Error,
    Goodbye,
    Hello,
    LoginAccepted,
    LoginRejected,
    SendChat,
    encode_event,
)
from support import RunningServer, running_server, wait_until

from .peer import Peer, PeerClosed

HERE, OTHER, THIRD = "127.0.0.1", "127.0.0.2", "127.0.0.3"
FAST_HASH = {"scrypt_n": 2**10}


@contextmanager
def server(tmp_path: Path, **overrides: Any) -> Iterator[RunningServer]:
    with running_server(tmp_path / "data", **{**FAST_HASH, **overrides}) as srv:
        yield srv


def _attempt(srv: RunningServer, name: str, password: str, source: str) -> str:
    """One login on its own connection: the reason, or ``accepted``."""
    with Peer(srv.address, source) as peer:
        reply = peer.login(name, password)
        if isinstance(reply, LoginAccepted):
            peer.send(Goodbye("bye"))
            srv.wait_until(lambda: name not in srv.server.hub.sessions, what=f"{name} left")
            return "accepted"
        assert isinstance(reply, LoginRejected)
        return reply.reason


def test_guessing_one_id_is_rate_limited_but_its_owner_gets_in_from_elsewhere(
    tmp_path: Path,
) -> None:
    with server(tmp_path, max_failed_logins_per_user=3, max_failed_logins_per_address=100) as srv:
        assert _attempt(srv, "alice", "right", OTHER) == "accepted"
        reasons = [_attempt(srv, "alice", f"guess{i}", HERE) for i in range(6)]
        assert reasons[:3] == ["bad-password"] * 3
        assert set(reasons[3:]) == {"rate-limited"}, reasons
        # The owner, from their own machine, with the right password:
        assert _attempt(srv, "alice", "right", OTHER) == "accepted"


def test_guessing_from_one_address_is_rate_limited_for_that_address_only(
    tmp_path: Path,
) -> None:
    with server(tmp_path, max_failed_logins_per_user=100, max_failed_logins_per_address=4) as srv:
        names = [f"user{i}" for i in range(6)]
        for name in names:
            assert _attempt(srv, name, "right", THIRD) == "accepted"
        reasons = [_attempt(srv, name, "wrong", HERE) for name in names]
        assert reasons[:4] == ["bad-password"] * 4
        assert set(reasons[4:]) == {"rate-limited"}, reasons
        assert _attempt(srv, "user5", "right", HERE) == "rate-limited"
        assert _attempt(srv, "user5", "right", OTHER) == "accepted"


def _greeted(srv: RunningServer, source: str) -> Peer:
    peer = Peer(srv.address, source)
    peer.send(peer.conn.hello("abuse"))
    peer.wait_for(Hello)
    return peer


def _refused(srv: RunningServer, source: str) -> Error:
    with Peer(srv.address, source) as peer:
        error = peer.wait_for(Error)
        assert isinstance(error, Error)
        with pytest.raises(PeerClosed):
            while True:
                peer.read()
        return error


def test_connections_are_limited_per_address(tmp_path: Path) -> None:
    with server(tmp_path, max_connections_per_address=3, max_connections=100) as srv, \
            ExitStack() as stack:
        mine = [stack.enter_context(_greeted(srv, HERE)) for _ in range(3)]
        error = _refused(srv, HERE)
        assert error.code == "too-many-connections" and "address" in error.message
        stack.enter_context(_greeted(srv, OTHER))  # another machine is not affected
        mine[0].close()
        srv.wait_until(lambda: len(srv.server.ctx.registry) == 3, what="a slot freed")
        stack.enter_context(_greeted(srv, HERE))


def test_connections_are_limited_in_total(tmp_path: Path) -> None:
    with server(tmp_path, max_connections_per_address=10, max_connections=4) as srv, \
            ExitStack() as stack:
        for source in (HERE, HERE, OTHER, OTHER):
            stack.enter_context(_greeted(srv, source))
        assert _refused(srv, THIRD).code == "too-many-connections"


class Loris(threading.Thread):
    """Sends ``data`` one byte at a time, ``pause`` seconds apart, until cut off."""

    def __init__(self, peer: Peer, data: bytes, pause: float) -> None:
        super().__init__(daemon=True)
        self.peer, self.data, self.pause = peer, data, pause
        self.sent = 0
        self.cut_off = threading.Event()

    def run(self) -> None:
        try:
            for byte in self.data:
                self.peer.sock.sendall(bytes([byte]))
                self.sent += 1
                time.sleep(self.pause)  # the attack itself is slow, by design
        except OSError:
            pass
        finally:
            self.cut_off.set()


def _chat_among(srv: RunningServer, names: list[str], rounds: int) -> None:
    peers = [Peer(srv.address) for _ in names]
    try:
        for peer, name in zip(peers, names, strict=True):
            assert isinstance(peer.login(name, "pw"), LoginAccepted)
        for i in range(rounds):
            for peer in peers:
                peer.send(SendChat(f"msg {i}", None, i + 1))
                peer.wait_for(ChatMessage, match=lambda e, p=peer: (
                    isinstance(e, ChatMessage) and e.sender == p.conn.username))
    finally:
        for peer in peers:
            peer.close()


def test_a_slow_loris_before_login_is_cut_off_and_others_carry_on(tmp_path: Path) -> None:
    with server(tmp_path, login_timeout=2.0) as srv:
        hello = encode_event(Hello(PROTOCOL_VERSION, 1_048_576, "s" * 40))
        loris = Loris(Peer(srv.address), hello, pause=1.0)
        loris.start()
        _chat_among(srv, ["amy", "ben", "cat"], rounds=10)
        assert not loris.cut_off.is_set(), "the others finished while the loris was still on"
        wait_until(lambda: _closed_by_server(loris), timeout=10, what="loris cut off")
        assert loris.sent < len(hello)


def _closed_by_server(loris: Loris) -> bool:
    if loris.cut_off.is_set():
        return True
    try:
        loris.peer.read(timeout=0.01)
    except PeerClosed:
        return True
    return False


def test_a_slow_loris_after_login_is_cut_off(tmp_path: Path) -> None:
    """Logged in, then one frame trickled in a byte at a time: each byte is
    "activity", but a frame that takes forever must not keep the slot."""
    with server(tmp_path, heartbeat_interval=0.5, heartbeat_timeout=1.5) as srv:
        peer = Peer(srv.address)
        assert isinstance(peer.login("slowpoke", "pw"), LoginAccepted)
        frame = encode_event(SendChat("x" * 2000, None, 1))
        loris = Loris(peer, frame, pause=0.5)
        loris.start()
        _chat_among(srv, ["amy", "ben"], rounds=5)
        wait_until(lambda: _closed_by_server(loris), timeout=12,
                   what="a frame trickled for 12 s is cut off")


def test_a_chat_flood_is_throttled_without_drowning_others(tmp_path: Path) -> None:
    with server(tmp_path) as srv, Peer(srv.address) as flooder, Peer(srv.address) as victim:
        assert isinstance(flooder.login("flood", "pw"), LoginAccepted)
        assert isinstance(victim.login("calm", "pw"), LoginAccepted)
        rejected: list[ChatRejected] = []
        stop = threading.Event()

        def flood() -> None:
            cid = 0
            try:
                while not stop.is_set() and cid < 20_000:
                    batch = b""
                    for _ in range(200):
                        cid += 1
                        batch += flooder.conn.send(SendChat(f"spam {cid}", None, cid))
                    flooder.sock.sendall(batch)
                    for event in flooder.read(timeout=0.01):
                        if isinstance(event, ChatRejected):
                            rejected.append(event)
            except (OSError, PeerClosed):
                pass

        thread = threading.Thread(target=flood, daemon=True)
        thread.start()
        wait_until(lambda: bool(rejected) or not thread.is_alive(), timeout=30,
                   what="the flooder is throttled")
        waits = []
        for i in range(1, 21):
            victim.send(SendChat(f"calm {i}", None, i))
            spam_seen = 0
            while True:
                event = victim.wait_for(ChatMessage)
                assert isinstance(event, ChatMessage)
                if event.sender == "calm" and event.client_id == i:
                    break
                spam_seen += 1
            waits.append(spam_seen)
        stop.set()
        thread.join(10)
        assert rejected and rejected[0].reason == "rate-limited", "the flood was not throttled"
        assert max(waits) <= 100, f"the calm user waited behind {max(waits)} spam messages"
