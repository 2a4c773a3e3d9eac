"""The cluster's ``ports.Bus``: this node's ``Fanout``, and notices for the others.

History entries do not travel through here: each node delivers them from
the stream, in id order (``stream``, ``cluster.hub``), to its own
connections. What is left to cross nodes is what no history holds: room
notices (``Membership``) go to every node, which hands them to its members'
connections. Presence goes by its own scripts (``presence``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from chatproto import ChatMessage, Event, FileAvailable, Membership, MembershipState, Presence

from ..fanout import Fanout
from ..log import log
from .redis_link import RedisLink

NOTIFY_CHANNEL = "notify"


class ClusterBus:
    def __init__(self, fanout: Fanout, link: RedisLink, node_id: str) -> None:
        self.fanout = fanout
        self.link = link
        self.node_id = node_id

    def deliver(
        self, entry: ChatMessage | FileAvailable, sender: str, recipient: str | None,
        for_others: ChatMessage | FileAvailable | None = None,
    ) -> None:
        self.fanout.deliver(entry, sender, recipient, for_others)

    def deliver_to(
        self, entry: ChatMessage | FileAvailable, sender: str, names: Iterable[str],
        for_others: ChatMessage | FileAvailable | None = None,
    ) -> None:
        self.fanout.deliver_to(entry, sender, names, for_others)

    def announce(self, presence: Presence) -> None:
        self.fanout.announce(presence)

    def notify(self, event: Event, names: Iterable[str]) -> None:
        names = list(names)
        self.fanout.notify(event, names)
        if isinstance(event, Membership):
            body = [self.node_id, event.room, event.user, event.state.value,
                    event.member_count, names]
            self.link.publish(NOTIFY_CHANNEL, json.dumps(body, ensure_ascii=False).encode())
        else:  # only Membership crosses nodes today
            log.warning("not sent to the other nodes: %s", type(event).__name__)

    def received(self, data: bytes) -> None:
        """Another node's notice: to this node's connections of its names."""
        node, room, user, state, count, names = json.loads(data)
        if node == self.node_id:
            return  # delivered here already
        event = Membership(str(room), str(user), MembershipState(state), int(count))
        self.fanout.notify(event, [str(name) for name in names])
