"""The heartbeat owned by the connection (aioquic's ``get_timer`` /
``handle_timer(now)``): the adapter only owns the clock, so the server and
the session cannot disagree on what counts as a sign of life (a whole frame
received, docs/protocol.md 7.4)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatproto import (
    ClientConnection,
    ErrorCode,
    Goodbye,
    Ping,
    Pong,
    RemoteProtocolError,
    ServerConnection,
    State,
)

from .support import drain, logged_in_pair, transmit


def test_no_timer_until_the_heartbeat_starts() -> None:
    client, _ = logged_in_pair()
    assert client.get_timer() is None
    assert client.handle_timer(1e9) is None


def test_silence_then_one_ping_then_timeout() -> None:
    client, server = logged_in_pair()
    client.start_heartbeat(interval=10, timeout=30, now=100)
    assert client.get_timer() == 110
    assert client.handle_timer(109) is None
    ping = client.handle_timer(110)
    assert isinstance(ping, Ping)
    assert transmit(client, server, ping) == ping
    assert client.handle_timer(111) is None  # one ping per silence
    assert client.get_timer() == 130
    with pytest.raises(RemoteProtocolError) as caught:
        client.handle_timer(130)
    assert caught.value.code == ErrorCode.TIMEOUT
    assert client.state is State.ERROR
    with pytest.raises(RemoteProtocolError):  # and again on every later call
        client.next_event()
    assert client.get_timer() is None


def test_a_whole_frame_is_a_sign_of_life_half_a_frame_is_not() -> None:
    """docs/protocol.md 7.4: a peer trickling a frame byte by byte still times out."""
    client, server = logged_in_pair()
    client.start_heartbeat(interval=10, timeout=30, now=0)
    assert isinstance(client.handle_timer(10), Ping)
    frame = server.send(Pong(1))
    client.receive_data(frame[:2], now=20)
    assert drain(client) == []
    assert client.get_timer() == 30
    client.receive_data(frame[2:], now=29)
    assert drain(client) == [Pong(1)]
    assert client.get_timer() == 39  # the frame counts from when it was complete
    assert client.handle_timer(35) is None


def test_a_trickled_frame_times_out() -> None:
    client, server = logged_in_pair()
    client.start_heartbeat(interval=10, timeout=30, now=0)
    frame = server.send(Pong(1))
    for now, byte in enumerate(frame[:-1], start=1):
        client.receive_data(bytes([byte]), now=now)
        assert drain(client) == []
    with pytest.raises(RemoteProtocolError):
        client.handle_timer(30)


def test_end_of_stream_is_not_a_sign_of_life() -> None:
    client, _ = logged_in_pair()
    client.start_heartbeat(interval=10, timeout=30, now=0)
    client.receive_data(b"", now=25)
    assert client.get_timer() == 10
    assert drain(client)[-1].clean is False  # type: ignore[attr-defined]
    assert client.get_timer() is None  # nothing left to watch


def test_nonces_increase_across_pings() -> None:
    client, server = logged_in_pair()
    client.start_heartbeat(interval=1, timeout=100, now=0)
    nonces = []
    for now in (1.0, 3.0, 5.0):
        ping = client.handle_timer(now)
        assert isinstance(ping, Ping)
        server.receive_data(client.send(ping))
        drain(server)
        nonces.append(ping.nonce)
        client.receive_data(server.send(Pong(ping.nonce)), now=now + 1)
        drain(client)
    assert nonces == [1, 2, 3]


def test_no_ping_where_the_state_forbids_one_but_the_timeout_still_runs() -> None:
    server = ServerConnection()
    server.start_heartbeat(interval=1, timeout=5, now=0)  # still in HELLO
    assert server.handle_timer(1) is None
    with pytest.raises(RemoteProtocolError):
        server.handle_timer(5)


def test_after_our_goodbye_there_is_no_timer() -> None:
    client, _ = logged_in_pair()
    client.start_heartbeat(interval=1, timeout=5, now=0)
    client.send(Goodbye("bye"))
    assert client.get_timer() is None
    assert client.handle_timer(100) is None


@pytest.mark.parametrize(("interval", "timeout"), [(0, 5), (5, 5), (6, 5)])
def test_interval_must_be_below_timeout(interval: float, timeout: float) -> None:
    with pytest.raises(ValueError):
        ClientConnection().start_heartbeat(interval, timeout, now=0)


@given(st.lists(st.tuples(st.sampled_from(["timer", "bytes"]), st.floats(0, 40)), max_size=30))
@settings(max_examples=200, deadline=None)
def test_timers_follow_a_tiny_model(steps: list[tuple[str, float]]) -> None:
    client, server = logged_in_pair()
    client.start_heartbeat(interval=10, timeout=25, now=0)
    now, last, pinged = 0.0, 0.0, False
    for step, delta in steps:
        now += delta
        if step == "bytes":
            client.receive_data(server.send(Pong(0)), now=now)
            drain(client)
            last, pinged = now, False
            continue
        if now - last >= 25:
            with pytest.raises(RemoteProtocolError):
                client.handle_timer(now)
            return
        outcome = client.handle_timer(now)
        if now - last >= 10 and not pinged:
            assert isinstance(outcome, Ping)
            client.send(outcome)
            pinged = True
        else:
            assert outcome is None
        timer = client.get_timer()
        assert timer == (last + 25 if pinged else last + 10)
