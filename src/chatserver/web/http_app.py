"""The web listener's HTTP side, on aiohttp: the page, its files, and files.

- ``GET /`` and ``GET /static/NAME``: the browser client, from memory
  (``assets``); the page's response sets the session cookie (``sessions``).
- ``PUT /files/upload/UPLOAD_ID``: the body of an upload that one of this
  browser's WebSocket connections offered and the server accepted; fed to
  that connection as FileChunk and FileEnd frames, so it is checked, hashed
  and kept exactly as a TCP upload. ``Upload-Offset`` (default 0) says where
  the body starts: after a broken request the page sends the rest.
- ``GET /files/FILE_ID``: a stored file, to a browser whose logged-in
  connection may see it (the rule of FetchFile), with ``Range``.

Every response carries a strict Content-Security-Policy: nothing but the
page's own scripts, styles and connections, so a peer's text that a bug
let through as HTML still could not run.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Awaitable, Callable
from typing import IO, Any

from aiohttp import web

from chatproto import sanitize_filename

from ..context import ServerContext
from ..hub import Hub
from ..log import log
from .assets import Asset
from .front import InnerTransport
from .sessions import COOKIE, WebSessions, new_session_id, valid_session_id
from .websocket import WebSocketClientProtocol

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
#: Bytes of an upload's body fed to its connection at a time.
BODY_PIECE = 256 * 1024
_MAX_ID = 2**64 - 1


def _decimal_id(text: str) -> int | None:
    if not text.isascii() or not text.isdigit() or len(text) > 20:
        return None
    value = int(text)
    return value if value <= _MAX_ID else None


def _attachment(name: str) -> str:
    """Content-Disposition for a peer-chosen name: sanitised, then both an
    ASCII fallback and the exact UTF-8 form (RFC 6266)."""
    safe = sanitize_filename(name)
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\%' else "_"
                       for c in safe)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(safe)}"


class _FileResponse(web.FileResponse):
    """aiohttp's file response (Range, conditional requests), whose bytes go
    through ``write`` when the server's own TLS is in between: the kernel's
    sendfile cannot encrypt."""

    async def _sendfile(
        self, request: web.BaseRequest, fobj: IO[Any], offset: int, count: int
    ) -> Any:
        if isinstance(request.transport, InnerTransport):
            writer = await web.StreamResponse.prepare(self, request)
            assert writer is not None
            return await self._sendfile_fallback(writer, fobj, offset, count)
        return await super()._sendfile(request, fobj, offset, count)


class WebApp:
    """The aiohttp application, bound to one server's context and hub."""

    def __init__(self, ctx: ServerContext, hub: Hub, sessions: WebSessions,
                 assets: dict[str, Asset], secure: bool) -> None:
        self.ctx = ctx
        self.hub = hub
        self.sessions = sessions
        self.assets = assets
        self.secure = secure
        #: (connection, upload id) whose body a request is sending right now.
        self._sending: set[tuple[int, int]] = set()
        self.app = web.Application(client_max_size=1024, middlewares=[self._headers])
        self.app.router.add_get("/", self.page)
        self.app.router.add_get("/static/{name}", self.static)
        self.app.router.add_put("/files/upload/{upload_id}", self.upload)
        self.app.router.add_get("/files/{file_id}", self.download)

    @web.middleware
    async def _headers(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = exc
        response.headers.update(SECURITY_HEADERS)
        return response

    # -- the page ---------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.Response:
        response = self._asset_response(request, self.assets["index.html"])
        response.headers["Cache-Control"] = "no-cache"
        if not valid_session_id(request.cookies.get(COOKIE)):
            response.set_cookie(COOKIE, new_session_id(), path="/", httponly=True,
                                samesite="Strict", secure=self.secure)
        return response

    async def static(self, request: web.Request) -> web.Response:
        asset = self.assets.get(request.match_info["name"])
        if asset is None:
            raise web.HTTPNotFound()
        response = self._asset_response(request, asset)
        response.headers["Cache-Control"] = "no-cache"  # revalidated: ETag
        return response

    @staticmethod
    def _asset_response(request: web.Request, asset: Asset) -> web.Response:
        if request.headers.get("If-None-Match") == asset.etag:
            return web.Response(status=304, headers={"ETag": asset.etag})
        return web.Response(body=asset.body, headers={
            "Content-Type": asset.content_type, "ETag": asset.etag,
        })

    # -- files ---------------------------------------------------------------------------

    def _connections(self, request: web.Request) -> list[WebSocketClientProtocol]:
        clients = self.sessions.logged_in(request.cookies.get(COOKIE))
        return [c for c in clients if isinstance(c, WebSocketClientProtocol)]

    async def upload(self, request: web.Request) -> web.Response:
        upload_id = _decimal_id(request.match_info["upload_id"])
        connections = self._connections(request)
        if not connections:
            raise web.HTTPForbidden(text="not logged in\n")
        found = None
        if upload_id is not None:
            for client in connections:
                if client.upload_progress(upload_id) is not None:
                    found = client
                    break
        if found is None or upload_id is None:
            raise web.HTTPNotFound(text="no such upload waiting for its bytes\n")
        key = (id(found), upload_id)
        if key in self._sending:
            raise web.HTTPConflict(text="this upload is being sent already\n")
        self._sending.add(key)
        try:
            return await self._take_body(request, found, upload_id)
        finally:
            self._sending.discard(key)

    async def _take_body(
        self, request: web.Request, client: WebSocketClientProtocol, upload_id: int
    ) -> web.Response:
        progress = client.upload_progress(upload_id)
        assert progress is not None
        taken, size = progress
        offset = _decimal_id(request.headers.get("Upload-Offset", "0"))
        if offset != taken:
            raise web.HTTPConflict(headers={"Upload-Offset": str(taken)},
                                   text=f"the upload has {taken} bytes: send from there\n")
        length = request.content_length
        if length is None:
            raise web.HTTPLengthRequired(text="Content-Length is required\n")
        if length > size - taken:
            raise web.HTTPRequestEntityTooLarge(
                max_size=size - taken, actual_size=length,
                text="longer than the file offered\n")
        sent = 0
        async for piece in request.content.iter_chunked(BODY_PIECE):
            sent += len(piece)
            if sent > length or not client.upload_body(upload_id, piece):
                raise web.HTTPGone(text="the upload's connection has ended\n")
        if taken == size:  # an empty file: only its FileEnd
            client.upload_body(upload_id, b"")
        progress = client.upload_progress(upload_id)
        return web.Response(status=204, headers={
            "Upload-Offset": str(size if progress is None else progress[0]),
        })

    async def download(self, request: web.Request) -> web.StreamResponse:
        file_id = _decimal_id(request.match_info["file_id"])
        users = {client.username for client in self._connections(request)}
        users.discard(None)
        if not users:
            raise web.HTTPForbidden(text="not logged in\n")
        stored = None if file_id is None else self.ctx.store.file(file_id)
        if stored is None or not any(
            stored.visible_to(user, self.hub.rooms.joined(user)) for user in users if user
        ):
            raise web.HTTPNotFound(text="no such file\n")
        path = self.ctx.storage.path_of(stored.stored_name)
        if not path.is_file():
            log.error("stored file %s of file %d is missing", path.name, stored.id)
            raise web.HTTPNotFound(text="the file is gone\n")
        return _FileResponse(path, headers={
            "Content-Type": "application/octet-stream",
            "Content-Disposition": _attachment(stored.name),
            "Cache-Control": "private, no-cache",
            "X-File-SHA256": stored.sha256.hex(),
        })
