"""Heartbeat decisions, with time passed in (nothing here reads a clock).

The adapter calls ``activity(now)`` whenever bytes arrive and ``poll(now)``
when ``deadline()`` passes; ``poll`` says whether to send a Ping or to give
the peer up as dead.
"""

from __future__ import annotations

from enum import Enum


class HeartbeatAction(Enum):
    NOTHING = "nothing"
    SEND_PING = "send-ping"
    TIMED_OUT = "timed-out"


class Heartbeat:
    """Ping after ``interval`` seconds of silence; give up ``timeout`` seconds
    after the last sign of life."""

    __slots__ = ("_nonce", "_ping_sent_at", "interval", "last_activity", "timeout")

    def __init__(self, interval: float, timeout: float, now: float) -> None:
        if not 0 < interval < timeout:
            raise ValueError("need 0 < interval < timeout")
        self.interval = interval
        self.timeout = timeout
        self.last_activity = now
        self._ping_sent_at: float | None = None
        self._nonce = 0

    def activity(self, now: float) -> None:
        """Bytes arrived from the peer: it is alive."""
        self.last_activity = now
        self._ping_sent_at = None

    def deadline(self) -> float:
        """When ``poll`` next has something to decide."""
        if self._ping_sent_at is None:
            return self.last_activity + self.interval
        return self.last_activity + self.timeout

    def poll(self, now: float) -> HeartbeatAction:
        if now - self.last_activity >= self.timeout:
            return HeartbeatAction.TIMED_OUT
        if self._ping_sent_at is None and now - self.last_activity >= self.interval:
            self._ping_sent_at = now
            return HeartbeatAction.SEND_PING
        return HeartbeatAction.NOTHING

    def next_nonce(self) -> int:
        self._nonce += 1
        return self._nonce
