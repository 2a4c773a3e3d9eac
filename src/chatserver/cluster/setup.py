"""Starting a node: what ``app.ChatServer`` calls in the cluster mode."""

from __future__ import annotations

from ..config import ServerConfig
from ..fanout import Fanout
from .bus import ClusterBus
from .hub import ClusterHub
from .node import ClusterNode, node_id_for
from .pg_store import PgStore
from .redis_link import RedisLink, RedisUnavailable


class ClusterStartError(Exception):
    """The node cannot join its cluster: one line to show."""


def open_store(config: ServerConfig) -> PgStore:
    from ..sqlite_store import StoreError

    assert config.store_url is not None
    try:
        return PgStore(config.store_url)
    except StoreError as exc:
        raise ClusterStartError(str(exc)) from None


async def join(
    config: ServerConfig, store: PgStore, fanout: Fanout,
) -> tuple[ClusterHub, ClusterNode]:
    """This node's hub, its bus and its place in the cluster, started."""
    assert config.bus_url is not None
    node_id = node_id_for(config.node_name)
    link = RedisLink(config.bus_url, config.bus_prefix)
    bus = ClusterBus(fanout, link, node_id)
    hub = ClusterHub(config, store, bus)
    node = ClusterNode(hub, store, link, bus, node_id, config.lease_time)
    try:
        await node.start()
    except RedisUnavailable as exc:
        await link.close()
        hub.close()
        raise ClusterStartError(str(exc)) from None
    return hub, node
