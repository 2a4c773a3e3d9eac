"""The open connections, with the limits per address and in total."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import attrs

from .config import ServerConfig
from .hub import Hub
from .uploads import FileStorage

if TYPE_CHECKING:
    from .client import ClientProtocol


class ConnectionRegistry:
    def __init__(self, max_total: int, max_per_address: int) -> None:
        self.max_total = max_total
        self.max_per_address = max_per_address
        self.clients: dict[ClientProtocol, None] = {}
        self._per_address: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self.clients)

    def add(self, client: ClientProtocol) -> str | None:
        """Register ``client``, or say why it is refused."""
        if len(self.clients) >= self.max_total:
            return "the server has too many connections"
        if self._per_address[client.address] >= self.max_per_address:
            return "too many connections from your address"
        self.clients[client] = None
        self._per_address[client.address] += 1
        return None

    def remove(self, client: ClientProtocol) -> None:
        if self.clients.pop(client, False) is None:
            self._per_address[client.address] -= 1
            if self._per_address[client.address] <= 0:
                del self._per_address[client.address]


@attrs.define
class ServerContext:
    """What every connection shares."""

    config: ServerConfig
    hub: Hub
    storage: FileStorage
    registry: ConnectionRegistry
    shutting_down: bool = False
