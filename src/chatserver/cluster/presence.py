"""Presence across nodes: who is logged in where, leases, and the dead's sweep.

Redis holds, under the cluster's prefix:

- ``participants``: name -> ``a`` (active) or ``d`` (deactivated), the
  cluster's participant list; its length is every Presence's count.
- ``owners``: a name's skeleton -> the node its session is on. A login takes
  the skeleton in one script (``CLAIM``) that refuses it while another node
  owns it *and that node's lease is alive*: ``already-active`` across nodes.
- ``nodes`` (a set) and ``lease:<node>`` (a key that expires): each node
  renews its lease every third of the lease time. A node whose lease is gone
  is dead: the first survivor to sweep (``REAP``, one script, so only one
  does it) turns its users ``deactivated`` (never ``left``: the count stays),
  frees their names and forgets the node.

Every change of the list is one script that changes the hash and publishes
the Presence with the count it made, so the nodes see one order of presence
changes and one count; each node applies them to its mirror of the list
(``cluster.hub``). Presence is not history: Redis is enough for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from redis.exceptions import RedisError

from chatproto import PresenceState, username_skeleton
from chatproto.limits import MAX_PARTICIPANTS

from ..log import log
from .redis_link import RedisLink, RedisUnavailable

PRESENCE_CHANNEL = "presence"
#: The other nodes' chat of a user counts here for this many seconds (wall
#: clock, one Redis hash per second): a burst elsewhere is not forgotten at once.
SPENT_SECONDS = 5
SPENT_KEPT_MS = (SPENT_SECONDS + 5) * 1000

# Every script that deactivates a user records when in ``deactivated`` (a
# sorted set, Redis' clock) and then lets the longest deactivated go, as a
# single node's list does (``chatserver.presence``): past ``--max-deactivated``
# of them, or past the protocol's MAX_PARTICIPANTS in all.
_EVICTION = """
local function deactivated_now(deactivated, name)
  local t = redis.call('TIME')
  redis.call('ZADD', deactivated, tonumber(t[1]) * 1000000 + tonumber(t[2]), name)
end
local function make_room(participants, deactivated, limit, most, channel, node)
  while redis.call('ZCARD', deactivated) > 0 and (redis.call('ZCARD', deactivated) > limit
        or redis.call('HLEN', participants) > most) do
    local name = redis.call('ZPOPMIN', deactivated)[1]
    if redis.call('HGET', participants, name) == 'd' then
      redis.call('HDEL', participants, name)
      local count = redis.call('HLEN', participants)
      redis.call('PUBLISH', channel, cjson.encode({name, 'left', count, node}))
    end
  end
end
"""

# KEYS: owners, participants, names, deactivated. ARGV: skeleton, node, lease
# prefix, channel. 0: a live node has it; 1: taken; 2: taken from a dead node
# before any sweep, its user turned deactivated first (so the login here is a rejoin).
_CLAIM = _EVICTION + """
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if owner and owner ~= ARGV[2] then
  if redis.call('EXISTS', ARGV[3] .. owner) == 1 then return 0 end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  local name = redis.call('HGET', KEYS[3], ARGV[1])
  if name and redis.call('HGET', KEYS[2], name) == 'a' then
    redis.call('HSET', KEYS[2], name, 'd')
    deactivated_now(KEYS[4], name)
    local count = redis.call('HLEN', KEYS[2])
    redis.call('PUBLISH', ARGV[4], cjson.encode({name, 'deactivated', count, owner}))
    return 2
  end
  return 1
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""

_UNCLAIM = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1
"""

# KEYS: participants, owners, deactivated. ARGV: name, skeleton, state, node,
# channel, max deactivated, max participants.
_CHANGE = _EVICTION + """
local name, skeleton, state, node = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if state == 'left' then
  redis.call('HDEL', KEYS[1], name)
  redis.call('ZREM', KEYS[3], name)
elseif state == 'deactivated' then
  redis.call('HSET', KEYS[1], name, 'd')
  deactivated_now(KEYS[3], name)
else
  redis.call('HSET', KEYS[1], name, 'a')
  redis.call('HSET', KEYS[2], skeleton, node)
  redis.call('ZREM', KEYS[3], name)
end
if state == 'left' or state == 'deactivated' then
  if redis.call('HGET', KEYS[2], skeleton) == node then redis.call('HDEL', KEYS[2], skeleton) end
end
local count = redis.call('HLEN', KEYS[1])
redis.call('PUBLISH', ARGV[5], cjson.encode({name, state, count, node}))
make_room(KEYS[1], KEYS[3], tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[5], node)
return count
"""

# KEYS: participants, owners, deactivated. ARGV: name, skeleton, node, channel.
# A deactivated user's grace is over: left, unless they logged in again
# meanwhile (on any node).
_GRACE_OVER = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= 'd' or redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then
  return -1
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
local count = redis.call('HLEN', KEYS[1])
redis.call('PUBLISH', ARGV[4], cjson.encode({ARGV[1], 'left', count, ARGV[3]}))
return count
"""

# KEYS: participants, owners, nodes, names (skeleton -> name), deactivated.
# ARGV: lease prefix, channel, max deactivated, max participants. The names
# of the users it deactivated.
_REAP = _EVICTION + """
local reaped = {}
for _, dead in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if redis.call('EXISTS', ARGV[1] .. dead) == 0 then
    local owners = redis.call('HGETALL', KEYS[2])
    for i = 1, #owners, 2 do
      if owners[i + 1] == dead then
        redis.call('HDEL', KEYS[2], owners[i])
        local name = redis.call('HGET', KEYS[4], owners[i])
        if name and redis.call('HEXISTS', KEYS[1], name) == 1 then
          redis.call('HSET', KEYS[1], name, 'd')
          deactivated_now(KEYS[5], name)
          local count = redis.call('HLEN', KEYS[1])
          redis.call('PUBLISH', ARGV[2], cjson.encode({name, 'deactivated', count, dead}))
          make_room(KEYS[1], KEYS[5], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[2], dead)
          table.insert(reaped, name)
        end
      end
    end
    redis.call('SREM', KEYS[3], dead)
  end
end
return reaped
"""

#: (name, state, count, node) of one presence change.
PresenceHandler = Callable[[str, PresenceState, int, str], None]


def parse_presence(data: bytes) -> tuple[str, PresenceState, int, str]:
    name, state, count, node = json.loads(data)
    return str(name), PresenceState(state), int(count), str(node)


class ClusterPresence:
    def __init__(
        self, link: RedisLink, node_id: str, lease_time: float, max_deactivated: int,
    ) -> None:
        self.link = link
        self.node_id = node_id
        self.lease_time = lease_time
        #: ``--max-deactivated``: Redis lets the longest deactivated go past it.
        self.max_deactivated = max_deactivated
        self._participants = link.key("participants")
        self._deactivated = link.key("deactivated")
        self._owners = link.key("owners")
        self._nodes = link.key("nodes")
        self._names = link.key("names")
        self._lease_prefix = link.key("lease:")
        self._channel = link.key(PRESENCE_CHANNEL)
        redis = link.client
        self._claim = redis.register_script(_CLAIM)
        self._unclaim = redis.register_script(_UNCLAIM)
        self._change = redis.register_script(_CHANGE)
        self._reap = redis.register_script(_REAP)
        self._grace_over = redis.register_script(_GRACE_OVER)
        self._tasks: list[asyncio.Task[None]] = []
        #: Runs when a renewal finds the node forgotten (not on the first one).
        self.on_forgotten: Callable[[], Awaitable[None]] | None = None
        #: Told the names of the users this node's sweep deactivated.
        self.on_reaped: Callable[[list[str]], None] | None = None

    # -- leases --------------------------------------------------------------------

    async def renew(self) -> bool:
        """Renew this node's lease; False if the node was not in the set of
        nodes any more (swept as dead after a stall, or Redis restarted)."""
        redis = self.link.client
        lease_ms = max(1, int(self.lease_time * 1000))

        async def command() -> bool:
            async with redis.pipeline(transaction=True) as pipe:
                pipe.set(self._lease_prefix + self.node_id, "1", px=lease_ms)
                pipe.sadd(self._nodes, self.node_id)
                _, added = await pipe.execute()
            return not added

        # Not queued behind this node's publishes: a lease must not wait.
        try:
            known = await command()
        except (RedisError, OSError) as exc:
            raise RedisUnavailable(f"Redis: {exc}") from None
        if not known and self.on_forgotten is not None:
            await self.on_forgotten()
        return known

    def start(self, sweep_period: float) -> None:
        self._tasks = [
            asyncio.create_task(self._every(self.lease_time / 3, self.renew), name="lease"),
            asyncio.create_task(self._every(sweep_period, self.sweep), name="presence-sweep"),
        ]

    async def _every(self, period: float, action: Callable[[], Any]) -> None:
        while True:
            await asyncio.sleep(period)
            try:
                await action()
            except RedisUnavailable:
                pass  # the link logs the outage once
            except Exception:
                log.exception("cluster presence: %s failed", getattr(action, "__name__", action))

    async def sweep(self) -> None:
        """Deactivate the users of nodes whose lease is gone."""
        reaped = await self.link.call(lambda: self._reap(
            keys=[self._participants, self._owners, self._nodes, self._names, self._deactivated],
            args=[self._lease_prefix, self._channel, self.max_deactivated, MAX_PARTICIPANTS],
        ))
        if reaped:
            names = [name.decode() if isinstance(name, bytes) else str(name) for name in reaped]
            log.info("a node's lease ran out: %d of its users deactivated", len(names))
            if self.on_reaped is not None:
                self.on_reaped(names)

    # -- a user's presence ----------------------------------------------------------

    async def claim(self, name: str) -> int:
        """Take ``name`` for this node unless a live node has it: 0 refused,
        1 taken, 2 taken from a dead node (its user deactivated first)."""
        skeleton = username_skeleton(name)
        result = await self.link.call(lambda: self._claim(
            keys=[self._owners, self._participants, self._names, self._deactivated],
            args=[skeleton, self.node_id, self._lease_prefix, self._channel],
        ))
        return int(result)

    async def grace_over(self, name: str) -> None:
        """``name``, deactivated, has left: unless they are back on some node."""
        await self.link.call(lambda: self._grace_over(
            keys=[self._participants, self._owners, self._deactivated],
            args=[name, username_skeleton(name), self.node_id, self._channel],
        ))

    async def unclaim(self, name: str) -> None:
        skeleton = username_skeleton(name)
        await self.link.call(lambda: self._unclaim(
            keys=[self._owners], args=[skeleton, self.node_id],
        ))

    async def change(self, name: str, state: PresenceState) -> int:
        """Record and publish ``name``'s new state; the cluster's count after it."""
        skeleton = username_skeleton(name)
        redis = self.link.client

        async def command() -> int:
            if state in (PresenceState.JOINED, PresenceState.REJOINED):
                await redis.hset(self._names, skeleton, name)
            count = await self._change(
                keys=[self._participants, self._owners, self._deactivated],
                args=[name, skeleton, state.value, self.node_id, self._channel,
                      self.max_deactivated, MAX_PARTICIPANTS],
            )
            return int(count)

        result: int = await self.link.call(command)
        return result

    async def restore(self, active: Iterable[str], deactivated: Iterable[str]) -> None:
        """After Redis lost everything: put back this node's lease, its users
        (owned, active) and the deactivated it knows of, without announcing."""
        redis = self.link.client
        active, deactivated = list(active), list(deactivated)

        async def command() -> None:
            async with redis.pipeline(transaction=False) as pipe:
                for name in active:
                    skeleton = username_skeleton(name)
                    pipe.hset(self._owners, skeleton, self.node_id)
                    pipe.hset(self._names, skeleton, name)
                    pipe.hset(self._participants, name, "a")
                for name in deactivated:
                    pipe.hsetnx(self._participants, name, "d")
                    pipe.zadd(self._deactivated, {name: 0}, nx=True)
                await pipe.execute()

        forgotten, self.on_forgotten = self.on_forgotten, None
        try:
            await self.renew()
        finally:
            self.on_forgotten = forgotten
        await self.link.call(command)

    # -- failed logins, counted across nodes ----------------------------------------

    def _failure_keys(self, name: str, address: str) -> tuple[str, str]:
        return (self.link.key(f"failed:user:{username_skeleton(name)}@{address}"),
                self.link.key(f"failed:address:{address}"))

    def _registrations_key(self, address: str) -> str:
        return self.link.key(f"registered:address:{address}")

    async def _count(self, keys: Sequence[str], window: float) -> None:
        """One more in each of ``keys``, each counter gone ``window`` seconds
        after its first count (the single node's fixed window)."""
        redis = self.link.client
        window_ms = max(1, int(window * 1000))

        async def command() -> None:
            async with redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.incr(key)
                    pipe.pexpire(key, window_ms, nx=True)
                await pipe.execute()

        await self.link.call(command)

    async def failed_login(self, name: str, address: str, window: float) -> None:
        """Count a failed login of ``name`` from ``address`` for ``window`` seconds."""
        await self._count(self._failure_keys(name, address), window)

    async def registered(self, address: str, window: float) -> None:
        """Count an account registered from ``address`` for ``window`` seconds."""
        await self._count((self._registrations_key(address),), window)

    async def login_counts(self, name: str, address: str) -> tuple[int, int, int]:
        """On every node, in their windows: failed logins of ``name`` from
        ``address``, failed logins from ``address``, accounts registered
        from ``address``."""
        keys = (*self._failure_keys(name, address), self._registrations_key(address))
        values = await self.link.call(lambda: self.link.client.mget(keys))
        by_user, by_address, registrations = (int(value or 0) for value in values)
        return by_user, by_address, registrations

    # -- chat sent, counted across nodes ----------------------------------------------

    async def report_spent(
        self, spent: dict[str, int], second: int,
    ) -> dict[str, list[int]]:
        """Add this node's chat messages per user to the cluster's counts of
        wall-clock ``second``; each user's counts on the other nodes in the
        ``SPENT_SECONDS`` seconds up to it, oldest first."""
        redis = self.link.client
        names = list(spent)
        seconds = range(second - SPENT_SECONDS + 1, second + 1)

        async def command() -> list[Any]:
            async with redis.pipeline(transaction=False) as pipe:
                for name in names:
                    key = self.link.key(f"spent:{name}:{second}")
                    pipe.hincrby(key, self.node_id, spent[name])
                    pipe.pexpire(key, SPENT_KEPT_MS)
                    for slot in seconds:
                        pipe.hgetall(self.link.key(f"spent:{name}:{slot}"))
                result: list[Any] = await pipe.execute()
                return result

        replies = await self.link.call(command)
        mine = self.node_id.encode()
        step = 2 + SPENT_SECONDS
        return {
            name: [
                sum(int(count) for node, count in reply.items() if node != mine)
                for reply in replies[step * index + 2: step * (index + 1)]
            ]
            for index, name in enumerate(names)
        }

    async def snapshot(self) -> dict[str, str]:
        """The cluster's participant list: name -> ``a`` or ``d``."""
        raw: dict[bytes, bytes] = await self.link.call(
            lambda: self.link.client.hgetall(self._participants)
        )
        return {key.decode(): value.decode() for key, value in raw.items()}

    async def leave_cluster(self) -> None:
        """A clean stop: this node's lease goes at once (its users were told goodbye)."""
        redis = self.link.client

        async def command() -> None:
            async with redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._lease_prefix + self.node_id)
                pipe.srem(self._nodes, self.node_id)
                await pipe.execute()

        await self.link.call(command)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
