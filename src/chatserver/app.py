"""The server's lifecycle: open the data dir, listen, serve, stop cleanly."""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .account_watch import AccountWatch
from .client import ClientProtocol
from .config import ServerConfig
from .context import ConnectionRegistry, ServerContext
from .fanout import Fanout
from .files.uploads import FileStorage
from .hub import Hub
from .log import log
from .memory import tune_allocator
from .ports import Store
from .sqlite_store import SqliteStore, StoreError
from .timeouts import TimeoutSweeper, sweep_period
from .tls_client import TLSClientProtocol
from .tls_transport import TLSEndpoint

if TYPE_CHECKING:
    from .cluster.node import ClusterNode
    from .web import WebListener

DATABASE_NAME = "chat.sqlite3"


class StartupError(Exception):
    """The server cannot start (data dir unusable, port in use): one line to show."""


def prepare_data_dir(path: Path) -> None:
    try:
        # Private by default: the database holds password hashes and history.
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StartupError(f"cannot create the data dir {path}: {exc.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise StartupError(f"the data dir {path} is not writable")


def _tls_context(config: ServerConfig) -> tuple[ssl.SSLContext | None, str]:
    """The server's TLS context (None with ``--no-tls``) and its log line."""
    if not config.tls:
        return None, "TLS off (--no-tls): plain TCP, passwords cross the network in clear"
    from .tls import TLSSetupError, resolve_certificate, server_context

    try:
        cert = resolve_certificate(config.data_dir, config.tls_cert, config.tls_key)
        return server_context(cert), cert.describe()
    except TLSSetupError as exc:
        raise StartupError(str(exc)) from None
    except ImportError as exc:  # only making a certificate needs cryptography
        raise StartupError(
            f"TLS needs the cryptography package ({exc.name} is missing); "
            "install it or start with --no-tls"
        ) from None


def _protocol_factory(
    ctx: ServerContext, hub: Hub, context: ssl.SSLContext | None
) -> Callable[[], ClientProtocol]:
    """Plain TCP, or TLS inside each connection's protocol (``tls_client``):
    the listening socket is plain either way."""
    if context is None:
        return lambda: ClientProtocol(ctx, hub)
    endpoint = TLSEndpoint(context)
    return lambda: TLSClientProtocol(ctx, hub, endpoint)


class ChatServer:
    """``await start()``, then ``await serve_forever()`` or ``await stop()``."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.ctx: ServerContext | None = None
        self._hub: Hub | None = None
        self._server: asyncio.Server | None = None
        self._stopped: asyncio.Event | None = None
        self._sweeper: TimeoutSweeper | None = None
        self._account_watch: AccountWatch | None = None
        self._web: WebListener | None = None  # chatserver.web, imported on demand
        self._node: ClusterNode | None = None  # chatserver.cluster, likewise
        self.port: int = config.port
        #: The browser client's port once listening (None: no web listener).
        self.web_port: int | None = None

    @property
    def hub(self) -> Hub:
        assert self._hub is not None, "the server is not started"
        return self._hub

    async def start(self) -> None:
        config = self.config
        tune_allocator()  # process-wide, and harmless to repeat (see memory.py)
        prepare_data_dir(config.data_dir)
        store = self._open_store()
        try:
            file_bytes = None
            if config.store_url is not None:  # the cluster: files' bytes in PostgreSQL too
                from .cluster.pg_files import PgFileBytes

                file_bytes = PgFileBytes(config.store_url)
            storage = FileStorage(config.data_dir, config.max_file_size, config.min_free_space,
                                  file_bytes)
            storage.clean(set(store.stored_names()))
        except OSError as exc:
            store.close()
            raise StartupError(f"cannot prepare the data dir: {exc}") from None
        ctx = ServerContext(
            config,
            store,
            Fanout(config.output_buffer_limit),
            storage,
            ConnectionRegistry(config.max_connections, config.max_connections_per_address),
        )
        try:
            hub = await self._hub_for(ctx)
        except StartupError:
            store.close()
            raise
        try:
            context, tls_line = _tls_context(config)
        except StartupError:
            store.close()
            raise
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(
                _protocol_factory(ctx, hub, context), config.host, config.port,
                reuse_address=True, backlog=1024,
            )
        except OSError as exc:
            store.close()
            why = os.strerror(exc.errno) if exc.errno else str(exc)
            raise StartupError(f"cannot listen on {config.host}:{config.port}: {why}") from None
        try:
            await self._start_web(ctx, hub, context)
        except StartupError:
            self._server.close()
            store.close()
            raise
        self.ctx, self._hub = ctx, hub
        self._stopped = asyncio.Event()
        self._sweeper = TimeoutSweeper(ctx.registry, sweep_period(config))
        self._sweeper.start()
        if isinstance(store, SqliteStore):  # chat-server admin works on SQLite's file
            self._account_watch = AccountWatch(store, hub, ctx)
            self._account_watch.start()
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("listening on %s:%d (data in %s)", config.host, self.port, config.data_dir)
        log.info("%s", tls_line)
        if self._web is not None:
            log.info("web client at %s", " and ".join(self._web.urls(config.host)))

    def _open_store(self) -> Store:
        """SQLite in the data dir, or the cluster's PostgreSQL."""
        config = self.config
        if config.store_url is not None:
            from .cluster.setup import ClusterStartError, open_store

            try:
                store: Store = open_store(config)
                return store
            except ClusterStartError as exc:
                raise StartupError(str(exc)) from None
        try:
            return SqliteStore(config.data_dir / DATABASE_NAME)
        except StoreError as exc:
            raise StartupError(str(exc)) from None

    async def _hub_for(self, ctx: ServerContext) -> Hub:
        """The single node's hub, or a cluster node's, joined (``chatserver.cluster``)."""
        if self.config.store_url is None:
            return Hub(self.config, ctx.store, ctx.fanout)
        # Imported only in the cluster mode: a single node loads neither psycopg nor redis.
        from .cluster.pg_store import PgStore
        from .cluster.setup import ClusterStartError, join

        assert isinstance(ctx.store, PgStore)
        try:
            hub, self._node = await join(self.config, ctx.store, ctx.fanout)
        except ClusterStartError as exc:
            raise StartupError(str(exc)) from None
        return hub

    async def _start_web(
        self, ctx: ServerContext, hub: Hub, context: ssl.SSLContext | None
    ) -> None:
        """The browser client's listener, if asked for. The default port, not
        asked for, may be taken (another server on the machine): then the
        server starts without it and says so."""
        config = self.config
        if config.web_port is None:
            return
        # Imported only when asked for: a server without the browser client
        # loads none of its code (websockets, h11).
        from .web import WebListener
        from .web.listener import WebListenerError

        web = WebListener(ctx, hub, context)
        try:
            await web.start(config.host, config.web_port)
        except WebListenerError as exc:
            if config.web_port_required:
                raise StartupError(str(exc)) from None
            log.warning("%s; starting without the browser client", exc)
            return
        self._web, self.web_port = web, web.port

    async def serve_forever(self) -> None:
        """Serve until ``stop()`` is called."""
        assert self._stopped is not None, "call start() first"
        await self._stopped.wait()

    async def stop(self, timeout: float = 5.0) -> None:
        """Say Goodbye to every client, flush what is pending, close."""
        ctx, hub, server = self.ctx, self._hub, self._server
        if ctx is None or hub is None or server is None or ctx.shutting_down:
            return
        ctx.shutting_down = True
        try:
            await self._say_goodbye(ctx, hub, server, timeout)
        except Exception:
            # Stop anyway: a server that cannot stop would ignore every SIGTERM.
            log.exception("error while saying goodbye; stopping anyway")
        finally:
            if self._account_watch is not None:
                self._account_watch.stop()
            if self._node is not None:
                await self._node.stop()
            hub.close()
            ctx.store.close()
            ctx.storage.bytes.close()
            log.info("stopped")
            assert self._stopped is not None
            self._stopped.set()

    async def _say_goodbye(
        self, ctx: ServerContext, hub: Hub, server: asyncio.Server, timeout: float
    ) -> None:
        server.close()
        if self._web is not None:
            self._web.close_listening()
        if self._sweeper is not None:
            self._sweeper.stop()
        hub.flush()
        for client in list(ctx.registry.clients):
            client.shutdown("the server is shutting down")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while ctx.registry.clients and loop.time() < deadline:
            await asyncio.sleep(0.01)
        for client in list(ctx.registry.clients):
            client.abort()
        await asyncio.sleep(0)
        if self._web is not None:
            await self._web.stop()
