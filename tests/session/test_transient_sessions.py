"""``connect(..., transient=True)``: AsyncSession and Session against a real server, and the
fallback to an ordinary login against a version 2 server.

Absence is shown by order: a listener's events come in the order the server made them, so
"no presence around the script" is the next event after the listener's own arrival being
the script's message, and the next after the script left being someone else's arrival.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import pytest

from chatproto import (
    NEED_DATA,
    ChatMessage,
    Event,
    FileAvailable,
    Goodbye,
    Hello,
    Login,
    LoginAccepted,
    ParticipantState,
    Presence,
    PresenceState,
    SendChat,
    ServerConnection,
)
from chatproto.limits import DEFAULT_MAX_FRAME_SIZE, OLDEST_PROTOCOL_VERSION, SKIP_REPLAY
from chatproto.session import (
    AsyncSession,
    Disconnected,
    FileRefused,
    LoginRefused,
    Session,
)
from chatproto.session.tls import NO_TLS
from chatserver.per_user import MAX_TRANSIENT_LOGINS_PER_USER

T = TypeVar("T")
TIMEOUT = 10.0


def run(coro: Awaitable[T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, 60)

    return asyncio.run(bounded())


async def connect(server, name: str, password: str = "pw", **kwargs) -> AsyncSession:
    kwargs.setdefault("tls", NO_TLS)
    return await AsyncSession.connect(server.host, server.port, name, password, **kwargs)


async def next_event(session: AsyncSession) -> Event:
    return await asyncio.wait_for(session.next_event(), TIMEOUT)


def test_a_transient_session_sends_without_being_a_presence(server, tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_bytes(b"from a script\n" * 1000)

    async def scenario() -> None:
        async with await connect(server, "frog") as frog:
            assert await next_event(frog) == Presence("frog", PresenceState.JOINED, 1)
            script = await connect(server, "frog", transient=True)
            assert script.transient and script.username == "frog"
            assert not script.new_account and not script.rejoined
            assert script.resume_token is None  # never issued to a transient login
            assert script.participants == {"frog": ParticipantState.ACTIVE}  # its session

            sent = await script.send_chat("hello from a script")
            assert (sent.sender, sent.text) == ("frog", "hello from a script")
            assert await next_event(frog) == sent  # nothing came before it
            announced = await script.send_file(source)
            assert announced.size == source.stat().st_size and announced.upload_id
            seen = await next_event(frog)
            assert isinstance(seen, FileAvailable) and seen.upload_id == 0
            assert seen.file_id == announced.file_id
            with pytest.raises(FileRefused) as refused:
                await script.download(announced, tmp_path / "down")
            assert refused.value.code == "transient"
            assert script.connected  # refused before anything was sent
            await script.close()
            # The script's own events: the deliveries of what it sent, nothing else.
            own = [event async for event in script.events()]
            assert own[:-1] == [sent, announced]
            assert isinstance(own[-1], Disconnected) and own[-1].by_us

            async with await connect(server, "toad"):
                arrival = await next_event(frog)
                assert arrival == Presence("toad", PresenceState.JOINED, 2)
        assert server.participants() == {}  # both left; the script never was one

    run(scenario())


def test_a_transient_session_of_a_new_user_registers_it(server) -> None:
    async def scenario() -> None:
        async with await connect(server, "watcher") as watcher:
            await next_event(watcher)  # its own arrival
            async with await connect(server, "newt", "secret", transient=True) as script:
                assert script.new_account and script.transient
                assert set(script.participants) == {"watcher"}
                await script.send_chat("first words", to="watcher")
            message = await next_event(watcher)
            assert isinstance(message, ChatMessage) and message.sender == "newt"
            # The account is real: a wrong password is refused, transient or not.
            for transient in (True, False):
                with pytest.raises(LoginRefused) as wrong:
                    await connect(server, "newt", "guess", transient=transient)
                assert wrong.value.code == "bad-password"

    run(scenario())


def test_the_blocking_session_too(server) -> None:
    with Session.connect(server.host, server.port, "frog", "pw", tls=NO_TLS) as frog:
        with Session.connect(server.host, server.port, "toad", "pw", tls=NO_TLS,
                             transient=True) as script:
            assert script.transient and not frog.transient
            assert script.participants == {"frog": ParticipantState.ACTIVE}
            message = script.send_chat("blocking and transient")
            assert isinstance(message, ChatMessage) and message.sender == "toad"
        assert set(frog.participants) == {"frog"}


def test_too_many_transient_sessions_are_refused(server) -> None:
    async def scenario() -> None:
        scripts = [await connect(server, "frog", transient=True)
                   for _ in range(MAX_TRANSIENT_LOGINS_PER_USER)]
        with pytest.raises(LoginRefused) as refused:
            await connect(server, "frog", transient=True)
        assert refused.value.code == "too-many-logins"
        assert "too-many-logins" in str(refused.value)
        # An ordinary session is still allowed beside them.
        async with await connect(server, "frog") as frog:
            assert not frog.transient
        for script in scripts:
            await script.close()
        async with await connect(server, "frog", transient=True):
            pass

    run(scenario())


def test_a_transient_login_needs_the_password() -> None:
    # Refused before any connection: nothing listens on this port.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(LoginRefused) as refused:
        run(AsyncSession.connect("127.0.0.1", port, "frog", "", tls=NO_TLS, transient=True,
                                 resume_token=bytes(32)))
    assert refused.value.code == "invalid-login"
    assert "password" in str(refused.value)


class VersionTwoServer:
    """A server of protocol version 2 (before transient logins), on a real socket: it
    answers every Hello with version 2, accepts any Login and echoes chat."""

    def __init__(self) -> None:
        self.received: list[Event] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> VersionTwoServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = ServerConnection()
        seq = 0
        while True:
            event = conn.next_event()
            if event is NEED_DATA:
                conn.receive_data(await reader.read(65_536))
                continue
            assert isinstance(event, Event)
            self.received.append(event)
            if isinstance(event, Hello):
                writer.write(conn.send(Hello(OLDEST_PROTOCOL_VERSION, DEFAULT_MAX_FRAME_SIZE,
                                             "version-2-server")))
            elif isinstance(event, Login):
                writer.write(conn.send(LoginAccepted(event.username, False, False, seq)))
            elif isinstance(event, SendChat):
                seq += 1
                writer.write(conn.send(ChatMessage(seq, 0, event.client_id, "frog",
                                                   event.recipient, event.text)))
            elif isinstance(event, Goodbye):
                writer.close()
                return
            await writer.drain()


def test_against_a_version_2_server_the_login_is_ordinary() -> None:
    async def scenario() -> None:
        async with VersionTwoServer() as old:
            session = await AsyncSession.connect("127.0.0.1", old.port, "frog", "pw",
                                                 tls=NO_TLS, transient=True,
                                                 last_seen_seq=SKIP_REPLAY)
            assert not session.transient  # what it got: an ordinary login
            delivered = await session.send_chat("still works")
            assert delivered.text == "still works"
            await session.close()
        hello, login, chat, goodbye = old.received
        assert isinstance(hello, Hello) and hello.version > OLDEST_PROTOCOL_VERSION
        assert login == Login("frog", "pw", SKIP_REPLAY, 0)
        assert isinstance(chat, SendChat) and isinstance(goodbye, Goodbye)

    run(scenario())
