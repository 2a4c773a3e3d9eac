"""The web listener: one port for the browser client, beside the TCP one."""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import ssl

from ..context import ServerContext
from ..hub import Hub
from ..tls_transport import TLSEndpoint
from .assets import AssetsMissing, client_folder, load_assets
from .front import WebFront
from .http_app import HttpConnection, WebApp
from .sessions import WebSessions
from .websocket import WebSocketClientProtocol

#: HTTP connections (not WebSockets, which count as chat connections) open
#: at once; past it new ones are closed at once.
MAX_HTTP_CONNECTIONS = 256
_WEBSOCKET_PATHS = (b"/ws", b"/ws/")


class WebListenerError(Exception):
    """The web listener cannot start: one line to show."""


class WebListener:
    def __init__(self, ctx: ServerContext, hub: Hub, context: ssl.SSLContext | None) -> None:
        self.ctx = ctx
        self.hub = hub
        self.secure = context is not None
        self._endpoint = TLSEndpoint(context) if context is not None else None
        self.sessions = WebSessions()
        self._app: WebApp | None = None
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        try:
            assets = load_assets(client_folder())
        except AssetsMissing as exc:
            raise WebListenerError(f"no browser client: {exc}") from None
        app = WebApp(self.ctx, self.hub, self.sessions, assets, self.secure)
        timeout = self.ctx.config.login_timeout
        endpoint, ctx, hub, sessions, secure = (
            self._endpoint, self.ctx, self.hub, self.sessions, self.secure)

        def dispatch(head: bytes) -> asyncio.BaseProtocol | None:
            method, _, rest = head.partition(b" ")
            target = rest.partition(b" ")[0].partition(b"?")[0]
            if method == b"GET" and target in _WEBSOCKET_PATHS:
                return WebSocketClientProtocol(ctx, hub, sessions, secure)
            if len(app.connections) >= MAX_HTTP_CONNECTIONS:
                return None
            return HttpConnection(app)

        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(
                lambda: WebFront(dispatch, endpoint, timeout), host, port,
                reuse_address=True, backlog=1024,
            )
        except OSError as exc:
            why = os.strerror(exc.errno) if exc.errno else str(exc)
            in_use = exc.errno == errno.EADDRINUSE
            raise WebListenerError(
                f"cannot listen on {host}:{port} for the browser client: {why}"
                + (" (--web-port to choose another, --no-web for none)" if in_use else "")
            ) from None
        self._app = app
        self.port = self._server.sockets[0].getsockname()[1]

    def urls(self, host: str) -> list[str]:
        """What to open in a browser: the listening address, or this machine's
        name and localhost when it listens on every address."""
        scheme = "https" if self.secure else "http"
        if host in ("0.0.0.0", "::", ""):
            names = [socket.gethostname(), "localhost"]
        else:
            names = [f"[{host}]" if ":" in host else host]
        return [f"{scheme}://{name}:{self.port}/" for name in names]

    def close_listening(self) -> None:
        """Stop accepting; the WebSockets end with the other chat connections."""
        if self._server is not None:
            self._server.close()

    async def stop(self) -> None:
        self.close_listening()
        if self._app is not None:
            self._app.close_all()
            self._app = None
