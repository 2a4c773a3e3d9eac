"""The load generator's shortcuts against the protocol's own encoder and decoder.

The generator packs SendChat frames by hand and reads deliveries with
strided slices over runs of equal frames or lines, the frame walker and one
regular expression for IRC. Its frames must be the connection's; and
whatever way a stream of real encoded frames is cut into reads, it must
find exactly the send timestamps a full decode finds in each read, answer
every ping and notice every refusal and every goodbye.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatproto import (
    NEED_DATA,
    ChatMessage,
    ChatRejected,
    ClientConnection,
    Error,
    Event,
    Goodbye,
    Login,
    LoginAccepted,
    Ping,
    Pong,
    Presence,
    PresenceState,
    SendChat,
    ServerConnection,
    encode_event,
    prepare,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from loadgen.clients import PASSWORD, ChatClient
from loadgen.irc import IrcClient
from loadgen.stamps import KEPT_DIGITS, TEXT_BYTES, Stamps, latencies_ns, stamp_count

SETTINGS = settings(max_examples=150, deadline=None)
MODULUS = 10**KEPT_DIGITS
#: Senders of one width (the benchmark's names) and of other widths.
NAMES = [f"bench50_{i:05d}" for i in range(4)]
OTHER_NAMES = ["bob", "bench50_7", "개구리"]
stamps = st.integers(0, 10**20 - 1)
u64 = st.integers(0, 2**64 - 1)


def text_with(stamp: int, number: int = 1) -> str:
    """A benchmark text: the send time in 20 digits first, 100 bytes."""
    head = f"{stamp:020d} 00001 {number:09d} "
    return head + "x" * (TEXT_BYTES - len(head))


def kept(pieces: list[Stamps]) -> list[int]:
    """The kept digits of every stamp in ``pieces``, as numbers, sorted."""
    rows = b"".join(
        piece if isinstance(piece, bytes) else bytes(itertools.chain(*zip(*piece, strict=True)))
        for piece in pieces
    )
    assert sum(map(stamp_count, pieces)) * KEPT_DIGITS == len(rows)
    return sorted(int(rows[i : i + KEPT_DIGITS]) for i in range(0, len(rows), KEPT_DIGITS))


def chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = [0, *sorted(set(cuts)), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(points) if b > a]


@contextlib.contextmanager
def socket_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """The client's socket and the server's end of it (to read what the client wrote)."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.setblocking(False)
        yield ours, theirs


def read_available(sock: socket.socket) -> bytes:
    parts = []
    try:
        while part := sock.recv(65536):
            parts.append(part)
    except BlockingIOError:
        pass
    return b"".join(parts)


# -- our protocol ------------------------------------------------------------------


def logged_in(conn: ClientConnection, greeting: bytes, name: str) -> ServerConnection:
    """Take ``greeting`` through a ServerConnection; hand its answer to ``conn``."""
    server = ServerConnection()
    server.receive_data(greeting)
    while server.next_event() is not NEED_DATA:
        pass
    conn.receive_data(
        server.send(server.hello("test")) + server.send(LoginAccepted(name, True, False, 0))
    )
    return server


def counting_client(sock: socket.socket) -> tuple[ChatClient, ServerConnection]:
    client = ChatClient(0, NAMES[0])
    client.sock = sock
    server = ServerConnection()
    server.receive_data(client.greeting())
    while server.next_event() is not NEED_DATA:
        pass
    client.handshake(
        server.send(server.hello("test")) + server.send(LoginAccepted(NAMES[0], True, False, 0))
    )
    assert client.ready and not client.failure
    client.start_counting()
    return client, server


def reference_conn() -> ClientConnection:
    conn = ClientConnection()
    greeting = conn.send(conn.hello("test")) + conn.send(Login(NAMES[0], PASSWORD, 0))
    logged_in(conn, greeting, NAMES[0])
    while conn.next_event() is not NEED_DATA:
        pass
    return conn


@st.composite
def chat_messages(draw: st.DrawFn, names: list[str]) -> ChatMessage:
    return ChatMessage(
        draw(u64), draw(u64), draw(u64), draw(st.sampled_from(names)),
        draw(st.none() | st.sampled_from(NAMES)), text_with(draw(stamps)),
    )


others = st.one_of(
    st.builds(Ping, u64),
    st.builds(Presence, st.sampled_from(NAMES + OTHER_NAMES), st.sampled_from(PresenceState),
              st.integers(0, 2**32 - 1)),
    st.builds(ChatRejected, u64, st.sampled_from(["flood", "unknown-recipient"]),
              st.sampled_from(["", "too fast", "no such user"])),
    chat_messages(OTHER_NAMES),
)


@st.composite
def chat_streams(draw: st.DrawFn) -> list[Event]:
    """Runs of benchmark deliveries (one width of name, no recipient)
    broken by pings, presences, refusals and other chat messages."""
    events: list[Event] = []
    for _ in range(draw(st.integers(1, 6))):
        run = draw(st.integers(0, 40))
        events += [
            ChatMessage(draw(u64), draw(u64), draw(u64), draw(st.sampled_from(NAMES)), None,
                        text_with(draw(stamps), i))
            for i in range(run)
        ]
        events += draw(st.lists(others, max_size=2))
    return events


def encoded(event: Event) -> bytes:
    if isinstance(event, ChatMessage):
        return prepare(event).data  # as the server fans a message out
    return encode_event(event)


@SETTINGS
@given(st.data())
def test_chat_walker_finds_what_a_full_decode_finds(data: st.DataObject) -> None:
    with socket_pair() as (ours, theirs):
        check_chat_stream(data, ours, theirs)


def check_chat_stream(data: st.DataObject, ours: socket.socket, theirs: socket.socket) -> None:
    events = data.draw(chat_streams())
    stream = b"".join(encoded(event) for event in events)
    reads = chunks(stream, data.draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    client, server = counting_client(ours)
    reference = reference_conn()
    for read in reads:
        reference.receive_data(read)
        expected = []
        while (event := reference.next_event()) is not NEED_DATA:
            if isinstance(event, ChatMessage):
                expected.append(int(event.text[:20]) % MODULUS)
        assert kept(client.deliveries(read)) == sorted(expected)
        assert not client.failure
    assert client.pending == b""

    pings = [event.nonce for event in events if isinstance(event, Ping)]
    refusals = [event for event in events if isinstance(event, ChatRejected)]
    written = read_available(theirs)
    if written:
        server.receive_data(written)
    pongs = []
    while (event := server.next_event()) is not NEED_DATA:
        assert isinstance(event, Pong)
        pongs.append(event.nonce)
    assert pongs == pings
    assert client.refused == len(refusals)
    if refusals:
        assert client.refusal == f"{refusals[-1].reason}: {refusals[-1].message}"


def test_a_read_of_equal_frames_is_one_set_of_columns() -> None:
    with socket_pair() as (ours, _):
        client, _ = counting_client(ours)
        sent = [10**19 + i * 977 for i in range(300)]
        frames = [
            prepare(ChatMessage(i, i, i, NAMES[i % 4], None, text_with(stamp))).data
            for i, stamp in enumerate(sent)
        ]
        assert len(set(map(len, frames))) == 1
        client.deliveries(frames[0])  # the walker learns the frame
        stream = b"".join(frames[1:])
        pieces = client.deliveries(stream[:-7])
        assert len(pieces) == 1 and len(pieces[0]) == KEPT_DIGITS  # one column per digit
        assert kept(pieces) == sorted(stamp % MODULUS for stamp in sent[1:-1])
        assert kept(client.deliveries(stream[-7:])) == [sent[-1] % MODULUS]


@SETTINGS
@given(client_id=st.integers(0, 2**64 - 2), text=st.text(max_size=300))
def test_chat_frames_are_what_the_connection_sends(client_id: int, text: str) -> None:
    with socket_pair() as (ours, _):
        client, _ = counting_client(ours)
        client.client_id = client_id
        frame = client.chat(text)
        assert client.client_id == client_id + 1
        assert frame == client.conn.send(SendChat(text, None, client_id + 1))


@pytest.mark.parametrize("ending", [Goodbye("bye"), Error("internal", "broken")])
def test_chat_walker_notices_the_end(ending: Event) -> None:
    with socket_pair() as (ours, _):
        client, _ = counting_client(ours)
        message = prepare(ChatMessage(1, 1, 1, NAMES[0], None, text_with(5))).data
        assert kept(client.deliveries(message * 3 + encode_event(ending))) == [5, 5, 5]
        assert client.failure and type(ending).__name__ in client.failure


@SETTINGS
@given(sent=st.integers(0, 2**63 - 1), latency=st.integers(-500 * 10**9, 500 * 10**9 - 1))
def test_kept_digits_give_the_exact_latency(sent: int, latency: int) -> None:
    digits = f"{sent:020d}"[-KEPT_DIGITS:].encode()
    columns = tuple(digits[j : j + 1] for j in range(KEPT_DIGITS))
    assert latencies_ns(sent + latency, digits) == [latency]
    assert latencies_ns(sent + latency, columns) == [latency]


# -- IRC -----------------------------------------------------------------------------


def privmsg(nick: str, text: str) -> bytes:
    """A channel message as ngircd relays it."""
    return f":{nick}!~{nick}@127.0.0.1 PRIVMSG #bench :{text}\r\n".encode()


@st.composite
def irc_streams(draw: st.DrawFn) -> list[bytes]:
    lines: list[bytes] = []
    odd_lines = st.one_of(
        st.just(b"PING :bench.irc.local\r\n"),
        st.builds(privmsg, st.sampled_from(["bob", "bench50_7"]), stamps.map(text_with)),
    )
    for _ in range(draw(st.integers(1, 6))):
        lines += [
            privmsg(draw(st.sampled_from(NAMES)), text_with(draw(stamps), i))
            for i in range(draw(st.integers(0, 40)))
        ]
        lines += draw(st.lists(odd_lines, max_size=2))
    return lines


def irc_reference(complete: bytes) -> list[int]:
    """Stamps of the channel messages among ``complete`` lines, by a plain parse."""
    found = []
    for line in complete.split(b"\r\n"):
        parts = line.split(b" ", 3)
        if len(parts) == 4 and parts[0].startswith(b":") and parts[1:3] == [b"PRIVMSG", b"#bench"]:
            found.append(int(parts[3][1:21]) % MODULUS)
    return sorted(found)


@SETTINGS
@given(st.data())
def test_irc_parser_finds_what_a_line_parse_finds(data: st.DataObject) -> None:
    with socket_pair() as (ours, theirs):
        check_irc_stream(data, ours, theirs)


def check_irc_stream(data: st.DataObject, ours: socket.socket, theirs: socket.socket) -> None:
    lines = data.draw(irc_streams())
    stream = b"".join(lines)
    client = IrcClient(0, NAMES[0])
    client.sock = ours
    buffered = b""
    for read in chunks(stream, data.draw(st.lists(st.integers(0, len(stream)), max_size=12))):
        buffered += read
        cut = buffered.rfind(b"\n") + 1
        complete, buffered = buffered[:cut], buffered[cut:]
        assert kept(client.deliveries(read)) == irc_reference(complete)
        assert not client.failure
    assert client.rest == b""
    pings = sum(line.startswith(b"PING ") for line in lines)
    assert read_available(theirs) == b"PONG :bench.irc.local\r\n" * pings


def test_irc_parser_notices_an_error() -> None:
    with socket_pair() as (ours, _):
        client = IrcClient(0, NAMES[0])
        client.sock = ours
        line = privmsg(NAMES[1], text_with(7))
        assert kept(client.deliveries(line * 20)) == [7] * 20
        assert kept(client.deliveries(line * 2 + b"ERROR :Closing connection\r\n")) == [7, 7]
        assert client.failure == "ERROR :Closing connection"
