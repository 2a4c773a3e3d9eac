"""The web listener's HTTP side: the page, its files, and the chat's files.

- ``GET /`` and ``GET /static/NAME``: the browser client, from memory
  (``assets``); the page's response sets the session cookie (``sessions``).
- ``PUT /files/upload/UPLOAD_ID``: the body of an upload that one of this
  browser's WebSocket connections offered and the server accepted; fed to
  that connection as FileChunk and FileEnd frames, so it is checked, hashed
  and kept exactly as a TCP upload. ``Upload-Offset`` (default 0) says where
  the body starts: after a broken request the page sends the rest. On a
  version 5 connection ``Upload-Token`` must be the token of the upload's
  ``UploadTicket`` (``websocket.py``), else 403.
- ``GET /files/FILE_ID``: a stored file, to a browser whose logged-in
  connection may see it (the rule of FetchFile), with ``Range``.

Which upload a PUT may feed and how a download is answered are decided,
without I/O, in ``file_requests.py``; this module reads the requests,
applies those decisions and writes the answers.

HTTP/1.1 is h11's (sans-IO, like the rest of the server's edges) in an
``asyncio.Protocol`` per connection. aiohttp was the first choice and was
measured: it adds 15.6 MB to the server's resident memory at rest, half of
what the whole server needs without it, for four routes that need no more
than this module (docs/performance.md, "Browser client").

Every response carries a strict Content-Security-Policy: nothing but the
page's own scripts, styles and connections, so a peer's text that a bug
let through as HTML still could not run.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

import h11

from ..context import ServerContext
from ..files.uploads import ByteReader
from ..hub import Hub
from ..log import log
from .assets import Asset
from .file_requests import Refusal, Upload, claim_upload, decimal_id, download_head
from .http_fields import Headers, RequestHeaders, header
from .sessions import COOKIE, WebSessions, new_session_id, session_cookie, valid_session_id
from .websocket import WebSocketClientProtocol

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
MAX_HEAD = 16 * 1024
#: A keep-alive connection with nothing to do is closed after this long.
IDLE_TIMEOUT = 30.0
#: Bytes of a stored file read and written at a time.
FILE_PIECE = 256 * 1024


class WebApp:
    """What every HTTP connection of one web listener shares."""

    def __init__(self, ctx: ServerContext, hub: Hub, sessions: WebSessions,
                 assets: dict[str, Asset], secure: bool) -> None:
        self.ctx = ctx
        self.hub = hub
        self.sessions = sessions
        self.assets = assets
        self.secure = secure
        self.connections: set[HttpConnection] = set()
        #: (connection, upload id) whose body a request is sending right now.
        self.sending: set[tuple[int, int]] = set()

    def web_clients(self, cookie: str | None) -> list[WebSocketClientProtocol]:
        return [c for c in self.sessions.logged_in(cookie)
                if isinstance(c, WebSocketClientProtocol)]

    def close_all(self) -> None:
        for connection in list(self.connections):
            connection.close()


class HttpConnection(asyncio.Protocol):
    """One HTTP/1.1 connection (keep-alive: one request after another)."""

    def __init__(self, app: WebApp) -> None:
        self.app = app
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        self.transport: asyncio.Transport | None = None
        self._upload: Upload | None = None
        self._cookie: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._writable = asyncio.Event()
        self._writable.set()
        loop = asyncio.get_running_loop()
        self._clock = loop.time
        self._last_seen = self._clock()
        self._idle_check = loop.call_later(IDLE_TIMEOUT, self._check_idle)

    # -- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.app.connections.add(self)

    def data_received(self, data: bytes) -> None:
        self._last_seen = self._clock()
        try:
            self.h11.receive_data(data)
        except RuntimeError:  # after a close: nothing more is read
            return
        self._process()

    def eof_received(self) -> bool | None:
        with contextlib.suppress(RuntimeError):  # after a close
            self.h11.receive_data(b"")
        self._process()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.app.connections.discard(self)
        self._idle_check.cancel()
        self._end_upload()
        if self._task is not None:
            self._task.cancel()
        self._writable.set()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # -- events in ----------------------------------------------------------------------

    def _process(self) -> None:
        while self.transport is not None and not self.transport.is_closing():
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                self._fail(exc.error_status_hint, "bad request")
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self._request(event)
            elif isinstance(event, h11.Data):
                self._body(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._body_done()
                self._next_cycle()  # a request answered before its end was read
            elif isinstance(event, h11.ConnectionClosed):
                self.close()
                return

    def _request(self, request: h11.Request) -> None:
        method = request.method.decode("ascii", "replace")
        path = request.target.decode("ascii", "replace").partition("?")[0]
        self._cookie = session_cookie(
            value.decode("latin-1") for name, value in request.headers if name == b"cookie")
        if method in ("GET", "HEAD") and path == "/":
            self._page(method)
        elif method in ("GET", "HEAD") and path.startswith("/static/"):
            self._static(method, path.removeprefix("/static/"), request.headers)
        elif method == "PUT" and path.startswith("/files/upload/"):
            self._start_upload(path.removeprefix("/files/upload/"), request.headers)
        elif method in ("GET", "HEAD") and path.startswith("/files/"):
            self._download(method, path.removeprefix("/files/"), request.headers)
        elif path in ("/", "/ws") or path.startswith(("/static/", "/files/")):
            self._respond(405, b"method not allowed\n", [(b"allow", b"GET, HEAD, PUT")])
        else:
            self._respond(404, b"not found\n")

    # -- the page and its files ------------------------------------------------------

    def _page(self, method: str) -> None:
        headers: Headers = [(b"cache-control", b"no-cache")]
        if not valid_session_id(self._cookie):
            secure = "; Secure" if self.app.secure else ""
            cookie = f"{COOKIE}={new_session_id()}; Path=/; HttpOnly; SameSite=Strict{secure}"
            headers.append((b"set-cookie", cookie.encode("ascii")))
        self._asset(method, self.app.assets["index.html"], headers)

    def _static(self, method: str, name: str, request_headers: RequestHeaders) -> None:
        asset = self.app.assets.get(name)
        if asset is None:
            self._respond(404, b"not found\n")
            return
        etag = asset.etag.encode("ascii")
        if header(request_headers, b"if-none-match") == etag:
            self._respond(304, b"", [(b"etag", etag)])
            return
        self._asset(method, asset, [(b"cache-control", b"no-cache")])

    def _asset(self, method: str, asset: Asset, headers: Headers) -> None:
        headers += [(b"content-type", asset.content_type.encode()),
                    (b"etag", asset.etag.encode("ascii"))]
        self._respond(200, asset.body, headers, head_only=method == "HEAD")

    # -- uploads ---------------------------------------------------------------------------

    def _start_upload(self, text_id: str, headers: RequestHeaders) -> None:
        claim = claim_upload(text_id, self.app.web_clients(self._cookie), headers,
                             self.app.sending)
        if isinstance(claim, Refusal):
            self._refuse(claim.status, claim.body, claim.headers)
            return
        self._upload = claim
        self.app.sending.add(claim.key)
        if claim.start == claim.size:  # an empty file: only its FileEnd
            claim.client.upload_body(claim.upload_id, b"")

    def _body(self, data: bytes) -> None:
        upload = self._upload
        if upload is None:
            return  # the body of a request that has no use for one
        if not upload.client.upload_body(upload.upload_id, data):
            self._end_upload()
            self._refuse(410, b"the upload's connection has ended\n")

    def _body_done(self) -> None:
        upload = self._upload
        if upload is None:
            return
        self._end_upload()
        progress = upload.client.upload_progress(upload.upload_id)
        offset = str(upload.size if progress is None else progress[0]).encode()
        self._respond(204, b"", [(b"upload-offset", offset)])

    def _end_upload(self) -> None:
        if self._upload is not None:
            self.app.sending.discard(self._upload.key)
            self._upload = None

    # -- downloads ---------------------------------------------------------------------------

    def _download(self, method: str, text_id: str, headers: RequestHeaders) -> None:
        file_id = decimal_id(text_id)
        users = [c.username for c in self.app.web_clients(self._cookie) if c.username]
        if not users:
            self._respond(403, b"not logged in\n")
            return
        store, rooms = self.app.ctx.store, self.app.hub.rooms
        stored = None if file_id is None else store.file(file_id)
        if stored is None or not any(stored.visible_to(u, rooms.joined(u)) for u in users):
            self._respond(404, b"no such file\n")
            return
        head = download_head(stored, headers)
        if head is None:
            self._respond(416, b"", [(b"content-range", f"bytes */{stored.size}".encode())])
            return
        try:
            handle = self.app.ctx.storage.bytes.reader(stored.stored_name)
        except OSError as exc:
            log.error("stored file %s of file %d is unreadable: %s", stored.stored_name,
                      stored.id, exc)
            self._respond(404, b"the file is gone\n")
            return
        self._send(h11.Response(status_code=head.status,
                                headers=[*head.headers, *SECURITY_HEADERS]))
        if method == "HEAD":
            handle.close()
            self._send(h11.EndOfMessage())
            self._next_cycle()
            return
        self._task = asyncio.get_running_loop().create_task(
            self._stream(handle, stored.stored_name, head.start, head.end))

    async def _stream(self, handle: ByteReader, name: str, start: int, end: int) -> None:
        """The bytes ``start`` to ``end`` of a stored file, wherever its bytes
        live (``files.uploads.FileBytes``), at the pace the client reads."""
        try:
            position = start
            while position < end:
                await self._writable.wait()
                if self.transport is None or self.transport.is_closing():
                    return
                try:
                    data = await handle.read(position, min(FILE_PIECE, end - position))
                except OSError as exc:
                    log.error("stored file %s is unreadable: %s", name, exc)
                    data = b""
                if self.transport is None or self.transport.is_closing():
                    return
                if not data:
                    log.error("stored file %s is truncated", name)
                    self.close()  # its length was promised: the client sees a short body
                    return
                self._send(h11.Data(data=data))
                position += len(data)
                self._last_seen = self._clock()
        finally:
            handle.close()
        self._task = None
        self._send(h11.EndOfMessage())
        self._next_cycle()

    # -- responses ----------------------------------------------------------------------------

    def _respond(self, status: int, body: bytes, headers: Iterable[tuple[bytes, bytes]] = (),
                 *, head_only: bool = False) -> None:
        if self.h11.our_state is not h11.SEND_RESPONSE:
            return
        all_headers = [*headers, (b"content-length", str(len(body)).encode())]
        if status >= 400:
            all_headers.append((b"content-type", b"text/plain; charset=utf-8"))
        self._send(h11.Response(status_code=status, headers=[*all_headers, *SECURITY_HEADERS]))
        if body and not head_only:
            self._send(h11.Data(data=body))
        self._send(h11.EndOfMessage())
        self._next_cycle()

    def _refuse(self, status: int, body: bytes, headers: Headers | None = None) -> None:
        """An answer before the request's body was read: the connection ends
        after it (what the body would have been is not waited for)."""
        self._respond(status, body, [*(headers or []), (b"connection", b"close")])

    def _send(self, event: h11.Event) -> None:
        data = self.h11.send(event)
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _next_cycle(self) -> None:
        """After a response: the next request on this connection, or the end."""
        if self.h11.our_state is h11.SEND_RESPONSE or self.h11.our_state is h11.SEND_BODY:
            return  # our answer is still going out (a download): it comes back here
        if self.h11.our_state is h11.MUST_CLOSE or self.h11.their_state is h11.MUST_CLOSE:
            self.close()
        elif self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
            asyncio.get_running_loop().call_soon(self._process)  # pipelined requests

    def _fail(self, status: int, message: str) -> None:
        if self.h11.our_state is h11.SEND_RESPONSE:
            self._respond(status, message.encode() + b"\n", [(b"connection", b"close")])
        self.close()

    def _check_idle(self) -> None:
        idle = self._clock() - self._last_seen
        if self._task is None and self._upload is None and idle >= IDLE_TIMEOUT:
            self.close()
            return
        self._idle_check = asyncio.get_running_loop().call_later(
            max(IDLE_TIMEOUT - idle, 1.0), self._check_idle)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
