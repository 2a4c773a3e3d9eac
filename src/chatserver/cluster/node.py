"""One node of a cluster: the store, Redis, the stream and presence, wired.

``ClusterNode`` is the ``cluster.hub.NodeLink`` of its hub: it publishes
what the hub committed and offers it to the stream, takes and releases
names, and sends presence changes; in the other direction it feeds the hub
what Redis brings (other nodes' entries, presence, notices) and what the
database holds that nobody brought (``stream.StreamApplier``).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import time
from collections.abc import Coroutine
from typing import Any

from chatproto import ParticipantState, PresenceState

from ..log import log
from ..login import TOO_MANY_FAILURES, TOO_MANY_REGISTRATIONS
from .bus import NOTIFY_CHANNEL, ClusterBus
from .entries import StreamEntry
from .hub import ClusterHub
from .pg_store import PgStore
from .presence import PRESENCE_CHANNEL, SPENT_SECONDS, ClusterPresence, parse_presence
from .redis_link import RedisLink, RedisUnavailable
from .stream import STREAM_CHANNEL, StreamApplier, decode_entry, encode_entry

#: How often each node looks for dead nodes, at most (a lease's third at least).
SWEEP_PERIOD = 1.0
#: How often each node tells the others what its users sent (the flood limit).
FLOOD_REPORT = 0.1


def node_id_for(name: str | None) -> str:
    """A node's id: its name and a random part, new at every start, so a
    restarted node never takes over the lease of the process it replaces."""
    base = (name or socket.gethostname() or "node")[:40]
    return f"{base}-{secrets.token_hex(4)}"


class ClusterNode:
    def __init__(
        self, hub: ClusterHub, store: PgStore, link: RedisLink, bus: ClusterBus,
        node_id: str, lease_time: float,
    ) -> None:
        self.hub = hub
        self.store = store
        self.link = link
        self.bus = bus
        self.node_id = node_id
        self.presence = ClusterPresence(
            link, node_id, lease_time, hub.config.max_deactivated)
        self.applier = StreamApplier(store, hub.apply, store.stream_head())
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reporter: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Join the cluster; raises ``redis_link.RedisUnavailable``."""
        self.store.on_control = self.committed
        await self.link.start(
            {
                STREAM_CHANNEL: self._stream_received,
                PRESENCE_CHANNEL: self._presence_received,
                NOTIFY_CHANNEL: self.bus.received,
            },
            self._restore,
        )
        await self.presence.renew()
        self.presence.on_forgotten = self._restore
        participants = self.hub.participants
        for name, state in (await self.presence.snapshot()).items():
            if state == "d":
                participants.deactivate(name)
            else:
                participants.activate(name)
        self.presence.start(min(SWEEP_PERIOD, self.presence.lease_time / 3))
        if self.hub.config.flood_rate > 0:
            self._reporter = asyncio.create_task(self._report_spent(), name="flood-report")
        self.applier.start()
        self.hub.link = self
        self.hub.logins.on_failed = self.failed_login
        self.hub.logins.on_registered = self.registered
        self.presence.on_reaped = self.hub.deactivated_by_sweep
        log.info("cluster node %s: stream at %d, %d participants", self.node_id,
                 self.applier.applied, len(participants))

    # -- what the hub asks -----------------------------------------------------------

    async def claim(self, name: str) -> int:
        if not self.link.listening:
            # Deaf to the other nodes' presence: a login now would be shown a
            # stale list and miss changes; the hub refuses it, to be retried.
            raise RedisUnavailable("not subscribed to Redis just now")
        return await self.presence.claim(name)

    def failed_login(self, name: str, address: str) -> None:
        window = self.hub.config.failed_login_window
        self._spawn(self.presence.failed_login(name, address, window), "counting a failed login")

    def registered(self, address: str) -> None:
        window = self.hub.config.registration_window
        self._spawn(self.presence.registered(address, window), "counting a registration")

    async def login_refusal(self, name: str, address: str, registering: bool) -> str | None:
        """Why a login of ``name`` from ``address`` is ``rate-limited`` by the
        counts of every node (the single node's limits), or None: too many
        failed logins of ``name`` from ``address`` or from ``address`` at all,
        or, for a new account, too many registered from ``address``."""
        config = self.hub.config
        by_user, by_address, registrations = await self.presence.login_counts(name, address)
        if (by_user >= config.max_failed_logins_per_user
                or by_address >= config.max_failed_logins_per_address):
            return TOO_MANY_FAILURES
        if registering and registrations >= config.max_registrations_per_address:
            return TOO_MANY_REGISTRATIONS
        return None

    def catch_up(self) -> None:
        self.applier.catch_up()

    def release(self, name: str) -> None:
        self._spawn(self.presence.unclaim(name), "releasing a name")

    def grace_over(self, name: str) -> None:
        self._spawn(self.presence.grace_over(name), f"the grace of {name}")

    def presence_changed(self, name: str, state: PresenceState) -> None:
        self._spawn(self.presence.change(name, state), f"presence of {name}")

    def committed(self, entry: StreamEntry) -> None:
        """This node's commit: to the other nodes, and to the stream here."""
        self.link.publish(STREAM_CHANNEL, encode_entry(entry))
        self.applier.offer(entry)

    async def _report_spent(self) -> None:
        """Every ``FLOOD_REPORT`` seconds: what this node's users sent, out;
        what they sent through the other nodes in the last ``SPENT_SECONDS``,
        debited here (once: ``seen`` holds what already was)."""
        seen: dict[tuple[str, int], int] = {}
        while True:
            await asyncio.sleep(FLOOD_REPORT)
            spent = dict(self.hub.spent)
            if not spent:
                continue
            self.hub.spent.clear()
            second = int(time.time())
            try:
                elsewhere = await self.presence.report_spent(spent, second)
            except Exception as exc:  # Redis away: each node's own limit still holds
                log.debug("chat sent across nodes unknown: %s", exc)
                continue
            oldest = second - SPENT_SECONDS + 1
            seen = {key: count for key, count in seen.items() if key[1] >= oldest}
            for name, counts in elsewhere.items():
                new = 0
                for slot, count in zip(range(oldest, second + 1), counts, strict=True):
                    new += max(0, count - seen.get((name, slot), 0))
                    seen[(name, slot)] = max(count, seen.get((name, slot), 0))
                if new > 0:
                    self.hub.spent_elsewhere(name, new)

    # -- what Redis brings -----------------------------------------------------------

    def _stream_received(self, data: bytes) -> None:
        self.applier.offer(decode_entry(data))

    def _presence_received(self, data: bytes) -> None:
        self.hub.remote_presence(*parse_presence(data))

    async def _restore(self) -> None:
        """Redis forgot this node (restarted, or swept it after a stall): put
        back its lease and users, then catch up on the stream."""
        participants = self.hub.participants
        deactivated = [p.name for p in participants.snapshot()
                       if p.state is ParticipantState.DEACTIVATED]
        await self.presence.restore(list(self.hub.sessions), deactivated)
        log.info("cluster node %s restored in Redis: %d users", self.node_id,
                 len(self.hub.sessions))
        self.applier.fill()

    # -- stopping ----------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> None:
        async def run() -> None:
            try:
                await coro
            except Exception as exc:
                log.warning("cluster: %s failed: %s: %s", what, type(exc).__name__, exc)

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self, timeout: float = 3.0) -> None:
        """Leave the cluster cleanly: pending presence sent, lease given back."""
        self.applier.stop()
        if self._reporter is not None:
            self._reporter.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
        await self.presence.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.presence.leave_cluster(), timeout)
        await self.link.close()
        self.store.on_control = None
