"""Three bare WebSocket servers for ``web_stack.py``: one workload, three stacks.

    python benchmarks/loadgen/ws_echo.py aiohttp|sansio|server [--tls DIR]

Each accepts WebSockets at any path and relays every binary message it
receives to every open WebSocket (the sender too), unread: the smallest
server of the browser client's fan-out. It prints ``listening on
127.0.0.1:PORT`` and serves until SIGTERM.

- ``aiohttp``: aiohttp's ``web.WebSocketResponse``, as its documentation
  writes a handler (a task per connection, ``send_bytes`` per message and
  peer); TLS by asyncio's own SSL transport.
- ``sansio``: the ``websockets`` library's sans-IO ``ServerProtocol`` inside an
  ``asyncio.Protocol``, both ways (the library parses what comes in and makes
  every frame out, ``send_binary`` per message and peer); one write per peer
  per loop turn; TLS by asyncio's SSL transport.
- ``server``: chat-server's own path without the chat: its ``WebFront`` (and
  TLS termination, ``ServerTLS``), the same handshake and parsing as
  ``WebSocketClientProtocol`` (``ServerProtocol``), and its
  ``WebSocketWriter``, handed the turn's relayed frames as one bytes object
  per turn, as the outbox hands it a broadcast log.

With ``--tls DIR`` each serves TLS with the certificate in DIR (as
chat-server's data dir holds it). Every server tunes glibc's allocator as
chat-server does at start (``chatserver.memory``), so that memory compares.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from chatproto.limits import DEFAULT_MAX_FRAME_SIZE, HEADER_SIZE
from chatserver.memory import tune_allocator

HOST = "127.0.0.1"
#: As chat-server's (``chatserver.web.websocket.MAX_MESSAGE``), which is not
#: imported here: each stack imports what it uses, for its RSS at rest.
MAX_MESSAGE = HEADER_SIZE + DEFAULT_MAX_FRAME_SIZE


class Relay:
    """The open connections, and this turn's relayed messages."""

    def __init__(self) -> None:
        self.peers: dict[Any, None] = {}  # insertion-ordered set
        self.turn: list[bytes] = []
        self._scheduled = False

    def relay(self, payload: bytes, end_turn: Callable[[list[bytes]], None]) -> None:
        self.turn.append(payload)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._end, end_turn)

    def _end(self, end_turn: Callable[[list[bytes]], None]) -> None:
        self._scheduled = False
        turn, self.turn = self.turn, []
        end_turn(turn)


RELAY = Relay()


# -- (a) aiohttp --------------------------------------------------------------------------


async def serve_aiohttp(context: ssl.SSLContext | None) -> asyncio.Server:
    from aiohttp import WSMsgType, web

    peers: set[web.WebSocketResponse] = set()

    async def websocket(request: web.Request) -> web.WebSocketResponse:
        # No permessage-deflate (the browser offers it): none of the stacks compresses.
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE, compress=False)
        await ws.prepare(request)
        peers.add(ws)
        try:
            async for message in ws:
                if message.type is WSMsgType.BINARY:
                    for peer in list(peers):
                        with contextlib.suppress(ConnectionError):
                            await peer.send_bytes(message.data)
        finally:
            peers.discard(ws)
        return ws

    app = web.Application()
    app.router.add_get("/{tail:.*}", websocket)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0, ssl_context=context, backlog=1024)
    await site.start()
    listening = site._server  # aiohttp keeps the asyncio server here
    assert isinstance(listening, asyncio.Server)
    return listening


# -- (b) websockets' sans-IO layer both ways ------------------------------------------------


class SansIO(asyncio.Protocol):
    def __init__(self) -> None:
        self.ws = ServerProtocol(max_size=MAX_MESSAGE)
        self.transport: asyncio.Transport | None = None
        self.open = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        ws = self.ws
        ws.receive_data(data)
        for event in ws.events_received():
            if isinstance(event, Request):
                ws.send_response(ws.accept(event))
                self.open = True
                RELAY.peers[self] = None
            elif isinstance(event, Frame) and event.opcode is Opcode.BINARY:
                RELAY.relay(bytes(event.data), SansIO.end_turn)
        self.flush()

    @staticmethod
    def end_turn(turn: list[bytes]) -> None:
        for peer in RELAY.peers:
            for payload in turn:
                peer.ws.send_binary(payload)
            peer.flush()

    def flush(self) -> None:
        assert self.transport is not None
        out = self.ws.data_to_send()
        if out:
            self.transport.write(b"".join(out))
            if not out[-1]:  # b"": the library is done with the connection
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        RELAY.peers.pop(self, None)


async def serve_sansio(context: ssl.SSLContext | None) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    return await loop.create_server(SansIO, HOST, 0, ssl=context, backlog=1024)


# -- (c) chat-server's own path ----------------------------------------------------------


class ServerPath(asyncio.Protocol):
    """``WebSocketClientProtocol``'s framing with a relay in place of the chat."""

    def __init__(self) -> None:
        self.ws = ServerProtocol(max_size=MAX_MESSAGE)
        self.transport: asyncio.Transport | None = None
        self.writer: Any = None  # chatserver.web.websocket.WebSocketWriter, once open

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        ws = self.ws
        ws.receive_data(data)
        if self.writer is None:
            events = ws.events_received()
            if not events or not isinstance(events[0], Request):
                return
            response = ws.accept(events[0])
            if "Server" in response.headers:
                del response.headers["Server"]
            ws.send_response(response)
            self._control()
            assert self.transport is not None
            self.writer = _writer_class()(self.transport)
            RELAY.peers[self] = None
            return
        for frame in ws.events_received():
            if isinstance(frame, Frame) and frame.opcode is Opcode.BINARY and frame.fin:
                RELAY.relay(bytes(frame.data), ServerPath.end_turn)
        self._control()

    @staticmethod
    def end_turn(turn: list[bytes]) -> None:
        log = b"".join(turn)  # one object for all: framed once (see websocket._LastFraming)
        for peer in RELAY.peers:
            if peer.writer is not None:
                peer.writer.write(log)

    def _control(self) -> None:
        assert self.transport is not None
        for data in self.ws.data_to_send():
            if data:
                self.transport.write(data)
        if self.ws.state is State.CLOSING or self.ws.state is State.CLOSED:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        RELAY.peers.pop(self, None)


def _writer_class() -> Any:
    from chatserver.web.websocket import WebSocketWriter

    return WebSocketWriter


async def serve_server_path(context: ssl.SSLContext | None) -> asyncio.Server:
    from chatserver.tls_transport import TLSEndpoint
    from chatserver.web.front import WebFront

    endpoint = TLSEndpoint(context) if context is not None else None

    def dispatch(head: bytes) -> asyncio.BaseProtocol | None:
        return ServerPath()

    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: WebFront(dispatch, endpoint, 600.0), HOST, 0, backlog=1024
    )


STACKS = {"aiohttp": serve_aiohttp, "sansio": serve_sansio, "server": serve_server_path}


async def main(kind: str, tls_dir: str | None) -> None:
    context = None
    if tls_dir is not None:
        from chatserver.tls import resolve_certificate, server_context

        context = server_context(resolve_certificate(Path(tls_dir)))
    server = await STACKS[kind](context)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on {HOST}:{port} ({kind}, {'TLS' if context else 'plain'})", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=sorted(STACKS))
    parser.add_argument("--tls", metavar="DIR")
    options = parser.parse_args()
    tune_allocator()
    asyncio.run(main(options.kind, options.tls))
