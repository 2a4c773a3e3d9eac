"""``chatproto.session.reconnect``: the backoff policy (with hypothesis), which
failures are retried, and ``reconnect`` around real sessions on real servers
that stop and start again."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatproto import ChatMessage
from chatproto.session import (
    AsyncSession,
    CertificateRefused,
    ChatError,
    ConnectionLost,
    Disconnected,
    FileRefused,
    FingerprintMismatch,
    LoginRefused,
    MessageRefused,
    PinFileError,
    ServerUnreachable,
    TLSFailed,
)
from chatproto.session.reconnect import (
    RETRYABLE_LOGIN_CODES,
    Backoff,
    RetryPlan,
    reconnect,
    retryable,
)
from chatproto.session.tls import NO_TLS
from support import server_process

T = TypeVar("T")

backoffs = st.builds(
    lambda initial, factor, extra: Backoff(initial, factor, initial + extra),
    st.floats(0.001, 10), st.floats(1, 4), st.floats(0, 100),
)


@given(backoffs, st.integers(0, 10_000), st.floats(0, 1))
def test_each_wait_is_between_half_and_all_of_its_capped_step(
    backoff: Backoff, attempt: int, chance: float
) -> None:
    step = backoff.step(attempt)
    assert backoff.initial <= step <= backoff.maximum
    assert step / 2 <= backoff.delay(attempt, chance) <= step


@given(backoffs, st.integers(0, 2000))
def test_steps_never_shrink_and_reach_the_cap(backoff: Backoff, attempt: int) -> None:
    assert backoff.step(attempt) <= backoff.step(attempt + 1)
    assert backoff.step(0) == backoff.initial
    if backoff.factor > 1.01:
        assert backoff.step(10**6) == backoff.maximum  # no OverflowError on the way


@pytest.mark.parametrize(
    "settings", [(0, 2, 1), (1, 0.5, 10), (2, 2, 1), (float("nan"), 2, 1), (1, 2, -1)]
)
def test_a_nonsensical_backoff_is_refused(settings: tuple[float, float, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(*settings)


@pytest.mark.parametrize(
    ("error", "again"),
    [
        (ServerUnreachable("cannot reach"), True),
        (ConnectionLost("lost"), True),
        (TLSFailed("EOF in the handshake"), True),
        *[(LoginRefused("not now", code), True) for code in sorted(RETRYABLE_LOGIN_CODES)],
        (LoginRefused("wrong password", "bad-password"), False),
        (LoginRefused("token refused", "bad-resume-token"), False),
        (LoginRefused("invalid name", "invalid-name"), False),
        (LoginRefused("old server", "unsupported-version"), False),
        (CertificateRefused("not signed"), False),
        (FingerprintMismatch("h", 1, "SHA256:AA", "SHA256:BB", "pinned"), False),
        (PinFileError("unreadable pin file"), False),
        (FileRefused("too large", "too-large"), False),
        (MessageRefused("unknown user", "unknown-user"), False),
        (ChatError("something else"), False),
    ],
)
def test_what_is_worth_another_attempt(error: ChatError, again: bool) -> None:
    assert retryable(error) is again
    plan = RetryPlan(Backoff(1, 2, 8), chance=lambda: 1.0)
    assert plan.failed(error) is again
    assert (plan.failures, plan.last_error) == (1, error)


def test_a_plan_waits_longer_after_each_failure_up_to_the_cap() -> None:
    plan = RetryPlan(Backoff(1, 2, 8), chance=lambda: 1.0)
    delays = []
    for _ in range(6):
        delays.append(plan.next_delay())
        plan.failed(ServerUnreachable("down"))
    assert delays == [1, 2, 4, 8, 8, 8]
    assert RetryPlan(Backoff(1, 2, 8), chance=lambda: 0.0).next_delay() == 0.5


# -- reconnect() around real sessions ---------------------------------------------------------


def run(coro: Awaitable[T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, 60)

    return asyncio.run(bounded())


class Waits:
    """``reconnect``'s ``sleep``: records each wait, lets the loop turn once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def connect(port: int, name: str, password: str = "pw", **kwargs: Any) -> AsyncSession:
    return await AsyncSession.connect("127.0.0.1", port, name, password, tls=NO_TLS, **kwargs)


async def next_chat(session: AsyncSession) -> ChatMessage:
    while True:
        event = await session.next_event()
        if isinstance(event, ChatMessage):
            return event
        assert not isinstance(event, Disconnected), event


def test_a_session_comes_back_by_its_token_after_a_restart_with_the_replay(
    tmp_path: Path,
) -> None:
    data, port = tmp_path / "data", free_port()

    async def scenario() -> None:
        with server_process(data, "--port", str(port)) as first:
            lost = await connect(first.port, "alice")
            seen = await lost.send_chat("before")
            assert lost.last_seq == seen.seq
        while not isinstance(await lost.next_event(), Disconnected):
            pass  # the server said goodbye
        with server_process(data, "--port", str(port)) as second:
            bob = await connect(second.port, "bob")
            missed = await bob.send_chat("while alice was away")
            await bob.close()
            waits = Waits()
            back = await reconnect(
                lambda: connect(port, "alice", resume_token=lost.resume_token,
                                last_seen_seq=lost.last_seq, epoch=lost.epoch),
                RetryPlan(Backoff(0.5, 2, 4)), sleep=waits,
            )
            async with back:
                assert back.by_resume_token and not back.history_reset
                replayed = await next_chat(back)
                assert (replayed.seq, replayed.text) == (missed.seq, missed.text)
            assert len(waits.delays) == 1 and 0.25 <= waits.delays[0] <= 0.5

    run(scenario())


def test_attempts_go_on_while_the_server_is_down_and_succeed_once_it_is_up(
    tmp_path: Path,
) -> None:
    port = free_port()  # nothing listens there yet

    async def scenario() -> None:
        with contextlib.ExitStack() as stack:
            failures: list[ChatError] = []

            def start_the_server(error: ChatError, plan: RetryPlan) -> None:
                failures.append(error)
                if plan.failures == 2:
                    stack.enter_context(server_process(tmp_path / "data", "--port", str(port)))

            waits = Waits()
            plan = RetryPlan(Backoff(1, 2, 3), chance=lambda: 1.0)
            session = await reconnect(lambda: connect(port, "alice"), plan,
                                      on_failure=start_the_server, sleep=waits)
            await session.close()
        assert [type(error) for error in failures] == [ServerUnreachable] * 2
        assert waits.delays == [1, 2, 3]
        assert plan.failures == 2

    run(scenario())


def test_a_wrong_password_is_not_tried_again(tmp_path: Path) -> None:
    async def scenario() -> None:
        with server_process(tmp_path / "data") as server:
            await (await connect(server.port, "alice", "right")).close()
            waits = Waits()
            plan = RetryPlan()
            with pytest.raises(LoginRefused) as refused:
                await reconnect(lambda: connect(server.port, "alice", "wrong"), plan,
                                on_failure=lambda error, plan: pytest.fail("retried"),
                                sleep=waits)
            assert refused.value.code == "bad-password"
            assert plan.failures == 1 and len(waits.delays) == 1

    run(scenario())
