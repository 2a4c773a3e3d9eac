"""AsyncSession against a real in-process server over real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import os
import signal
import socket
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import pytest

from chatproto import ChatMessage, FileAvailable, ParticipantState, Presence, PresenceState
from chatproto.session import (
    AsyncSession,
    ConnectionLost,
    Disconnected,
    FileRefused,
    LoginRefused,
    MessageRefused,
    ServerUnreachable,
    partial_path,
)
from chatproto.session.tls import NO_TLS
from support import running_server

T = TypeVar("T")
TIMEOUT = 10.0


def run(coro: Awaitable[T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, 60)

    return asyncio.run(bounded())


async def connect(server, name: str, password: str = "pw", **kwargs) -> AsyncSession:
    """Log in to a plain-TCP test server (TLS has its own tests in tests/security)."""
    kwargs.setdefault("tls", NO_TLS)
    return await AsyncSession.connect(server.host, server.port, name, password, **kwargs)


async def next_of(session: AsyncSession, kind: type[T]) -> T:
    while True:
        event = await asyncio.wait_for(session.next_event(), TIMEOUT)
        if isinstance(event, kind):
            return event
        assert not isinstance(event, Disconnected), event


def test_login_chat_and_presence(server) -> None:
    async def scenario() -> None:
        async with await connect(server, "개구리") as frog:
            assert frog.username == "개구리"
            assert frog.new_account and not frog.rejoined
            assert frog.participants == {"개구리": ParticipantState.ACTIVE}
            async with await connect(server, "toad") as toad:
                joined = await next_of(frog, Presence)
                assert joined == Presence("개구리", PresenceState.JOINED, 1)
                joined = await next_of(frog, Presence)
                assert joined == Presence("toad", PresenceState.JOINED, 2)
                assert set(frog.participants) == {"개구리", "toad"}

                delivered = await frog.send_chat("안녕 🐸\n둘째 줄")
                assert delivered.sender == "개구리" and delivered.text == "안녕 🐸\n둘째 줄"
                assert frog.last_seq == delivered.seq
                seen = await next_of(toad, ChatMessage)
                assert seen == delivered

                direct = await toad.send_chat("psst", to="개구리")
                assert direct.recipient == "개구리"
                assert await next_of(frog, ChatMessage) == delivered  # own copy first
                assert await next_of(frog, ChatMessage) == direct

                with pytest.raises(MessageRefused) as refused:
                    await frog.send_chat("hello?", to="nobody")
                assert refused.value.code == "unknown-user"
                with pytest.raises(MessageRefused) as invalid:
                    await frog.send_chat("x" * 20_000)
                assert invalid.value.code == "invalid-message"
            left = await next_of(frog, Presence)
            assert (left.user, left.state) == ("toad", PresenceState.LEFT)
            assert "toad" not in frog.participants
        last = await frog.next_event()
        while not isinstance(last, Disconnected):
            last = await frog.next_event()
        assert last.by_us and last.clean and last.code == "closed"
        with pytest.raises(ConnectionLost):
            await frog.next_event()

    run(scenario())


def test_login_refusals_are_typed(server) -> None:
    async def scenario() -> None:
        async with await connect(server, "frog"):
            with pytest.raises(LoginRefused) as active:
                await connect(server, "frog")
            assert active.value.code == "already-active"
        with pytest.raises(LoginRefused) as bad:
            await connect(server, "frog", "wrong")
        assert bad.value.code == "bad-password"
        with pytest.raises(LoginRefused) as invalid:
            await connect(server, "no spaces")
        assert invalid.value.code == "invalid-name"

    run(scenario())


def test_unreachable_server_is_typed() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ServerUnreachable) as error:
        run(AsyncSession.connect("127.0.0.1", port, "frog", "pw", tls=NO_TLS))
    assert error.value.code == "unreachable"
    assert "\n" not in str(error.value)


def test_silent_server_times_out_login() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(ServerUnreachable) as error:
            run(AsyncSession.connect("127.0.0.1", port, "frog", "pw", timeout=0.5,
                                    tls=NO_TLS))
        assert "did not answer" in str(error.value)


def test_file_upload_download_and_safe_names(server, tmp_path: Path) -> None:
    content = os.urandom(700_000)
    source = tmp_path / "사진.jpg"
    source.write_bytes(content)
    folder = tmp_path / "in"

    async def scenario() -> None:
        async with await connect(server, "frog") as frog, await connect(server, "toad") as toad:
            progress: list[tuple[int, int]] = []
            announced = await frog.send_file(source, progress=lambda d, t: progress.append((d, t)))
            assert announced.name == "사진.jpg" and announced.size == len(content)
            assert announced.sha256 == hashlib.sha256(content).digest()
            assert progress[0] == (0, len(content)) and progress[-1] == (len(content),) * 2
            assert all(a[0] < b[0] for a, b in itertools.pairwise(progress))

            seen = await next_of(toad, FileAvailable)
            assert seen.file_id == announced.file_id
            first = await toad.download(seen, folder)
            second = await toad.download(seen, folder)
            assert first == folder / "사진.jpg" and second == folder / "사진 (2).jpg"
            assert first.read_bytes() == content and second.read_bytes() == content

            empty = tmp_path / "empty"
            empty.write_bytes(b"")
            nothing = await frog.send_file(empty)
            assert (await toad.download(nothing, folder)).read_bytes() == b""

            with pytest.raises(FileRefused) as missing:
                await frog.send_file(tmp_path / "nope")
            assert missing.value.code == "unreadable"

    run(scenario())


def test_hostile_announced_name_is_sanitised(server, tmp_path: Path) -> None:
    from chatproto import FileAccepted, FileChunk, FileEnd, FileOffer
    from support import RawClient

    body = b"pwned"
    folder = tmp_path / "in"

    async def scenario() -> None:
        async with await connect(server, "toad") as toad:
            def upload() -> None:
                with RawClient.login_as(server, "mallory", "pw") as raw:
                    raw.send(FileOffer(1, "../../evil.sh", 5, hashlib.sha256(body).digest()))
                    raw.wait_for(FileAccepted)
                    raw.send(FileChunk(1, 0, body))
                    raw.send(FileEnd(1))
                    raw.wait_for(FileAvailable)

            await asyncio.to_thread(upload)
            seen = await next_of(toad, FileAvailable)
            saved = await toad.download(seen, folder)
            assert saved.parent == folder and saved.read_bytes() == body
            assert not (tmp_path / "evil.sh").exists()

    run(scenario())


def test_download_resumes_a_partial_file(server, tmp_path: Path) -> None:
    content = os.urandom(400_000)
    source = tmp_path / "big.bin"
    source.write_bytes(content)
    folder = tmp_path / "in"
    folder.mkdir()

    async def scenario() -> None:
        async with await connect(server, "frog") as frog:
            announced = await frog.send_file(source)
            part = partial_path(folder, announced.name, announced.sha256)
            part.write_bytes(content[:123_456])
            progress: list[int] = []
            saved = await frog.download(announced, folder, lambda d, t: progress.append(d))
            assert progress[0] == 123_456  # resumed, not restarted
            assert saved.read_bytes() == content and not part.exists()

            # A .part file with wrong bytes is detected and fetched again whole.
            part.write_bytes(b"garbage" * 1000)
            progress.clear()
            saved = await frog.download(announced, folder, lambda d, t: progress.append(d))
            assert saved.read_bytes() == content
            assert 0 in progress

    run(scenario())


def test_replay_after_last_seen_seq(server) -> None:
    async def scenario() -> None:
        async with await connect(server, "frog") as frog:
            await frog.send_chat("one")
            seen = frog.last_seq
        async with await connect(server, "toad") as toad:
            await toad.send_chat("two")
            await toad.send_chat("three")
        async with await connect(server, "frog", last_seen_seq=seen) as frog:
            assert not frog.new_account
            texts = [(await next_of(frog, ChatMessage)).text for _ in range(2)]
            assert texts == ["two", "three"]

    run(scenario())


def test_server_shutdown_ends_the_stream_and_fails_waiters(server_proc) -> None:
    async def scenario() -> None:
        frog = await connect(server_proc, "frog")
        await next_of(frog, Presence)
        server_proc.signal(signal.SIGTERM)
        final = await next_of(frog, Disconnected)
        assert not final.by_us and final.clean and final.code == "goodbye"
        with pytest.raises(ConnectionLost):
            await frog.send_chat("anyone?")
        await frog.close()

    run(scenario())


def test_killed_server_is_a_lost_connection(server_proc) -> None:
    async def scenario() -> None:
        frog = await connect(server_proc, "frog")
        await next_of(frog, Presence)
        pending = asyncio.ensure_future(frog.send_chat("x" * 10))
        await asyncio.sleep(0)
        server_proc.proc.kill()
        final = await next_of(frog, Disconnected)
        assert not final.clean and final.code == "connection-lost"
        # Delivered before the kill, or failed with the typed error.
        with contextlib.suppress(ConnectionLost):
            await pending
        await frog.close()

    run(scenario())


def test_heartbeats_keep_an_idle_session_alive(tmp_path: Path) -> None:
    async def scenario(server) -> None:
        async with await connect(server, "frog", heartbeat_interval=0.3,
                                 heartbeat_timeout=2.0) as frog:
            await next_of(frog, Presence)
            # Several heartbeat periods of both sides pass with nothing to say
            # (timeouts of a few periods: a loaded machine may stall a while).
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(frog.next_event(), 3.0)
            assert frog.connected
            await frog.send_chat("still here")
        assert server.participants() == {}

    with running_server(tmp_path / "data", heartbeat_interval=0.3,
                        heartbeat_timeout=1.5) as server:
        run(scenario(server))


def test_a_dead_server_is_noticed_by_heartbeat() -> None:
    """A peer that completes the login and then never speaks again."""
    from chatproto import NEED_DATA, Hello, Login, LoginAccepted, ServerConnection

    async def silent_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = ServerConnection()
        while True:
            event = conn.next_event()
            if event is NEED_DATA:
                conn.receive_data(await reader.read(65536))
            elif isinstance(event, Hello):
                writer.write(conn.send(conn.hello()))
            elif isinstance(event, Login):
                writer.write(conn.send(LoginAccepted(event.username, True, False, 0)))
                break
        try:
            await asyncio.sleep(30)  # stays silent: no pongs, no pings
        finally:
            writer.close()

    async def scenario() -> None:
        server = await asyncio.start_server(silent_server, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            session = await AsyncSession.connect("127.0.0.1", port, "frog", "pw",
                                                 heartbeat_interval=0.1, heartbeat_timeout=0.3,
                                                 tls=NO_TLS)
            final = await next_of(session, Disconnected)
            assert final.code == "timeout" and not final.clean
            await session.close()
            server.close()

    run(scenario())


def test_cancelled_download_can_be_resumed_at_once(server, tmp_path: Path) -> None:
    content = os.urandom(3_000_000)
    source = tmp_path / "big.bin"
    source.write_bytes(content)
    folder = tmp_path / "in"

    async def scenario() -> None:
        async with await connect(server, "frog") as frog:
            announced = await frog.send_file(source)
            started = asyncio.Event()

            def progress(done: int, total: int) -> None:
                if done > 0:
                    started.set()

            task = asyncio.ensure_future(frog.download(announced, folder, progress))
            await asyncio.wait_for(started.wait(), TIMEOUT)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            part = partial_path(folder, announced.name, announced.sha256)
            assert 0 < part.stat().st_size < len(content)
            offsets: list[int] = []
            saved = await frog.download(announced, folder, lambda d, t: offsets.append(d))
            assert offsets[0] > 0
            assert saved.read_bytes() == content
            assert (await frog.send_chat("still fine")).text == "still fine"

    run(scenario())


def test_a_failing_progress_callback_fails_only_its_download(server, tmp_path: Path) -> None:
    source = tmp_path / "f.bin"
    source.write_bytes(os.urandom(200_000))

    def broken(done: int, total: int) -> None:
        if done > 0:
            raise RuntimeError("callback bug")

    async def scenario() -> None:
        async with await connect(server, "frog") as frog:
            announced = await frog.send_file(source)
            with pytest.raises(RuntimeError):
                await frog.download(announced, tmp_path / "in", broken)
            saved = await frog.download(announced, tmp_path / "in")
            assert saved.read_bytes() == source.read_bytes()

    run(scenario())


def test_a_program_that_stops_reading_events_is_cut_off_not_hung(server) -> None:
    async def scenario() -> None:
        lazy = await connect(server, "lazy", max_queued_events=3,
                             heartbeat_interval=0.2, heartbeat_timeout=0.6)
        async with await connect(server, "chatty") as chatty:
            for n in range(10):
                await chatty.send_chat(f"message {n}")
            deadline = asyncio.get_running_loop().time() + TIMEOUT
            while lazy.connected:  # its reader is parked on the full queue
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.02)
        events = []
        while not events or not isinstance(events[-1], Disconnected):
            events.append(await asyncio.wait_for(lazy.next_event(), TIMEOUT))
        assert len(events) <= 5  # the bounded queue plus the final notice
        assert events[-1].code == "timeout"
        await lazy.close()

    run(scenario())


def test_a_server_breaking_the_protocol_gets_an_error_frame() -> None:
    from chatproto import NEED_DATA, Error, Hello, Login, LoginAccepted, ServerConnection

    received: list[object] = []
    got_error = asyncio.Event()

    async def broken_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = ServerConnection()
        logged_in = False
        while True:
            event = conn.next_event()
            if event is NEED_DATA:
                data = await reader.read(65536)
                conn.receive_data(data)
                if not data:
                    break
            elif isinstance(event, Hello):
                writer.write(conn.send(conn.hello()))
            elif isinstance(event, Login) and not logged_in:
                logged_in = True
                writer.write(conn.send(LoginAccepted(event.username, True, False, 0)))
                writer.write(b"\xee\x00\x00\x00\x01?")  # a frame of an unknown type
            else:
                received.append(event)
                if isinstance(event, Error):
                    break
        writer.close()
        await writer.wait_closed()
        got_error.set()

    async def scenario() -> None:
        server = await asyncio.start_server(broken_server, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            session = await AsyncSession.connect("127.0.0.1", port, "frog", "pw", tls=NO_TLS)
            final = await next_of(session, Disconnected)
            assert final.code == "protocol-error" and not final.clean
            with pytest.raises(ConnectionLost):
                await session.send_chat("hi")
            await session.close()
            await asyncio.wait_for(got_error.wait(), TIMEOUT)
        errors = [event for event in received if isinstance(event, Error)]
        assert errors and errors[0].code == "unknown-type"

    run(scenario())
