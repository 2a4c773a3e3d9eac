"""Files over HTTP: uploads (PUT of an offered upload's body) and
downloads (GET with Range), with their refusals and who may fetch what."""

from __future__ import annotations

import hashlib
import os
import re
import selectors
import socket
from urllib.parse import unquote

from chatproto import (
    CreateRoom,
    FileAccepted,
    FileAvailable,
    FileOffer,
    FileRejected,
    RejectReason,
    RequestDone,
    UploadTicket,
    sanitize_filename,
)
from support import RawClient, ServerProcess, fetch, upload

from .conftest import url_of
from .webclient import COOKIE, Response, WebChat, connection, request, session_cookie

# -- uploads ---------------------------------------------------------------------------------


def put(url: str, upload_id: int, body: bytes, cookie: str | None,
        offset: int | None = None, token: bytes | str | None = None) -> Response:
    """The PUT of an upload's body; ``token``: its ``Upload-Token`` (bytes as
    lowercase hex, a str as it is), none when None."""
    headers = {"Content-Type": "application/octet-stream"}
    if offset is not None:
        headers["Upload-Offset"] = str(offset)
    if token is not None:
        headers["Upload-Token"] = token.hex() if isinstance(token, bytes) else token
    return request(url, "PUT", f"/files/upload/{upload_id}", cookie=cookie, body=body,
                   headers=headers)


def put_chunked(url: str, upload_id: int, cookie: str, token: bytes | None = None) -> int:
    """A PUT without Content-Length (a chunked body): the status. Only the
    head is sent: the server may answer and close before any body, and a
    body still being written then would only make a broken pipe here."""
    conn = connection(url)
    try:
        conn.putrequest("PUT", f"/files/upload/{upload_id}")
        conn.putheader("Cookie", f"{COOKIE}={cookie}")
        conn.putheader("Transfer-Encoding", "chunked")
        if token is not None:
            conn.putheader("Upload-Token", token.hex())
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


def offer(client: WebChat, upload_id: int, data: bytes, name: str = "up.bin",
          sha256: bytes | None = None) -> bytes | None:
    """Offer an upload and wait for its FileAccepted; the token of the
    UploadTicket right behind it (version 5), None on a version 4 WebSocket."""
    digest = sha256 if sha256 is not None else hashlib.sha256(data).digest()
    client.send(FileOffer(upload_id, name, len(data), digest, None))
    client.wait_for(lambda e: isinstance(e, FileAccepted) and e.upload_id == upload_id)
    if not client.conn.speaks_upload_tickets:
        return None
    ticket = client.wait_for(UploadTicket)
    assert ticket.upload_id == upload_id and len(ticket.token) == 32, ticket
    return ticket.token


def test_uploads_over_http_and_their_refusals(web_server: ServerProcess) -> None:
    url = url_of(web_server)
    cookie = session_cookie(url)
    assert put(url, 1, b"x", None).status == 403  # no cookie
    assert put(url, 1, b"x", cookie).status == 403  # no logged-in WebSocket yet
    with WebChat.login_as(url, cookie, "alice") as alice, \
         RawClient.login_as(web_server, "bob", "pw") as bob:
        assert put(url, 77, b"x", cookie).status == 404  # never offered
        data = os.urandom(300_000)
        token = offer(alice, 1, data)
        # Another session, logged in too, cannot claim alice's upload.
        other = session_cookie(url)
        with WebChat.login_as(url, other, "carol"):
            assert put(url, 1, data, other, token=token).status == 404
        assert put(url, 1, data, cookie, token=token).status == 204
        mine = alice.wait_for(lambda e: isinstance(e, FileAvailable) and e.upload_id == 1
                              and e.sender == "alice")
        announced = bob.wait_for(FileAvailable)
        assert announced.file_id == mine.file_id and announced.sha256 == mine.sha256
        assert fetch(bob, announced.file_id) == data
        assert put(url, 1, data, cookie, token=token).status == 404  # done: no longer open

        token = offer(alice, 2, b"0123456789")
        assert put(url, 2, b"0123456789+", cookie, token=token).status == 413
        assert put_chunked(url, 2, cookie, token) == 411
        # A short body is kept, the rest may follow from its Upload-Offset
        # (protocol.md 1.1: resumable); a wrong offset is 409 with the right one.
        token = offer(alice, 3, b"0123456789")
        short = put(url, 3, b"01234", cookie, token=token)
        assert (short.status, short.header("upload-offset")) == (204, "5"), short
        wrong = put(url, 3, b"56789", cookie, token=token)  # from 0 again: wrong
        assert (wrong.status, wrong.header("upload-offset")) == (409, "5"), wrong
        rest = put(url, 3, b"56789", cookie, offset=5, token=token)
        assert (rest.status, rest.header("upload-offset")) == (204, "10"), rest
        done = alice.wait_for(lambda e: isinstance(e, FileAvailable) and e.upload_id == 3)
        assert done.sha256 == hashlib.sha256(b"0123456789").digest()
        bob.wait_for(lambda e: isinstance(e, FileAvailable) and e.file_id == done.file_id)
        assert fetch(bob, done.file_id) == b"0123456789"
        token = offer(alice, 4, b"0123456789", sha256=bytes(32))
        assert put(url, 4, b"0123456789", cookie, token=token).status == 204
        rejected = alice.wait_for(lambda e: isinstance(e, FileRejected) and e.upload_id == 4)
        assert rejected.reason == RejectReason.CHECKSUM_MISMATCH
    assert put(url, 5, b"x", cookie).status == 403  # logged out again


def _start_put(url: str, upload_id: int, size: int, cookie: str, first: bytes,
               token: bytes | None) -> socket.socket:
    """A PUT whose headers and first bytes are sent, the rest not yet."""
    conn = connection(url)
    conn.putrequest("PUT", f"/files/upload/{upload_id}")
    conn.putheader("Cookie", f"{COOKIE}={cookie}")
    if token is not None:
        conn.putheader("Upload-Token", token.hex())
    conn.putheader("Content-Length", str(size))
    conn.endheaders(first)
    assert conn.sock is not None
    return conn.sock


def _status(sock: socket.socket) -> int:
    head = b""
    while b"\r\n" not in head:
        part = sock.recv(4096)
        if not part:
            break
        head += part
    return int(head.split(b" ", 2)[1])


def test_a_second_put_of_an_upload_being_sent_is_409(web_server: ServerProcess) -> None:
    url = url_of(web_server)
    cookie = session_cookie(url)
    data = os.urandom(100_000)
    with WebChat.login_as(url, cookie, "alice") as alice:
        token = offer(alice, 1, data)
        a = _start_put(url, 1, len(data), cookie, data[:1000], token)
        b = _start_put(url, 1, len(data), cookie, data[:1000], token)
        # One of the two holds the upload; the other is answered 409 at once.
        a.setblocking(False)
        b.setblocking(False)
        with selectors.DefaultSelector() as selector:
            selector.register(a, selectors.EVENT_READ)
            selector.register(b, selectors.EVENT_READ)
            ready = selector.select(timeout=20)
        assert len(ready) == 1, ready
        loser = ready[0][0].fileobj
        winner = b if loser is a else a
        for sock in (a, b):
            sock.setblocking(True)
            sock.settimeout(20)
        assert isinstance(loser, socket.socket)
        assert _status(loser) == 409
        winner.sendall(data[1000:])
        assert _status(winner) == 204
        alice.wait_for(lambda e: isinstance(e, FileAvailable) and e.upload_id == 1)
        a.close()
        b.close()


# -- downloads -------------------------------------------------------------------------------


def test_downloads_whole_in_ranges_and_refused(web_server: ServerProcess) -> None:
    url = url_of(web_server)
    cookie = session_cookie(url)
    data = os.urandom(100_000)
    name = '보고서 "final"; v2.bin'
    with RawClient.login_as(web_server, "bob", "pw") as bob:
        event = upload(bob, data, name=name)
        assert isinstance(event, FileAvailable)
        file_id = event.file_id
    path = f"/files/{file_id}"
    assert request(url, "GET", path).status == 403
    assert request(url, "GET", path, cookie=cookie).status == 403  # no logged-in WebSocket
    with WebChat.login_as(url, cookie, "alice") as alice:
        whole = request(url, "GET", path, cookie=cookie)
        assert whole.status == 200 and whole.body == data
        assert whole.header("content-type") == "application/octet-stream"
        assert whole.header("content-length") == str(len(data))
        assert whole.header("accept-ranges") == "bytes"
        assert whole.header("x-content-type-options") == "nosniff"
        disposition = whole.header("content-disposition") or ""
        # RFC 6266: the exact name in filename*, an ASCII fallback allowed before it.
        match = re.fullmatch(
            r'attachment;(?: filename="[ !#-\[\]-~]*";)? '
            r"filename\*=UTF-8''([!#$&+\-.^_`|~0-9A-Za-z%]+)",
            disposition,
        )
        assert match, disposition
        assert unquote(match.group(1)) == sanitize_filename(name)

        part = request(url, "GET", path, cookie=cookie, headers={"Range": "bytes=10-19"})
        assert part.status == 206 and part.body == data[10:20]
        assert part.header("content-range") == f"bytes 10-19/{len(data)}"
        tail = request(url, "GET", path, cookie=cookie, headers={"Range": "bytes=99990-"})
        assert tail.status == 206 and tail.body == data[99_990:]

        assert request(url, "GET", "/files/987654", cookie=cookie).status == 404
        assert request(url, "GET", "/files/abc", cookie=cookie).status in (400, 404)
        # FetchFile over the WebSocket still works beside HTTP.
        assert fetch(alice, file_id) == data  # type: ignore[arg-type]  # duck-typed client
        alice.goodbye()
    assert request(url, "GET", path, cookie=cookie).status == 403


def test_a_downloads_etag_is_its_sha256(web_server: ServerProcess) -> None:
    """The contract: ``ETag: "<sha256 hex>"``, what the page checks an image by."""
    url = url_of(web_server)
    cookie = session_cookie(url)
    with RawClient.login_as(web_server, "bob", "pw") as bob, \
         WebChat.login_as(url, cookie, "alice"):
        event = upload(bob, b"tagged", name="tag.txt")
        assert isinstance(event, FileAvailable)
        response = request(url, "GET", f"/files/{event.file_id}", cookie=cookie)
        assert response.status == 200
        assert response.header("etag") == f'"{hashlib.sha256(b"tagged").hexdigest()}"', (
            response.header_list)


def test_files_of_a_private_room_or_a_dm_stay_with_their_people(
    web_server: ServerProcess,
) -> None:
    url = url_of(web_server)
    with RawClient.login_as(web_server, "bob", "pw") as bob, \
         WebChat.login_as(url, alice_cookie := session_cookie(url), "alice"), \
         WebChat.login_as(url, carol_cookie := session_cookie(url), "carol"):
        bob.send(CreateRoom(1, "secret", True))
        bob.wait_for(RequestDone)
        in_room = upload(bob, b"room only", name="room.txt", upload_id=1, recipient="#secret")
        direct = upload(bob, b"carol only", name="dm.txt", upload_id=2, recipient="carol")
        public = upload(bob, b"everyone", name="all.txt", upload_id=3)
        ids: dict[str, int] = {}
        for kind, event in (("room", in_room), ("dm", direct), ("all", public)):
            assert isinstance(event, FileAvailable), event
            ids[kind] = event.file_id
        expected = {
            (alice_cookie, "room"): 404, (alice_cookie, "dm"): 404, (alice_cookie, "all"): 200,
            (carol_cookie, "room"): 404, (carol_cookie, "dm"): 200, (carol_cookie, "all"): 200,
        }
        got = {(cookie, kind): request(url, "GET", f"/files/{ids[kind]}", cookie=cookie).status
               for cookie, kind in expected}
        assert got == expected
