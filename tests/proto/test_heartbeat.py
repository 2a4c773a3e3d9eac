"""Heartbeat decisions with explicit times: no clock, no sleeping."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatproto import Heartbeat, HeartbeatAction

NOTHING, PING, DEAD = HeartbeatAction.NOTHING, HeartbeatAction.SEND_PING, HeartbeatAction.TIMED_OUT


def test_silence_then_ping_then_timeout() -> None:
    hb = Heartbeat(interval=10, timeout=30, now=100)
    assert hb.deadline() == 110
    assert hb.poll(109.9) is NOTHING
    assert hb.poll(110) is PING
    assert hb.poll(111) is NOTHING  # one ping per silence, not one per poll
    assert hb.deadline() == 130
    assert hb.poll(129.9) is NOTHING
    assert hb.poll(130) is DEAD
    assert hb.poll(500) is DEAD


def test_activity_resets_everything() -> None:
    hb = Heartbeat(10, 30, now=0)
    assert hb.poll(10) is PING
    hb.activity(12)  # the pong (or anything) arrived
    assert hb.deadline() == 22
    assert hb.poll(21) is NOTHING
    assert hb.poll(22) is PING
    assert hb.poll(41) is NOTHING
    assert hb.poll(42) is DEAD


def test_a_late_poll_after_long_silence_is_a_timeout_not_a_ping() -> None:
    hb = Heartbeat(5, 15, now=0)
    assert hb.poll(1000) is DEAD


def test_nonces_increase() -> None:
    hb = Heartbeat(1, 2, now=0)
    assert [hb.next_nonce() for _ in range(3)] == [1, 2, 3]


@pytest.mark.parametrize(("interval", "timeout"), [(0, 5), (5, 5), (6, 5), (-1, 5)])
def test_interval_must_be_below_timeout(interval: float, timeout: float) -> None:
    with pytest.raises(ValueError):
        Heartbeat(interval, timeout, now=0)


@given(st.lists(st.tuples(st.sampled_from(["poll", "activity"]), st.floats(0, 50)),
                max_size=30))
@settings(max_examples=200, deadline=None)
def test_decisions_follow_the_rules(steps: list[tuple[str, float]]) -> None:
    """Against a tiny model: dead after ``timeout`` of silence, one ping after ``interval``."""
    hb = Heartbeat(10, 25, now=0)
    now, last, pinged = 0.0, 0.0, False
    for action, delta in steps:
        now += delta
        if action == "activity":
            hb.activity(now)
            last, pinged = now, False
            continue
        result = hb.poll(now)
        if now - last >= 25:
            assert result is DEAD
        elif now - last >= 10 and not pinged:
            assert result is PING
            pinged = True
        else:
            assert result is NOTHING
        assert hb.deadline() >= last + 10
