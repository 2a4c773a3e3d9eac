"""The fan-out's invariant (``chatserver.fanout``), over real transports.

A connection receives, in order, exactly the broadcasts made while its
outbox was live, with its own output between them in the order it was
queued. Each connection here is a socket pair: the server side is a real
asyncio transport behind an ``Outbox``, the other side is read and decoded
by a ``ClientConnection``, so every byte stream is also checked against the
protocol's state machines (a frame out of place would raise).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chatproto import (
    NEED_DATA,
    ChatMessage,
    ClientConnection,
    Event,
    FileAvailable,
    Goodbye,
    Login,
    LoginAccepted,
    Pong,
    Presence,
    PresenceState,
    ServerConnection,
)
from chatserver.fanout import Fanout, Outbox

BIG = 1 << 30  # an output bound no test reaches


def chat(seq: int, text: str = "") -> ChatMessage:
    return ChatMessage(seq, 0, seq, "alice", None, text or f"line {seq}")


def seen(event: Event) -> tuple[str, int]:
    """What a test compares: broadcasts by seq, own output by nonce."""
    if isinstance(event, ChatMessage):
        return ("chat", event.seq)
    if isinstance(event, Pong):
        return ("own", event.nonce)
    return (type(event).__name__, 0)


class _Edge(asyncio.Protocol):
    """The asyncio side of one test connection: backpressure to its outbox."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def pause_writing(self) -> None:
        self.outbox.pause_writing()

    def resume_writing(self) -> None:
        self.outbox.resume_writing()


class Peer:
    """One logged-in connection: its outbox on a real transport, and its
    client reading the other end of the socket pair."""

    def __init__(self, fanout: Fanout, name: str, *, small_buffers: bool = False) -> None:
        self.name = name
        self.server_sock, self.client_sock = socket.socketpair()
        if small_buffers:  # the kernel holds little: a peer that stops reading is felt soon
            for sock in (self.server_sock, self.client_sock):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.client_sock.setblocking(False)
        self.conn, self.reader = ServerConnection(), ClientConnection()
        self.conn.receive_data(self.reader.send(self.reader.hello()))
        self.conn.receive_data(self.reader.send(Login(name, "pw")))
        while self.conn.next_event() is not NEED_DATA:
            pass
        self.reader.receive_data(
            self.conn.send(self.conn.hello()) + self.conn.send(LoginAccepted(name, False, False, 0))
        )
        self._drain()
        self.outbox = fanout.outbox(self.conn, self)
        self.dropped = False
        self.events: list[Event] = []

    async def connect(self, high_water: int | None = None) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.connect_accepted_socket(
            lambda: _Edge(self.outbox), self.server_sock
        )
        if high_water is not None:
            transport.set_write_buffer_limits(high=high_water)
        self.outbox.transport = transport

    def too_slow(self) -> None:
        self.dropped = True

    def __repr__(self) -> str:
        return f"<peer {self.name}>"

    def _drain(self) -> list[Event]:
        out = []
        while (event := self.reader.next_event()) is not NEED_DATA:
            assert isinstance(event, Event)
            out.append(event)
        return out

    def read(self) -> list[tuple[str, int]]:
        """Everything received so far, decoded, as ``seen`` shows it."""
        while True:
            try:
                data = self.client_sock.recv(1 << 20)
            except BlockingIOError:
                break
            if not data:
                break
            self.reader.receive_data(data)
            self.events += self._drain()
        return [seen(event) for event in self.events]

    def close(self) -> None:
        transport = self.outbox.transport
        if transport is not None:
            transport.abort()
        self.server_sock.close()
        self.client_sock.close()


def run(
    count: int,
    body: Callable[[Fanout, list[Peer]], Awaitable[None]],
    *,
    output_limit: int = BIG,
    slow: frozenset[int] = frozenset(),
) -> None:
    """Run ``body`` on a loop with a fan-out and ``count`` connected peers;
    those in ``slow`` have small socket buffers and a low high-water mark."""

    async def main() -> None:
        fanout = Fanout(output_limit)
        peers = [Peer(fanout, f"user{i}", small_buffers=i in slow) for i in range(count)]
        try:
            for index, peer in enumerate(peers):
                await peer.connect(high_water=4096 if index in slow else None)
            await body(fanout, peers)
        finally:
            for peer in peers:
                peer.close()

    asyncio.run(main())


async def end_of_turn() -> None:
    """Let the loop run the fan-out's end of turn, and the writes finish."""
    for _ in range(3):
        await asyncio.sleep(0)


def test_a_connection_going_live_mid_turn_gets_only_later_broadcasts() -> None:
    async def body(fanout: Fanout, peers: list[Peer]) -> None:
        early, late = peers
        early.outbox.go_live()
        fanout.deliver(chat(1), "alice", None)
        late.outbox.go_live()
        fanout.deliver(chat(2), "alice", None)
        await end_of_turn()
        assert early.read() == [("chat", 1), ("chat", 2)]
        assert late.read() == [("chat", 2)]

    run(2, body)


def test_a_connection_leaving_stops_getting_broadcasts_but_gets_the_earlier_ones() -> None:
    async def body(fanout: Fanout, peers: list[Peer]) -> None:
        stays, leaves = peers
        for peer in peers:
            peer.outbox.go_live()
        fanout.deliver(chat(1), "alice", None)
        leaves.outbox.leave()
        fanout.deliver(chat(2), "alice", None)
        await end_of_turn()
        fanout.deliver(chat(3), "alice", None)
        await end_of_turn()
        assert stays.read() == [("chat", 1), ("chat", 2), ("chat", 3)]
        assert leaves.read() == [("chat", 1)]
        assert not leaves.outbox.live

    run(2, body)


def test_the_connection_says_when_broadcasts_stop_after_its_goodbye() -> None:
    """No ``stop_live`` to remember: a Goodbye moves the connection out of
    ACTIVE, and the outbox asks it (a broadcast after it would break the
    client's state machine, which decodes everything here)."""

    async def body(fanout: Fanout, peers: list[Peer]) -> None:
        (peer,) = peers
        peer.outbox.go_live()
        fanout.deliver(chat(1), "alice", None)
        peer.outbox.queue(Goodbye("the server stops"))
        assert not peer.conn.accepts_broadcasts and not peer.outbox.live
        fanout.deliver(chat(2), "alice", None)
        await end_of_turn()
        assert peer.read() == [("chat", 1), ("Goodbye", 0)]
        peer.outbox.go_live()  # a connection that does not accept them stays out
        assert not peer.outbox.live

    run(1, body)


def test_own_output_interleaves_with_broadcasts_in_the_order_it_was_made() -> None:
    async def body(fanout: Fanout, peers: list[Peer]) -> None:
        talker, listener = peers
        for peer in peers:
            peer.outbox.go_live()
        fanout.deliver(chat(1), "alice", None)
        talker.outbox.queue(Pong(1))
        fanout.deliver(chat(2), "alice", None)
        talker.outbox.queue(Pong(2))
        talker.outbox.flush()  # an early write (a close, a replay step, a chunk)
        fanout.deliver(chat(3), "alice", None)
        talker.outbox.queue(Pong(3))
        fanout.deliver(chat(4), "alice", None)
        await end_of_turn()
        assert talker.read() == [
            ("chat", 1), ("own", 1), ("chat", 2), ("own", 2), ("chat", 3), ("own", 3),
            ("chat", 4),
        ]
        assert listener.read() == [("chat", 1), ("chat", 2), ("chat", 3), ("chat", 4)]

    run(2, body)


def test_a_paused_connection_gets_everything_in_order_once_resumed() -> None:
    """A peer that stops reading: the transport pauses (backpressure) and
    buffers; nothing is lost or reordered, and ``writable`` waits until the
    peer drains it."""
    turns, per_turn = 40, 10
    text = "가" * 1000  # 3 KB a message: 1.2 MB in all, far past the socket's buffers

    async def body(fanout: Fanout, peers: list[Peer]) -> None:
        slow, fast = peers
        for peer in peers:
            peer.outbox.go_live()
        seq = 0
        paused_at_some_point = False
        for _ in range(turns):
            for _ in range(per_turn):
                seq += 1
                fanout.deliver(chat(seq, text), "alice", None)
            slow.outbox.queue(Pong(seq))
            await end_of_turn()
            fast.read()
            paused_at_some_point |= slow.outbox.write_paused
        assert paused_at_some_point and slow.outbox.write_paused
        waiter = asyncio.ensure_future(slow.outbox.writable())
        await asyncio.sleep(0.01)
        assert not waiter.done()  # nobody reads: still paused
        while not waiter.done():
            slow.read()
            await asyncio.sleep(0.001)
        slow.read()
        expected = []
        for turn in range(turns):
            expected += [("chat", turn * per_turn + i) for i in range(1, per_turn + 1)]
            expected.append(("own", (turn + 1) * per_turn))
        assert slow.read() == expected
        assert fast.read() == [e for e in expected if e[0] == "chat"]
        assert not slow.dropped

    run(2, body, slow=frozenset({0}))


def test_a_connection_past_the_output_bound_is_dropped() -> None:
    async def body(fanout: Fanout, peers: list[Peer]) -> None:
        stuck, reading = peers
        for peer in peers:
            peer.outbox.go_live()
        for seq in range(1, 200):
            fanout.deliver(chat(seq, "x" * 1000), "alice", None)
            await end_of_turn()
            reading.read()
            if stuck.dropped:
                break
        assert stuck.dropped and stuck.outbox.closed
        assert not reading.dropped and len(reading.read()) == seq

    run(2, body, output_limit=64 * 1024, slow=frozenset({0}))


def test_deliveries_reach_their_audience_and_presence_reaches_replaying_users() -> None:
    async def body(fanout: Fanout, peers: list[Peer]) -> None:
        alice, bob, carol = peers
        for peer in peers:
            peer.outbox.attach(peer.name)
        alice.outbox.go_live()
        bob.outbox.go_live()  # carol is still replaying: no live deliveries
        fanout.deliver(ChatMessage(1, 0, 1, "user0", "user1", "psst"), "user0", "user1")
        fanout.deliver(chat(2), "user0", None)
        fanout.announce(Presence("dave", PresenceState.JOINED, 4))
        shared = FileAvailable(3, 0, 9, "user0", None, "a.txt", 1, b"\0" * 32, 5)
        fanout.deliver(shared, "user0", None, FileAvailable(
            3, 0, 9, "user0", None, "a.txt", 1, b"\0" * 32, 0))
        await end_of_turn()
        assert alice.read() == [("chat", 1), ("chat", 2), ("Presence", 0), ("FileAvailable", 0)]
        assert bob.read() == [("chat", 1), ("chat", 2), ("Presence", 0), ("FileAvailable", 0)]
        assert carol.read() == [("Presence", 0)]
        uploads = [e.upload_id for e in alice.events + bob.events if isinstance(e, FileAvailable)]
        assert uploads == [5, 0]  # only the uploader sees its upload id
        bob.outbox.leave()
        fanout.deliver(ChatMessage(4, 0, 4, "user0", "user1", "gone?"), "user0", "user1")
        fanout.announce(Presence("dave", PresenceState.LEFT, 3))
        await end_of_turn()
        assert bob.read()[4:] == []
        assert alice.read()[4:] == [("chat", 4), ("Presence", 0)]

    run(3, body)


# -- the invariant, against a model, for any sequence of operations --------------------

PEERS = 3
operations = st.lists(
    st.one_of(
        st.just(("broadcast", 0)),
        st.just(("turn", 0)),
        st.tuples(
            st.sampled_from(["live", "leave", "own", "flush", "goodbye"]),
            st.integers(0, PEERS - 1),
        ),
    ),
    max_size=40,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
@example([("live", 1), ("broadcast", 0), ("leave", 1), ("live", 1)])  # back within one turn
def test_every_connection_gets_exactly_its_share_in_order(ops: list[tuple[str, int]]) -> None:
    async def body(fanout: Fanout, peers: list[Peer]) -> None:
        expected: list[list[tuple[str, int]]] = [[] for _ in peers]
        live = [False] * len(peers)
        said_goodbye = [False] * len(peers)  # then nothing more may follow
        seq = nonce = 0
        for op, index in ops:
            outbox = peers[index].outbox
            if op == "broadcast":
                seq += 1
                fanout.deliver(chat(seq), "alice", None)
                for i, is_live in enumerate(live):
                    if is_live:
                        expected[i].append(("chat", seq))
            elif op == "turn":
                await end_of_turn()
            elif op == "live":
                outbox.go_live()
                live[index] = not said_goodbye[index]
            elif op == "leave":
                outbox.leave()
                live[index] = False
            elif op == "own":
                nonce += 1
                outbox.queue(Pong(nonce))  # refused (and logged) after a Goodbye
                if not said_goodbye[index]:
                    expected[index].append(("own", nonce))
            elif op == "goodbye":
                outbox.queue(Goodbye("bye"))
                if not said_goodbye[index]:
                    expected[index].append(("Goodbye", 0))
                said_goodbye[index], live[index] = True, False
            else:
                outbox.flush()
            assert outbox.live is live[index]
        await end_of_turn()
        assert [peer.read() for peer in peers] == expected

    run(PEERS, body)
