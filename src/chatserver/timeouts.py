"""Login, heartbeat and closing deadlines of every connection, checked by one timer.

A timer per connection (one for its login, one re-armed for its heartbeat)
costs memory on every idle connection and a heap operation per re-arm. One
periodic sweep over the open connections costs well under a millisecond per
thousand connections per tick, and keeps an idle connection down to its
deadlines' numbers. The same sweep finishes closes: a connection still
closing (its peer does not read what is left for it) is aborted at the
sweep after its close (``ClientProtocol.check_deadlines``).
"""

from __future__ import annotations

import asyncio

from .config import ServerConfig
from .context import ConnectionRegistry

#: Bounds of the sweep period: at least this often a second, for short test
#: timeouts; never more often than this, whatever the settings.
LONGEST_PERIOD = 1.0
SHORTEST_PERIOD = 0.01


def sweep_period(config: ServerConfig) -> float:
    """Often enough that every deadline is met within a quarter of its span."""
    spans = (
        config.heartbeat_interval,
        config.heartbeat_timeout - config.heartbeat_interval,
        config.login_timeout,
    )
    return max(SHORTEST_PERIOD, min(LONGEST_PERIOD, *(span / 4 for span in spans)))


class TimeoutSweeper:
    """Calls ``check_deadlines(now)`` on every registered connection each period."""

    def __init__(self, registry: ConnectionRegistry, period: float) -> None:
        self.registry = registry
        self.period = period
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.period, self._tick)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        # A copy: a check may close its connection, which leaves the registry.
        for client in list(self.registry.clients):
            client.check_deadlines(now)
        self._timer = loop.call_at(now + self.period, self._tick)
