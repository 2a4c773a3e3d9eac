"""Support for the cluster tests: real ``chat-server`` nodes on real engines.

The shared engines (``scripts/services.sh`` starts them: PostgreSQL on
127.0.0.1:5432, Redis on 127.0.0.1:6379, or ``CHAT_TEST_PG`` /
``CHAT_TEST_REDIS``) are never stopped or restarted here: other tests use them
at the same time. Each test gets its own database (``fresh_database``) and
its own Redis key prefix (``redis_prefix``) on them, dropped afterwards.

A test about an engine failing gets an engine of its own instead
(``private_engines``: ``PrivateRedis``, ``PrivatePostgres``).

    with fresh_database() as dsn, Cluster(tmp_path, 3, dsn, redis_url(), prefix) as cluster:
        alice = RawClient.login_as(cluster.nodes[0], "alice")
        cluster.kill(0)         # SIGKILL, like a machine losing power
        cluster.restart(0)      # the same node name, data dir and port
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import psycopg
import redis
from psycopg import sql

from support import ServerProcess, server_process

#: Waits on engines and nodes: generous, for a machine under load.
ENGINE_TIMEOUT = 30.0
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def pg_url() -> str:
    """The shared PostgreSQL's maintenance database (where test databases are made)."""
    return os.environ.get("CHAT_TEST_PG") or DEFAULT_PG


def redis_url() -> str:
    return os.environ.get("CHAT_TEST_REDIS") or DEFAULT_REDIS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def with_database(dsn: str, database: str) -> str:
    """``dsn`` (a URL) pointing at ``database`` instead."""
    base, _, query = dsn.partition("?")
    head, _, _ = base.rpartition("/")
    # Kept a URL (the server's --store takes postgresql://...): only the
    # path changes; the query (sslmode and the like) stays.
    return f"{head}/{database}" + (f"?{query}" if query else "")


def _engine_hint(what: str, exc: Exception) -> str:
    return f"{what} does not answer ({exc}); start it with: bash scripts/services.sh"


# -- one database and one key prefix per test ------------------------------------------


@contextlib.contextmanager
def fresh_database(maintenance_dsn: str | None = None) -> Iterator[str]:
    """A new, empty database on the shared PostgreSQL (or on
    ``maintenance_dsn``'s server); its URL. Dropped afterwards, even if a
    node still holds connections to it (FORCE). ``pg_support.new_database``
    gives a key=value conninfo, which ``--store`` does not take (a
    ``postgresql://`` URL only), hence this one."""
    base = maintenance_dsn or pg_url()
    name = f"t_{secrets.token_hex(6)}"
    try:
        with psycopg.connect(base, autocommit=True, connect_timeout=10) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        raise RuntimeError(_engine_hint("PostgreSQL", exc)) from None
    try:
        yield with_database(base, name)
    finally:
        # A connection of its own: the test may have restarted the engine.
        with psycopg.connect(base, autocommit=True, connect_timeout=10) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def new_prefix() -> str:
    """A key prefix no other test uses: ``t-<hex>:``."""
    return f"t-{secrets.token_hex(6)}:"


def keys_under(url: str, prefix: str) -> list[bytes]:
    with redis.Redis.from_url(url) as client:
        return list(client.scan_iter(match=f"{prefix}*", count=1000))


def delete_prefix(url: str, prefix: str) -> int:
    """UNLINK every key under ``prefix`` (SCAN MATCH, never KEYS); how many."""
    deleted = 0
    with redis.Redis.from_url(url) as client:
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            batch.append(key)
            if len(batch) >= 500:
                deleted += int(client.unlink(*batch))
                batch.clear()
        if batch:
            deleted += int(client.unlink(*batch))
    return deleted


@contextlib.contextmanager
def redis_prefix_on(url: str | None = None) -> Iterator[str]:
    """A fresh prefix on the shared Redis; every key under it deleted afterwards."""
    url = url or redis_url()
    try:
        with redis.Redis.from_url(url, socket_timeout=10) as client:
            client.ping()
    except redis.RedisError as exc:
        raise RuntimeError(_engine_hint("Redis", exc)) from None
    prefix = new_prefix()
    try:
        yield prefix
    finally:
        delete_prefix(url, prefix)


# -- several real nodes ------------------------------------------------------------------


class Cluster:
    """``count`` real ``chat-server`` processes sharing one database and one
    prefix: plain TCP, a free port and a data dir of their own each, no web
    listener, names ``node0``, ``node1``... ``nodes[i]`` is the running
    process (``.address`` for clients), ``None`` while killed."""

    def __init__(
        self,
        root: Path,
        count: int,
        store: str,
        bus: str,
        prefix: str,
        *extra_args: str,
        lease_time: float | None = None,
    ) -> None:
        self.root = root
        self.store = store
        self.bus = bus
        self.prefix = prefix
        self.extra_args = extra_args
        self.lease_time = lease_time
        self.nodes: list[ServerProcess | None] = [None] * count
        #: A node keeps its port across restarts: clients' host lists stay valid.
        self.ports: list[int] = [0] * count
        self._stacks: list[contextlib.ExitStack | None] = [None] * count

    def node_name(self, index: int) -> str:
        return f"node{index}"

    def args(self, index: int) -> list[str]:
        args = [
            "--store", self.store, "--bus", self.bus, "--bus-prefix", self.prefix,
            "--node-name", self.node_name(index),
        ]
        if self.lease_time is not None:
            args += ["--lease-time", str(self.lease_time)]
        if self.ports[index]:
            # server_process passes --port 0 first; the last --port wins.
            args += ["--port", str(self.ports[index])]
        return [*args, *self.extra_args]

    def start(self, index: int) -> ServerProcess:
        """Start node ``index`` (again); returns once it listens."""
        if self.nodes[index] is not None:
            raise RuntimeError(f"{self.node_name(index)} is running")
        stack = contextlib.ExitStack()
        try:
            node = stack.enter_context(
                server_process(self.root / self.node_name(index), *self.args(index))
            )
        except BaseException:
            stack.close()
            raise
        self._stacks[index] = stack
        self.nodes[index] = node
        self.ports[index] = node.port
        return node

    def node(self, index: int) -> ServerProcess:
        node = self.nodes[index]
        if node is None:
            raise RuntimeError(f"{self.node_name(index)} is not running")
        return node

    @property
    def running(self) -> list[ServerProcess]:
        return [node for node in self.nodes if node is not None]

    def host_list(self) -> str:
        """``127.0.0.1:P0,127.0.0.1:P1,...``: a failover client's ``--host``."""
        return ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def kill(self, index: int) -> str:
        """SIGKILL node ``index`` (no goodbye to anyone, leases left to expire);
        returns what it logged."""
        node = self.node(index)
        node.proc.kill()
        node.wait(ENGINE_TIMEOUT)
        return self._forget(index)

    def stop(self, index: int) -> str:
        """SIGTERM node ``index`` and wait for its clean exit; its log."""
        node = self.node(index)
        node.signal(signal.SIGTERM)
        node.wait(ENGINE_TIMEOUT)
        return self._forget(index)

    def restart(self, index: int) -> ServerProcess:
        if self.nodes[index] is not None:
            self.stop(index)
        return self.start(index)

    def _forget(self, index: int) -> str:
        node = self.node(index)
        stack = self._stacks[index]
        self.nodes[index] = None
        self._stacks[index] = None
        if stack is not None:
            stack.close()
        return node.output()

    def __enter__(self) -> Cluster:
        try:
            for index in range(len(self.nodes)):
                self.start(index)
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        for index, stack in enumerate(self._stacks):
            if stack is not None:
                self.nodes[index] = None
                self._stacks[index] = None
                stack.close()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
