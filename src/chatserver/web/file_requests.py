"""The chat's files over HTTP, decided without I/O: which upload a PUT may
send the bytes of, and how a GET of a stored file is answered.

Apart from the connection (``http_app.py``), which reads the requests and
writes what is decided here, because these are the rules to review: an
upload's bytes go only to the logged-in connection that offered it (with the
token of its ``UploadTicket`` on version 5), from where its bytes stand, and
no more of them than it offered; a stored file goes out only as an
attachment, under its sanitised name, whole or one ``Range`` of it. Who may
fetch a file at all is FetchFile's rule (``ports.StoredFile.visible_to``),
which the connection applies before it asks here how to answer.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Container, Sequence

import attrs

from chatproto import sanitize_filename

from ..ports import StoredFile
from .http_fields import Headers, RequestHeaders, header
from .ranges import byte_range
from .websocket import WebSocketClientProtocol

_MAX_ID = 2**64 - 1


def decimal_id(text: str) -> int | None:
    if not text.isascii() or not text.isdigit() or len(text) > 20:
        return None
    value = int(text)
    return value if value <= _MAX_ID else None


def attachment(name: str) -> bytes:
    """Content-Disposition for a peer-chosen name: sanitised, then both an
    ASCII fallback and the exact UTF-8 form (RFC 6266)."""
    safe = sanitize_filename(name)
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\%' else "_"
                       for c in safe)
    quoted = urllib.parse.quote(safe, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quoted}".encode("ascii")


# -- uploads ---------------------------------------------------------------------------


class Upload:
    """A PUT whose body is being fed to its WebSocket connection."""

    __slots__ = ("client", "key", "size", "start", "upload_id")

    def __init__(self, client: WebSocketClientProtocol, upload_id: int, size: int,
                 start: int) -> None:
        self.client = client
        self.upload_id = upload_id
        self.size = size
        #: Where this request's body starts in the file (its Upload-Offset).
        self.start = start
        self.key = (id(client), upload_id)


@attrs.frozen
class Refusal:
    """The answer to a PUT that may not send its body."""

    status: int
    body: bytes
    headers: Headers = attrs.Factory(list)


def claim_upload(text_id: str, clients: Sequence[WebSocketClientProtocol],
                 headers: RequestHeaders, sending: Container[tuple[int, int]]) -> Upload | Refusal:
    """The upload whose bytes the PUT of ``/files/upload/TEXT_ID`` sends, or
    why it may not. ``clients``: the logged-in connections of the request's
    cookie; ``sending``: the (connection, upload id) of the PUTs whose
    bodies are being fed right now."""
    upload_id = decimal_id(text_id)
    if not clients:
        return Refusal(403, b"not logged in\n")
    waiting = [] if upload_id is None else [
        c for c in clients if c.upload_progress(upload_id) is not None]
    if not waiting or upload_id is None:
        return Refusal(404, b"no such upload waiting for its bytes\n")
    # Version 5: the token of the connection's UploadTicket, too (upload
    # ids are per connection: the token says which one offered it).
    token = header(headers, b"upload-token")
    problems = [c.upload_token_problem(upload_id, token) for c in waiting]
    client = next((c for c, problem in zip(waiting, problems, strict=True)
                   if problem is None), None)
    if client is None:
        return Refusal(403, f"{problems[0]}\n".encode())
    progress = client.upload_progress(upload_id)
    assert progress is not None
    taken, size = progress
    key = (id(client), upload_id)
    offset = decimal_id(header(headers, b"upload-offset", b"0").decode("ascii", "replace"))
    if offset != taken or key in sending:
        return Refusal(409, b"send the bytes from Upload-Offset\n",
                       [(b"upload-offset", str(taken).encode())])
    length = _content_length(headers)
    if length is None:
        return Refusal(411, b"Content-Length is required\n")
    if length > size - taken:
        return Refusal(413, b"longer than the file offered\n")
    return Upload(client, upload_id, size, taken)


def _content_length(headers: RequestHeaders) -> int | None:
    if header(headers, b"transfer-encoding"):
        return None
    value = header(headers, b"content-length")
    return int(value) if value.isdigit() else None


# -- downloads ---------------------------------------------------------------------------


@attrs.frozen
class DownloadHead:
    """How a GET of a stored file is answered: ``status`` (200 or 206) and
    ``headers``, then the file's bytes ``start`` to ``end``."""

    status: int
    headers: Headers
    start: int
    end: int


def download_head(stored: StoredFile, headers: RequestHeaders) -> DownloadHead | None:
    """The answer to a GET of ``stored`` with these request ``headers``, or
    None when the ``Range`` it asks for is beyond the file (answer 416)."""
    etag = f'"{stored.sha256.hex()}"'.encode("ascii")
    wanted = header(headers, b"range")
    if_range = header(headers, b"if-range")
    span = byte_range(wanted, stored.size) if wanted and if_range in (b"", etag) else None
    common: Headers = [
        (b"content-type", b"application/octet-stream"),
        (b"content-disposition", attachment(stored.name)),
        (b"accept-ranges", b"bytes"), (b"etag", etag),
        (b"x-file-sha256", stored.sha256.hex().encode("ascii")),
        (b"cache-control", b"private, no-cache"),
    ]
    if span == "unsatisfiable":
        return None
    start, end = span if isinstance(span, tuple) else (0, stored.size)
    status = 206 if isinstance(span, tuple) else 200
    if status == 206:
        common.append((b"content-range", f"bytes {start}-{end - 1}/{stored.size}".encode()))
    common.append((b"content-length", str(end - start).encode()))
    return DownloadHead(status, common, start, end)
