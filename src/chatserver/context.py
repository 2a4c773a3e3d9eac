"""What every connection shares: the settings, the store, the fan-out, the
stored files and the open connections with their limits.

A leaf: the modules that do the work receive it, and it imports none of
them, so no arrow points back up from here.
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol

import attrs

from .config import ServerConfig
from .fanout import Fanout
from .files.uploads import FileStorage
from .ports import Store


class OpenConnection(Protocol):
    """What the registry, the timeout sweep and shutdown need of a connection."""

    @property
    def address(self) -> str: ...

    def check_deadlines(self, now: float) -> None: ...

    def shutdown(self, message: str) -> None: ...

    def abort(self) -> None: ...


class ConnectionRegistry:
    def __init__(self, max_total: int, max_per_address: int) -> None:
        self.max_total = max_total
        self.max_per_address = max_per_address
        self.clients: dict[OpenConnection, None] = {}
        self._per_address: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self.clients)

    def add(self, client: OpenConnection) -> str | None:
        """Register ``client``, or say why it is refused."""
        if len(self.clients) >= self.max_total:
            return "the server has too many connections"
        if self._per_address[client.address] >= self.max_per_address:
            return "too many connections from your address"
        self.clients[client] = None
        self._per_address[client.address] += 1
        return None

    def remove(self, client: OpenConnection) -> None:
        if self.clients.pop(client, False) is None:
            self._per_address[client.address] -= 1
            if self._per_address[client.address] <= 0:
                del self._per_address[client.address]


@attrs.define
class ServerContext:
    """What every connection shares."""

    config: ServerConfig
    store: Store
    fanout: Fanout
    storage: FileStorage
    registry: ConnectionRegistry
    shutting_down: bool = False
