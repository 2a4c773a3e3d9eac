"""Helpers shared by the protocol tests: frame decoding, handshakes, draining."""

from __future__ import annotations

from collections.abc import Iterable

from chatproto import (
    NEED_DATA,
    ClientConnection,
    Connection,
    Login,
    LoginAccepted,
    ServerConnection,
)
from chatproto import events as ev
from chatproto._codec import decode_payload
from chatproto.limits import HEADER_SIZE
from chatproto.wire import HEADER, LAYOUT_BY_CODE


def decode_frame(frame: bytes) -> ev.Event:
    """Decode exactly one whole frame with no connection state involved."""
    type_code, length = HEADER.unpack_from(frame)
    assert len(frame) == HEADER_SIZE + length, "not exactly one frame"
    return decode_payload(LAYOUT_BY_CODE[type_code], frame[HEADER_SIZE:])


def drain(conn: Connection) -> list[ev.Event]:
    """Every event ``conn`` can produce from what it has received so far."""
    out: list[ev.Event] = []
    while True:
        event = conn.next_event()
        if event is NEED_DATA:
            return out
        assert isinstance(event, ev.Event)
        out.append(event)
        if isinstance(event, ev.ConnectionClosed):
            return out


def feed(conn: Connection, pieces: Iterable[bytes]) -> list[ev.Event]:
    """Feed ``pieces`` one by one, draining events after each (as an adapter does)."""
    out: list[ev.Event] = []
    for piece in pieces:
        conn.receive_data(piece)
        out += drain(conn)
    return out


def transmit(sender: Connection, receiver: Connection, event: ev.Event) -> ev.Event:
    """Send ``event`` and return what comes out of the other side (exactly one event)."""
    receiver.receive_data(sender.send(event))
    received = drain(receiver)
    assert len(received) == 1, received
    return received[0]


def logged_in_pair(username: str = "개구리") -> tuple[ClientConnection, ServerConnection]:
    """A client and a server that have exchanged Hellos and a successful login."""
    client, server = ClientConnection(), ServerConnection()
    transmit(client, server, client.hello())
    transmit(server, client, server.hello())
    transmit(client, server, Login(username, "secret"))
    transmit(server, client, LoginAccepted(username, True, False, 0))
    return client, server


def greeted_pair(username: str = "개구리") -> tuple[ClientConnection, ServerConnection]:
    """A client that has sent Hello and Login, and a server that has read them."""
    client, server = ClientConnection(), ServerConnection()
    server.receive_data(client.send(client.hello()) + client.send(Login(username, "pw")))
    assert [type(e) for e in drain(server)] == [ev.Hello, Login]
    return client, server


def login_reply(server: ServerConnection, username: str = "개구리") -> bytes:
    """The server's side of a successful handshake, as bytes."""
    return server.send(server.hello()) + server.send(LoginAccepted(username, False, True, 7))
