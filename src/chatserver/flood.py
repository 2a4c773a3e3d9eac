"""The chat flood limit: a token bucket per connection.

A person never types more than a few messages a second; a script or an
attacker that sends thousands must not push everyone else's messages back.
Messages over the limit are refused with ``ChatRejected(rate-limited)``.
"""

from __future__ import annotations


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; ``rate`` 0 = no limit."""

    __slots__ = ("_tokens", "_updated", "burst", "rate")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = max(burst, 1)
        self._tokens = float(self.burst)
        self._updated = now

    def take(self, now: float) -> bool:
        """Spend one token if there is one."""
        if self.rate <= 0:
            return True
        tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if tokens < 1:
            self._tokens = tokens
            return False
        self._tokens = tokens - 1
        return True

    def debit(self, count: int, now: float) -> None:
        """Spend ``count`` tokens this bucket's owner spent elsewhere (another
        node of a cluster); it may owe up to one burst, paid back by waiting."""
        if self.rate <= 0 or count <= 0:
            return
        tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        self._tokens = max(tokens - count, -float(self.burst))
