"""The node's line to Redis: commands in order, and the channels it listens to.

Two connections. Commands (publishes, presence scripts) go through one queue
and one worker, so what this node says reaches Redis in the order it said
it: a user's ``joined`` can never overtake the ``deactivated`` before it. The
subscription has a connection of its own and a loop that reconnects with
backoff; after a reconnect (Redis restarted: it keeps nothing) ``on_reconnect``
runs, so the node can put its leases and its users back.

redis-py's asyncio client is used as it is, one command awaited at a time on
one connection: a node sends one publish per loop turn (the batch of that
turn), so pipelining would buy little, and a connection pool would lose the
order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ..log import log

#: Commands waiting for the worker at most; past it a publish is dropped (the
#: other nodes fill such a gap from PostgreSQL) and a call fails at once.
MAX_QUEUED = 100_000
BACKOFF_FIRST = 0.05
BACKOFF_MAX = 2.0

Handler = Callable[[bytes], None]


class RedisUnavailable(Exception):
    """Redis did not answer: one line for the log."""


def describe(url: str) -> str:
    """``host:port/db`` of a Redis URL, for messages (never a password)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    return f"{host}:{parts.port or 6379}{parts.path or '/0'}"


class RedisLink:
    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_connect_timeout=2.0, socket_timeout=5.0, health_check_interval=5,
        )
        self._queue: asyncio.Queue[
            tuple[Callable[[], Awaitable[Any]], asyncio.Future[Any] | None]
        ] = asyncio.Queue(MAX_QUEUED)
        self._handlers: dict[str, Handler] = {}
        self._on_reconnect: Callable[[], Awaitable[None]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribed = asyncio.Event()
        self._failing = False
        #: Set when the commands find Redis back: the subscription's backoff ends.
        self._answering = asyncio.Event()
        #: Subscribed, and the node's state put back after a reconnect.
        self.listening = False

    def key(self, name: str) -> str:
        return self.prefix + name

    @property
    def client(self) -> aioredis.Redis:
        return self._redis

    async def start(
        self, handlers: dict[str, Handler], on_reconnect: Callable[[], Awaitable[None]],
    ) -> None:
        """Check that Redis answers, subscribe to ``handlers``' channels (names
        without the prefix) and start the worker; raises ``RedisUnavailable``."""
        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            raise RedisUnavailable(f"cannot reach Redis at {describe(self.url)}: {exc}") from None
        self._handlers = {self.key(name): handler for name, handler in handlers.items()}
        self._on_reconnect = on_reconnect
        self._tasks = [
            asyncio.create_task(self._work(), name="redis-commands"),
            asyncio.create_task(self._listen(), name="redis-subscription"),
        ]
        await self._subscribed.wait()

    async def call(self, command: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``command`` in this node's order; raises ``RedisUnavailable``."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait((command, future))
        except asyncio.QueueFull:
            raise RedisUnavailable("too many Redis commands waiting") from None
        return await future

    def publish(self, channel: str, data: bytes) -> None:
        """Publish ``data`` on ``channel`` (without the prefix) in order, not waiting."""
        key = self.key(channel)
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait((lambda: self._redis.publish(key, data), None))

    async def _work(self) -> None:
        while True:
            command, future = await self._queue.get()
            try:
                result = await command()
            except (RedisError, OSError) as exc:
                self._failed(exc)
                if future is not None and not future.done():
                    future.set_exception(RedisUnavailable(f"Redis: {exc}"))
                continue
            except Exception as exc:  # a bug in a script: its caller sees it
                if future is not None and not future.done():
                    future.set_exception(exc)
                continue
            if self._failing:
                self._failing = False
                self._answering.set()
                log.info("Redis answers again")
            if future is not None and not future.done():
                future.set_result(result)

    def _failed(self, exc: BaseException) -> None:
        if not self._failing:
            self._failing = True
            log.warning("Redis at %s failed: %s", describe(self.url), exc)

    async def _listen(self) -> None:
        delay = BACKOFF_FIRST
        first = True
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(*self._handlers)
                if not first and self._on_reconnect is not None:
                    log.info("subscribed to Redis again: putting this node's state back")
                    await self._on_reconnect()
                first = False
                self.listening = True
                self._subscribed.set()
                delay = BACKOFF_FIRST
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None or message.get("type") != "message":
                        continue
                    channel = message["channel"]
                    name = channel.decode() if isinstance(channel, bytes) else str(channel)
                    handler = self._handlers.get(name)
                    if handler is not None:
                        try:
                            handler(message["data"])
                        except Exception:  # one bad message must not stop the node's ear
                            log.exception("could not handle a message on %s", name)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                raise
            except (RedisError, OSError, RedisUnavailable) as exc:
                # RedisUnavailable: putting the node's state back failed (Redis
                # went away again): subscribe and put it back once more.
                self.listening = False
                self._failed(exc)
                self._subscribed.set()  # start() must not wait for an outage to end
            except Exception:  # a bug must not leave the node deaf for good
                self.listening = False
                log.exception("the Redis subscription failed")
                self._subscribed.set()
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]
            # Back off, unless the commands find Redis answering first: a node
            # refuses logins until it hears the others again (``listening``).
            self._answering.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._answering.wait(), delay)
            delay = min(delay * 2, BACKOFF_MAX)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await self._redis.aclose()
