"""The browser upload's token (docs/protocol.md 1.1): on a version 5 WebSocket
an ``UploadTicket`` follows each ``FileAccepted``, and the PUT of the bytes
must carry its token as ``Upload-Token``; a version 4 WebSocket keeps the
cookie-only rule, and TCP never gets a ticket. Against a real chat-server."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from pathlib import Path

from chatproto import (
    FileAvailable,
    FileChunk,
    FileEnd,
    Ping,
    Pong,
    UploadTicket,
)
from support import RawClient, ServerProcess, upload

from .conftest import url_of, web_server_process
from .test_web_http_files import offer, put
from .webclient import WebChat, request, session_cookie

#: The lifetime of the expiry tests' tokens, set by the server's variable.
LIFETIME = 2.0


def _available(client: WebChat, upload_id: int) -> FileAvailable:
    return client.wait_for(lambda e: isinstance(e, FileAvailable) and e.upload_id == upload_id
                           and e.sender == client.conn.username)


def _one_line(body: bytes) -> bool:
    return body.endswith(b"\n") and body.count(b"\n") == 1 and len(body) > 1


def test_a_version_5_put_needs_the_token_of_its_ticket(web_server: ServerProcess) -> None:
    url = url_of(web_server)
    cookie = session_cookie(url)
    data = os.urandom(200_000)
    with WebChat.login_as(url, cookie, "alice") as alice:
        assert alice.conn.speaks_upload_tickets
        token = offer(alice, 1, data)
        assert token is not None
        (ticket,) = [e for e in alice.received if isinstance(e, UploadTicket)]
        assert ticket.expires_in_ms == 60_000, "the default lifetime"
        # Right after its FileAccepted: nothing between them.
        assert alice.received.index(ticket) == len(alice.received) - 1
        for wrong in (None, "", secrets.token_bytes(32), token.hex().upper(), token.hex()[:-2],
                      token.hex() + "00", "not hex at all"):
            refused = put(url, 1, data, cookie, token=wrong)
            assert refused.status == 403, (wrong, refused)
            assert _one_line(refused.body), refused.body
        # ...and the upload is as it was: the right token sends it whole.
        done = put(url, 1, data, cookie, token=token)
        assert (done.status, done.header("upload-offset")) == (204, str(len(data))), done
        mine = _available(alice, 1)
        assert mine.sha256 == hashlib.sha256(data).digest() and mine.size == len(data)
        got = request(url, "GET", f"/files/{mine.file_id}", cookie=cookie)
        assert got.status == 200 and got.body == data
        assert got.header("x-file-sha256") == hashlib.sha256(data).hexdigest()
        # The token is spent with its upload: it opens nothing more.
        assert put(url, 1, b"x", cookie, token=token).status == 404


def test_the_token_tells_apart_two_uploads_of_one_cookie_with_the_same_id(
    web_server: ServerProcess,
) -> None:
    """Upload ids are per connection: two WebSockets of one browser may both
    have upload 1 waiting, and each token feeds its own."""
    url = url_of(web_server)
    cookie = session_cookie(url)
    with WebChat.login_as(url, cookie, "alice") as alice, \
         WebChat.login_as(url, cookie, "dave") as dave:
        alice_token = offer(alice, 1, b"alice's bytes")
        dave_token = offer(dave, 1, b"dave's other bytes")
        assert alice_token is not None and dave_token is not None
        assert alice_token != dave_token
        assert put(url, 1, b"dave's other bytes", cookie, token=dave_token).status == 204
        assert _available(dave, 1).sha256 == hashlib.sha256(b"dave's other bytes").digest()
        assert put(url, 1, b"alice's bytes", cookie, token=dave_token).status == 403
        assert put(url, 1, b"alice's bytes", cookie, token=alice_token).status == 204
        assert _available(alice, 1).sha256 == hashlib.sha256(b"alice's bytes").digest()


def test_a_token_lasts_its_lifetime_after_the_last_byte_taken(tmp_path: Path) -> None:
    """Short-lived, but a slow upload that keeps moving never expires; one that
    stops for longer than the lifetime is refused and stays as it was."""
    env = {"CHAT_SERVER_UPLOAD_TOKEN_LIFETIME": str(LIFETIME)}
    with web_server_process(tmp_path / "data", "--flood-rate", "0", env=env) as server:
        url = url_of(server)
        cookie = session_cookie(url)
        with WebChat.login_as(url, cookie, "alice") as alice:
            data = b"0123456789" * 30
            token = offer(alice, 1, data)
            assert [e.expires_in_ms for e in alice.received if isinstance(e, UploadTicket)] == [
                int(LIFETIME * 1000)]
            # Three pieces, 0.6 of the lifetime apart: longer than the lifetime
            # since the ticket, never that long since the last byte.
            for start in (0, 100, 200):
                if start:
                    time.sleep(LIFETIME * 0.6)
                piece = put(url, 1, data[start : start + 100], cookie, offset=start, token=token)
                assert piece.status == 204, (start, piece)
            assert _available(alice, 1).sha256 == hashlib.sha256(data).digest()

            token = offer(alice, 2, b"late bytes")
            time.sleep(LIFETIME * 1.3)
            expired = put(url, 2, b"late bytes", cookie, token=token)
            assert expired.status == 403 and b"expired" in expired.body, expired
            assert put(url, 2, b"late bytes", cookie, token=token).status == 403
            # The upload itself is still open on its WebSocket, untouched.
            alice.send(FileChunk(2, 0, b"late bytes"))
            alice.send(FileEnd(2))
            assert _available(alice, 2).sha256 == hashlib.sha256(b"late bytes").digest()


def test_a_version_4_websocket_uploads_with_the_cookie_only(web_server: ServerProcess) -> None:
    url = url_of(web_server)
    cookie = session_cookie(url)
    data = os.urandom(70_000)
    with WebChat.login_as(url, cookie, "alice", version=4) as alice:
        assert alice.conn.version == 4 and not alice.conn.speaks_upload_tickets
        assert offer(alice, 1, data) is None
        done = put(url, 1, data, cookie)
        assert done.status == 204, done
        assert _available(alice, 1).sha256 == hashlib.sha256(data).digest()
        assert not [e for e in alice.received if isinstance(e, UploadTicket)]


def test_tcp_never_gets_an_upload_ticket(web_server: ServerProcess) -> None:
    with RawClient.login_as(web_server, "bob", "pw") as bob:
        assert bob.conn.speaks_upload_tickets, "version 5 over TCP too"
        assert isinstance(upload(bob, b"over tcp", name="t.txt"), FileAvailable)
        bob.send(Ping(9))
        bob.wait_for(lambda e: isinstance(e, Pong) and e.nonce == 9)
        assert not [e for e in bob.received if isinstance(e, UploadTicket)]
