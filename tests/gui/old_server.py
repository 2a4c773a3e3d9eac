"""A server of protocol version 3 (before rooms), scripted on the real core.

No real server of that version exists any more in this tree, so this one
speaks the server side with ``chatproto.ServerConnection`` over a real
loopback socket: every frame passes the real codec and both state machines,
which refuse any room frame on a version 3 connection. It logs everyone in
and delivers each chat message to everyone (or to its one recipient) as a
version 3 server did; it records every request it was sent.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from chatproto import (
    NEED_DATA,
    ChatMessage,
    Event,
    Hello,
    Login,
    LoginAccepted,
    Participant,
    SendChat,
    ServerConnection,
    State,
)

VERSION = 3


class OldServer:
    def __init__(self) -> None:
        self.seen: list[Event] = []
        self.port = 0
        self.host = "127.0.0.1"
        self._clients: dict[str, tuple[ServerConnection, asyncio.StreamWriter]] = {}
        self._seqs = itertools.count(1)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = ServerConnection()
        name = ""
        try:
            while True:
                event = conn.next_event()
                if event is NEED_DATA:
                    data = await reader.read(65536)
                    if not data:
                        break
                    conn.receive_data(data)
                    continue
                assert isinstance(event, Event)
                self.seen.append(event)
                if isinstance(event, Hello):
                    ours = conn.hello("old-server")
                    writer.write(conn.send(Hello(VERSION, ours.max_frame_size, "old-server")))
                elif isinstance(event, Login):
                    name = event.username
                    self._clients[name] = (conn, writer)
                    people = tuple(Participant(n) for n in sorted(self._clients))
                    writer.write(conn.send(LoginAccepted(name, True, False, 0, people)))
                elif isinstance(event, SendChat):
                    message = ChatMessage(next(self._seqs), 1_700_000_000_000,
                                          0, name, event.recipient, event.text)
                    for user, (peer, out) in list(self._clients.items()):
                        if event.recipient in (None, user) or user == name:
                            echo = message if user != name else ChatMessage(
                                message.seq, message.timestamp_ms, event.client_id, name,
                                event.recipient, event.text)
                            out.write(peer.send(echo))
                if conn.their_state in (State.CLOSED, State.ERROR):
                    break
        finally:
            self._clients.pop(name, None)
            writer.close()


@contextmanager
def old_server() -> Iterator[OldServer]:
    script = OldServer()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> asyncio.Server:
        return await asyncio.start_server(script.serve, "127.0.0.1", 0)

    server = asyncio.run_coroutine_threadsafe(start(), loop).result(20)
    script.port = server.sockets[0].getsockname()[1]
    try:
        yield script
    finally:
        async def stop() -> None:
            server.close()
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(20)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(20)
        loop.close()
