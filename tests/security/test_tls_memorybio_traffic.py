"""Traffic over the server's own TLS (``chatserver.tls_transport``): the
largest message, a file both ways, many connections at once, a refusal's
Error frame, backpressure counted in encrypted bytes, and the shared memory
BIOs left empty between calls."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from contextlib import suppress
from pathlib import Path

from chatproto import (
    NEED_DATA,
    ChatMessage,
    ClientConnection,
    Error,
    ErrorCode,
    FetchFile,
    FileAvailable,
    FileChunk,
    FileEnd,
    Login,
    LoginAccepted,
    SendChat,
)
from chatproto.limits import MAX_TEXT_BYTES
from chatproto.session import ClientTLS, PinStore, Session
from support import Closed, RawClient, RunningServer, fetch, presence_of, running_server, upload

from .tls_clients import insecure, tls_raw_client


def _endpoint_idle(server: RunningServer) -> bool:
    """Both shared BIOs are empty, as every call into an SSLObject leaves them."""
    from chatserver.tls_client import TLSClientProtocol

    clients = server.server.ctx.registry.clients  # type: ignore[union-attr]
    endpoints = {c._endpoint for c in clients if isinstance(c, TLSClientProtocol)}
    return bool(endpoints) and all(endpoint.idle for endpoint in endpoints)


def test_the_largest_message_and_a_file_both_ways(tmp_path: Path) -> None:
    with running_server(tmp_path / "d", tls=True, flood_rate=0) as server:
        alice = tls_raw_client(server.address, "alice")
        bob = tls_raw_client(server.address, "bob")
        text = ("가" * MAX_TEXT_BYTES)[: MAX_TEXT_BYTES // 3]  # 16 KiB of UTF-8: > one record
        alice.send(SendChat(text))
        assert bob.wait_for(ChatMessage).text == text
        assert alice.wait_for(ChatMessage).text == text
        data = os.urandom(3 * 1024 * 1024 + 17)
        announced = upload(alice, data, "big.bin")
        assert isinstance(announced, FileAvailable)
        assert fetch(bob, announced.file_id) == data
        assert server.call(lambda: _endpoint_idle(server))


def test_the_real_session_over_the_servers_tls(tmp_path: Path) -> None:
    with running_server(tmp_path / "d", tls=True, scrypt_n=2**10) as server:
        tls = ClientTLS(pins=PinStore(tmp_path / "pins"))
        with Session.connect(server.host, server.port, "alice", "pw", tls=tls) as alice, \
                Session.connect(server.host, server.port, "bob", "pw", tls=tls) as bob:
            long = "x" * MAX_TEXT_BYTES
            assert alice.send_chat(long).text == long
            assert bob.send_chat("short").text == "short"


def test_many_tls_connections_at_once(tmp_path: Path) -> None:
    count = 150
    settings = {"max_connections_per_address": 1000, "max_registrations_per_address": 1000,
                "scrypt_n": 2**10, "flood_rate": 0}
    with running_server(tmp_path / "d", tls=True, **settings) as server:

        async def one(index: int, go: asyncio.Event, done: asyncio.Queue[int]) -> int:
            reader, writer = await asyncio.open_connection(
                *server.address, ssl=insecure(), server_hostname="127.0.0.1")
            conn = ClientConnection()
            writer.write(conn.send(conn.hello("many")) + conn.send(Login(f"u{index}", "pw")))
            seen_chat = 0
            logged_in = False
            while seen_chat == 0:
                data = await asyncio.wait_for(reader.read(65536), 30)
                assert data, f"u{index} was closed"
                conn.receive_data(data)
                while (event := conn.next_event()) is not NEED_DATA:
                    if isinstance(event, LoginAccepted):
                        logged_in = True
                        await done.put(index)
                        await go.wait()
                        if index == 0:
                            writer.write(conn.send(SendChat("to all of you")))
                    elif isinstance(event, ChatMessage):
                        seen_chat += 1
            assert logged_in
            writer.close()
            # The others' presences may cross this close_notify: OpenSSL 3's
            # SSL_shutdown then reports "application data after close notify".
            with suppress(ssl.SSLError):
                await writer.wait_closed()
            return seen_chat

        async def all_of_them() -> list[int]:
            go, done = asyncio.Event(), asyncio.Queue[int]()
            tasks = [asyncio.create_task(one(i, go, done)) for i in range(count)]
            for _ in range(count):
                await asyncio.wait_for(done.get(), 60)
            go.set()
            return await asyncio.gather(*tasks)

        assert asyncio.run(all_of_them()) == [1] * count
        server.wait_until(lambda: len(server.server.ctx.registry) == 0)  # type: ignore[union-attr]


def test_a_refused_connection_still_reads_its_error_over_tls(tmp_path: Path) -> None:
    with running_server(tmp_path / "d", tls=True, max_connections=1) as server:
        alice = tls_raw_client(server.address, "alice")
        refused = tls_raw_client(server.address)
        events = refused.wait_closed()
        assert [e.code for e in events if isinstance(e, Error)] == [ErrorCode.TOO_MANY_CONNECTIONS]
        alice.send(SendChat("still here"))
        assert alice.wait_for(ChatMessage).text == "still here"


def _stuck_tls_client(server: RunningServer, name: str) -> RawClient:
    """Logged in over TLS with tiny kernel buffers; it reads only when told."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(server.address)
    return tls_raw_client(server.address, name, sock=sock)


def _buffers_within(server: RunningServer, limit: int) -> bool:
    clients = server.server.ctx.registry.clients  # type: ignore[union-attr]
    return all(c.outbox.transport is None or c.outbox.transport.get_write_buffer_size() <= limit
               for c in clients)


def test_a_tls_client_that_stops_reading_is_dropped_by_its_encrypted_backlog(
    tmp_path: Path,
) -> None:
    limit = 256 * 1024
    with running_server(tmp_path / "d", tls=True, output_buffer_limit=limit,
                        flood_rate=0) as server:
        alice = tls_raw_client(server.address, "alice")
        stuck = _stuck_tls_client(server, "stuck")
        text = "가" * 5000
        for i in range(400):  # ~6 MB
            alice.send(SendChat(text, client_id=i))
            if i % 20 == 19:
                alice.wait_for(lambda e, i=i: isinstance(e, ChatMessage) and e.client_id == i)
        alice.wait_for(presence_of("stuck", "deactivated"))
        server.wait_until(lambda: _buffers_within(server, limit))
        stuck.close()


def test_a_slow_reader_of_a_fetch_over_tls_is_waited_for_not_dropped(tmp_path: Path) -> None:
    limit = 256 * 1024
    with running_server(tmp_path / "d", tls=True, output_buffer_limit=limit) as server:
        alice = tls_raw_client(server.address, "alice")
        data = os.urandom(4 * 1024 * 1024)
        announced = upload(alice, data, "big.bin")
        assert isinstance(announced, FileAvailable)
        slow = _stuck_tls_client(server, "slow")
        slow.send(FetchFile(announced.file_id, 0))
        received = bytearray()
        while True:
            event = slow.wait_for((FileChunk, FileEnd))
            if isinstance(event, FileEnd):
                break
            received += event.data
            if len(received) % (1024 * 1024) < 65_536:
                server.wait_until(lambda: _buffers_within(server, limit))
        assert bytes(received) == data
        try:
            slow.send(SendChat("done"))
            slow.wait_for(ChatMessage)
        except Closed:  # pragma: no cover - would mean it was dropped
            raise AssertionError("the slow fetcher was dropped") from None
        assert server.call(lambda: _endpoint_idle(server))
