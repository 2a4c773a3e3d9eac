"""Issue 18, client failover: one session over a list of real servers.

Real ``chat-server`` processes (SQLite, each its own data folder, or one
folder served under two addresses in turn, which is what a cluster looks
like from the client: one history, one token table, two addresses). A server
is SIGKILLed under a live session; the session's ``reconnect_any`` lands on
the other and keeps working. Waits are for conditions, with long deadlines."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

from chatproto import ChatMessage
from chatproto.session import (
    AsyncSession,
    Backoff,
    ChatError,
    ClientTLS,
    Disconnected,
    FingerprintMismatch,
    PinStore,
    RetryPlan,
    ServerAddress,
    ServerUnreachable,
    Session,
    TrustMode,
    connect_any,
    reconnect_any,
)
from chatproto.session.tls import NO_TLS
from support import ServerProcess, server_process

T = TypeVar("T")
#: Generous: a loaded machine, a server starting, a backoff of a few steps.
DEADLINE = 60.0
QUICK = Backoff(initial=0.05, maximum=1.0)


def run(coro: Awaitable[T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, DEADLINE)

    return asyncio.run(bounded())


def closed_port() -> int:
    """A port nothing listens on (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def address(server: ServerProcess) -> ServerAddress:
    return ServerAddress(server.host, server.port)


def start(data: Path, port: int = 0) -> contextlib.AbstractContextManager[ServerProcess]:
    return server_process(data, "--port", str(port), "--flood-rate", "0")


async def until_lost(session: AsyncSession) -> Disconnected:
    while True:
        event = await session.next_event()
        if isinstance(event, Disconnected):
            return event


async def until_chat(session: AsyncSession, text: str) -> ChatMessage:
    while True:
        event = await session.next_event()
        if isinstance(event, ChatMessage) and event.text == text:
            return event


def kill(server: ServerProcess) -> None:
    server.signal(signal.SIGKILL)
    server.wait()


def test_the_first_server_down_the_second_takes_the_login(tmp_path: Path) -> None:
    with start(tmp_path / "b") as b:
        down = ServerAddress("127.0.0.1", closed_port())
        skipped: list[tuple[ServerAddress, ChatError]] = []

        async def scenario() -> None:
            session = await connect_any((down, address(b)), "alice", "pw", tls=NO_TLS,
                                        on_skip=lambda s, e: skipped.append((s, e)))
            assert session.server == address(b)
            assert (await session.send_chat("hello")).text == "hello"
            await session.close()

        run(scenario())
        assert [s for s, _ in skipped] == [down]
        assert isinstance(skipped[0][1], ServerUnreachable)


def test_every_server_down_is_one_error_naming_each(tmp_path: Path) -> None:
    servers = tuple(ServerAddress("127.0.0.1", closed_port()) for _ in range(2))

    async def scenario() -> ServerUnreachable:
        try:
            await connect_any(servers, "alice", "pw", tls=NO_TLS)
        except ServerUnreachable as exc:
            return exc
        raise AssertionError("connected to nothing")

    error = run(scenario())
    assert all(str(s) in str(error) for s in servers) and "\n" not in str(error)


def test_the_blocking_session_takes_a_list_too(tmp_path: Path) -> None:
    with start(tmp_path / "b") as b:
        down = ServerAddress("127.0.0.1", closed_port())
        with Session.connect_any((down, address(b)), "alice", "pw", tls=NO_TLS) as session:
            assert session.server == address(b)
            assert session.send_chat("hi").text == "hi"


def test_a_killed_server_fails_over_by_token_and_the_replay_brings_what_was_missed(
    tmp_path: Path,
) -> None:
    """One data folder under two addresses in turn: what a cluster's second
    node is to the client (same history, same epoch, same tokens)."""
    data, second_port = tmp_path / "data", closed_port()
    with start(data) as a:
        servers = (address(a), ServerAddress("127.0.0.1", second_port))

        async def on_a() -> AsyncSession:
            alice = await connect_any(servers, "alice", "pw", tls=NO_TLS)
            bob = await connect_any(servers, "bob", "pw", tls=NO_TLS)
            assert alice.server == servers[0]
            await bob.send_chat("before")
            await until_chat(alice, "before")
            await bob.close()
            return alice

        async def lose(alice: AsyncSession) -> Disconnected:
            kill(a)
            return await until_lost(alice)

        async def scenario() -> None:
            alice = await on_a()
            lost = await lose(alice)
            assert not lost.by_us
            seen, epoch = alice.last_seq, alice.epoch
            with start(data, second_port) as b:
                async with await connect_any(servers[1:], "bob", "pw", tls=NO_TLS) as bob:
                    missed = await bob.send_chat("missed")
                reconnects: list[ChatError] = []
                again = await reconnect_any(
                    servers, alice, "pw", RetryPlan(QUICK), tls=NO_TLS,
                    on_failure=lambda e, p: reconnects.append(e))
                assert again.server == address(b) == servers[1]
                assert again.by_resume_token  # no password sent: no scrypt on the new node
                assert again.epoch == epoch and not again.history_reset
                replayed = await until_chat(again, "missed")
                assert replayed.seq == missed.seq > seen
                async with await connect_any(servers, "bob", "pw", tls=NO_TLS) as bob:
                    assert bob.server == servers[1]  # the dead one was tried and skipped
                    await bob.send_chat("after")
                    await until_chat(again, "after")
                    await again.send_chat("back")
                    await until_chat(bob, "back")
                await again.close()

        asyncio.run(asyncio.wait_for(scenario(), DEADLINE * 2))


def test_a_server_with_another_history_replays_it_all_as_a_reset(tmp_path: Path) -> None:
    """Two independent servers: the second's epoch is not the first's, so the
    session's seq means nothing there and everything comes again."""
    with start(tmp_path / "a") as a, start(tmp_path / "b") as b:
        servers = (address(a), address(b))

        async def scenario() -> None:
            # alice has an account on b older than b's message: a replay
            # starts at the account's creation.
            await (await connect_any(servers[1:], "alice", "pw", tls=NO_TLS)).close()
            async with await connect_any(servers[1:], "carol", "pw", tls=NO_TLS) as carol:
                old = await carol.send_chat("b's own history")
            alice = await connect_any(servers, "alice", "pw", tls=NO_TLS)
            for n in range(3):
                await alice.send_chat(f"on a {n}")
            assert alice.last_seq >= 3
            kill(a)
            await until_lost(alice)
            again = await reconnect_any(servers, alice, "pw", RetryPlan(QUICK), tls=NO_TLS)
            assert again.server == servers[1]
            assert again.history_reset and again.epoch not in (0, alice.epoch)
            assert not again.by_resume_token  # b never issued that token: the password went
            replayed = await until_chat(again, "b's own history")
            assert replayed.seq == old.seq
            assert (await again.send_chat("still works")).seq > old.seq
            await again.close()

        run(scenario())


def tls_start(data: Path, port: int = 0) -> contextlib.AbstractContextManager[ServerProcess]:
    return server_process(data, "--port", str(port), "--flood-rate", "0", tls=True)


def test_tofu_pins_a_new_node_on_failover_and_a_changed_one_stops_it(tmp_path: Path) -> None:
    """Pins are per host:port: a node never met is pinned on first contact,
    as any first contact is (``TrustMode.NEW_PIN``); a node whose pinned
    certificate changed is refused, and the next server is not tried: the
    failover never goes around a trust alarm."""
    tls = ClientTLS(pins=PinStore(tmp_path / "known_servers"))
    a_port = closed_port()
    with tls_start(tmp_path / "b", 0) as b:
        with tls_start(tmp_path / "a", a_port) as a:
            servers = (address(a), address(b))

            async def first() -> AsyncSession:
                alice = await connect_any(servers, "alice", "pw", tls=tls)
                assert alice.server == servers[0] and alice.trust.mode is TrustMode.NEW_PIN
                return alice

            alice = run(first())
            kill(a)

        async def failover() -> None:
            await until_lost(alice)
            again = await reconnect_any(servers, alice, "pw", RetryPlan(QUICK), tls=tls)
            assert again.server == servers[1] and again.trust.mode is TrustMode.NEW_PIN
            await again.close()

        run(failover())
        # Another server (another certificate) now answers at a's address.
        with tls_start(tmp_path / "impostor", a_port):
            skipped: list[ServerAddress] = []

            async def refused() -> FingerprintMismatch:
                try:
                    await connect_any(servers, "alice", "pw", tls=tls,
                                      on_skip=lambda s, e: skipped.append(s))
                except FingerprintMismatch as exc:
                    return exc
                raise AssertionError("a changed certificate was accepted or gone around")

            error = run(refused())
            assert (error.host, error.port) == ("127.0.0.1", a_port)
            assert skipped == []
