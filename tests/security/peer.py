"""A raw protocol peer for the fault and abuse tests: ``ClientConnection`` on a
blocking socket that may be bound to a chosen source address (127.0.0.2 acts
as a second machine), reading in explicit steps so a test controls its pace.

Why not ``support.RawClient``: that one reads whenever a test waits and keeps
every event; these tests flood, kill and restart servers, and need each read
as a step of their own (``read``, ``events``) and events they pass over gone
once handled, or a long run would keep every message it ever saw."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

from chatproto import (
    NEED_DATA,
    ClientConnection,
    ConnectionClosed,
    Event,
    Hello,
    Login,
    LoginAccepted,
    LoginRejected,
    Ping,
    Pong,
)

TIMEOUT = 10.0


class PeerClosed(Exception):
    """The server closed the connection (or reset it)."""


class Peer:
    def __init__(
        self, address: tuple[str, int], source: str | None = None, timeout: float = TIMEOUT
    ) -> None:
        self.sock = socket.create_connection(
            address, timeout=timeout, source_address=(source, 0) if source else None
        )
        self.conn = ClientConnection()
        self.closed = False
        self.backlog: list[Event] = []

    def send(self, event: Event) -> None:
        self.sock.sendall(self.conn.send(event))

    def read(self, timeout: float = TIMEOUT) -> list[Event]:
        """The events of one read; ``[]`` on timeout; raises ``PeerClosed`` at the end."""
        if self.closed:
            raise PeerClosed
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(262_144)
        except TimeoutError:
            return []
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        self.conn.receive_data(data)
        events: list[Event] = []
        while (event := self.conn.next_event()) is not NEED_DATA:
            assert isinstance(event, Event)
            if isinstance(event, ConnectionClosed):
                self.closed = True
                break
            if isinstance(event, Ping):
                self.send(Pong(event.nonce))
                continue
            events.append(event)
        if self.closed and not events:
            raise PeerClosed
        return events

    def events(self, timeout: float = TIMEOUT) -> Iterator[Event]:
        """Events as they come, until ``timeout`` passes without any."""
        while True:
            batch = self.read(timeout)
            if not batch:
                return
            yield from batch

    def wait_for(self, kind: type[Event] | tuple[type[Event], ...],
                 timeout: float = TIMEOUT, match: Callable[[Event], bool] | None = None
                 ) -> Event:
        """The first event of ``kind`` (that ``match`` accepts), from ``backlog``
        first; the events passed over go to ``backlog``."""
        def wanted(event: Event) -> bool:
            return isinstance(event, kind) and (match is None or match(event))

        for index, event in enumerate(self.backlog):
            if wanted(event):
                return self.backlog.pop(index)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for index, event in enumerate(batch := self.read(deadline - time.monotonic())):
                if wanted(event):
                    self.backlog.extend(batch[index + 1 :])
                    return event
                self.backlog.append(event)
        raise TimeoutError(f"no {kind} within {timeout}s")

    def login(self, name: str, password: str, last_seen_seq: int = 0
              ) -> LoginAccepted | LoginRejected:
        self.send(self.conn.hello("security-test"))
        self.wait_for(Hello)
        self.send(Login(name, password, last_seen_seq))
        reply = self.wait_for((LoginAccepted, LoginRejected))
        assert isinstance(reply, LoginAccepted | LoginRejected)
        return reply

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Peer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
