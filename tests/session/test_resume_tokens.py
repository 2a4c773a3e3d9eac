"""Resume tokens through the session: kept in memory, presented on reconnect, the
password as the fallback; real servers restarted under real sessions.

That a login by token skips scrypt is read from the server's count of password
hashes (``Logins.password_hashes``), never from timings."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from chatproto import ChatMessage
from chatproto.limits import RESUME_TOKEN_BYTES
from chatproto.session import AsyncSession, Disconnected, LoginRefused, Session
from chatproto.session.tls import NO_TLS
from support import RunningServer, running_server

T = TypeVar("T")
TIMEOUT = 10.0
CHEAP = {"scrypt_n": 2**10}


def run(coro: Awaitable[T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, 60)

    return asyncio.run(bounded())


@contextmanager
def chat_server(data: Path, **overrides: Any) -> Iterator[RunningServer]:
    with running_server(data, **{**CHEAP, **overrides}) as server:
        yield server


async def connect(server: RunningServer, name: str, password: str = "pw",
                  **kwargs: Any) -> AsyncSession:
    return await AsyncSession.connect(server.host, server.port, name, password, tls=NO_TLS,
                                      **kwargs)


def hashes(server: RunningServer) -> int:
    """How many times the server has run scrypt (a hash or a check)."""
    return server.call(lambda: server.server.hub.logins.password_hashes)


def test_a_password_login_gets_a_token_and_the_next_login_skips_the_password(
    tmp_path: Path,
) -> None:
    with chat_server(tmp_path / "data") as server:
        async def scenario() -> None:
            first = await connect(server, "alice")
            token = first.resume_token
            assert token is not None and len(token) == RESUME_TOKEN_BYTES
            assert not first.by_resume_token
            await first.close()
            before = hashes(server)
            # No password at all: the token is the credential.
            again = await connect(server, "alice", "", resume_token=token)
            assert again.by_resume_token and again.username == "alice"
            assert not again.new_account
            # Rotation: a new token, and the one used is gone.
            assert again.resume_token not in (None, token)
            await again.close()
            assert hashes(server) == before
            with pytest.raises(LoginRefused) as refused:
                await connect(server, "alice", "", resume_token=token)
            assert refused.value.code == "bad-resume-token"

        run(scenario())


def test_a_refused_token_falls_back_to_the_password_on_the_same_connection(
    tmp_path: Path,
) -> None:
    with chat_server(tmp_path / "data") as server:
        async def scenario() -> None:
            await (await connect(server, "alice")).close()
            before = hashes(server)
            forged = secrets.token_bytes(RESUME_TOKEN_BYTES)
            session = await connect(server, "alice", "pw", resume_token=forged)
            assert not session.by_resume_token
            assert session.resume_token is not None  # a real one now
            await session.close()
            assert hashes(server) == before + 1  # the password, checked once
            with pytest.raises(LoginRefused) as refused:
                await connect(server, "alice", "wrong", resume_token=forged)
            assert refused.value.code == "bad-password"

        run(scenario())


def test_a_server_restart_under_the_sessions_is_survived_without_scrypt(
    tmp_path: Path,
) -> None:
    """Sessions logged in by password; the server stops and a new one starts on the
    same data and port: everyone comes back by token and is replayed, and the new
    server never ran scrypt."""
    data = tmp_path / "data"
    names = [f"user{i}" for i in range(6)]
    with chat_server(data) as first:
        port = first.port
        sessions = [Session.connect(first.host, port, name, "pw", tls=NO_TLS) for name in names]
        said = sessions[0].send_chat("before the restart")
    try:
        for session in sessions:  # the server said goodbye to each of them
            assert not next_of(session, Disconnected).by_us
        with chat_server(data, port=port) as second:
            back = [
                Session.connect(second.host, port, s.username, "pw", tls=NO_TLS,
                                resume_token=s.resume_token, epoch=s.epoch,
                                last_seen_seq=said.seq - 1)
                for s in sessions
            ]
            try:
                assert all(s.by_resume_token for s in back)
                assert hashes(second) == 0
                for session in back:  # the entry each asked for again, replayed
                    replayed = next_of(session, ChatMessage)
                    assert (replayed.seq, replayed.text) == (said.seq, said.text)
            finally:
                for session in back:
                    session.close()
    finally:
        for session in sessions:
            session.close()


def next_of(session: Session, kind: type[T]) -> T:
    while True:
        event = session.events.get(timeout=TIMEOUT)
        if isinstance(event, kind):
            return event
        assert not isinstance(event, Disconnected), event


def test_tokens_outlive_no_shorter_lifetime_and_none_are_issued_at_zero(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"

    async def token_of(server: RunningServer) -> bytes | None:
        session = await connect(server, "alice")
        await session.close()
        return session.resume_token

    with chat_server(data) as server:
        token = run(token_of(server))
    assert token is not None
    # A restart with a lifetime shorter than the token's age revokes it.
    with chat_server(data, resume_token_lifetime=0.001) as server:
        async def refused() -> str:
            with pytest.raises(LoginRefused) as info:
                await connect(server, "alice", "", resume_token=token)
            return info.value.code

        assert run(refused()) == "bad-resume-token"
    with chat_server(data, resume_token_lifetime=0) as server:
        assert run(token_of(server)) is None


def test_a_token_is_bound_to_its_account(tmp_path: Path) -> None:
    with chat_server(tmp_path / "data") as server:
        async def scenario() -> None:
            alice = await connect(server, "alice")
            await alice.close()
            await (await connect(server, "bob", "pw-b")).close()
            with pytest.raises(LoginRefused) as refused:
                await connect(server, "bob", "", resume_token=alice.resume_token)
            assert refused.value.code == "bad-resume-token"
            # Any spelling of the account's name will do, as with a password.
            upper = await connect(server, "ALICE", "", resume_token=alice.resume_token)
            assert upper.by_resume_token and upper.username == "alice"
            await upper.close()
            # An unknown name never registers by token.
            with pytest.raises(LoginRefused):
                await connect(server, "carol", "", resume_token=upper.resume_token)

        run(scenario())
        assert "carol" not in server.call(lambda: list(server.server.hub.accounts))


def test_refused_tokens_count_as_failed_logins(tmp_path: Path) -> None:
    with chat_server(tmp_path / "data", max_failed_logins_per_user=3) as server:
        async def scenario() -> None:
            await (await connect(server, "alice")).close()
            for _ in range(3):
                with pytest.raises(LoginRefused) as refused:
                    await connect(server, "alice", "",
                                  resume_token=secrets.token_bytes(RESUME_TOKEN_BYTES))
                assert refused.value.code == "bad-resume-token"
            with pytest.raises(LoginRefused) as limited:
                await connect(server, "alice", "pw")
            assert limited.value.code == "rate-limited"

        run(scenario())


def test_the_blocking_session_presents_and_offers_the_token(tmp_path: Path) -> None:
    with chat_server(tmp_path / "data") as server:
        with Session.connect(server.host, server.port, "alice", "pw", tls=NO_TLS) as first:
            token = first.resume_token
            assert token is not None and not first.by_resume_token
        before = hashes(server)
        with Session.connect(server.host, server.port, "alice", "pw", tls=NO_TLS,
                             resume_token=token) as again:
            assert again.by_resume_token
            assert again.resume_token not in (None, token)
        assert hashes(server) == before
