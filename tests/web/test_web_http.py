"""The web listener at the HTTP level: the page's headers and cookie,
keep-alive, the WebSocket's door and its one-frame-per-message framing
(files over HTTP: test_web_http_files.py)."""

from __future__ import annotations

import contextlib
import re
import time

import pytest

from chatproto import (
    ChatMessage,
    Error,
    ErrorCode,
    Hello,
    SendChat,
)
from chatproto.limits import MAX_TEXT_BYTES
from support import RawClient, ServerProcess

from .conftest import url_of
from .webclient import (
    COOKIE,
    Refused,
    Response,
    WebChat,
    WebSocket,
    connection,
    cookie_of,
    request,
    session_cookie,
)

CSP = {
    "default-src 'none'", "script-src 'self'", "style-src 'self'",
    "img-src 'self' blob: data:", "connect-src 'self'", "base-uri 'none'",
    "form-action 'none'", "frame-ancestors 'none'",
}


def csp_of(response: Response) -> set[str]:
    value = response.header("content-security-policy") or ""
    return {" ".join(part.split()) for part in value.split(";") if part.strip()}


def cookie_attributes(response: Response) -> set[str]:
    header = next(h for h in response.headers("set-cookie") if h.startswith(COOKIE + "="))
    return {part.strip().lower() for part in header.split(";")[1:]}


def assert_safe_headers(response: Response) -> None:
    policy = csp_of(response)
    # The contract's directives, each as strict; any more may only narrow.
    assert policy >= CSP, response.header("content-security-policy")
    for extra in policy - CSP:
        assert extra.split()[1:] in (["'self'"], ["'none'"]), extra
    assert response.header("x-content-type-options") == "nosniff"
    assert response.header("referrer-policy") == "no-referrer"


# -- the page and its files ---------------------------------------------------------------


def test_the_page_its_headers_and_its_cookie(web_server: ServerProcess) -> None:
    url = url_of(web_server)
    page = request(url, "GET", "/")
    assert page.status == 200, page
    assert (page.header("content-type") or "").startswith("text/html")
    assert_safe_headers(page)
    assert cookie_attributes(page) >= {"httponly", "samesite=strict", "path=/"}
    assert "secure" not in cookie_attributes(page)  # plain HTTP: a Secure cookie never returns
    first = cookie_of(page)
    assert first and len(first) >= 22  # random: at least 128 bits in base64
    second = session_cookie(url)
    assert second != first
    again = request(url, "GET", "/", cookie=first)
    assert again.status == 200 and cookie_of(again) is None  # one cookie per browser

    html = page.body.decode()
    assert '<script type="module" src="/static/app.js"></script>' in html
    assert '<link rel="stylesheet" href="/static/style.css">' in html
    # Nothing inline: the CSP would refuse it anyway, so it would be dead.
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), "an inline script"
    assert not re.search(r"\sstyle\s*=|<style", html, re.I), "an inline style"
    assert not re.search(r"\son[a-z]+\s*=", html, re.I), "an inline event handler"

    for name, kind in (("app.js", "javascript"), ("chatproto.js", "javascript"),
                       ("style.css", "text/css")):
        asset = request(url, "GET", f"/static/{name}")
        assert asset.status == 200, (name, asset.status)
        assert kind in (asset.header("content-type") or ""), (name, asset.header_list)
        assert_safe_headers(asset)


def test_one_connection_serves_request_after_request(web_server: ServerProcess) -> None:
    """Keep-alive, as a browser loads the page and its modules on a few
    connections: every request on the same connection is answered."""
    conn = connection(url_of(web_server), timeout=10)
    try:
        for path in ("/", "/static/app.js", "/static/style.css", "/static/chatproto.js", "/"):
            conn.request("GET", path)
            reply = conn.getresponse()
            assert reply.status == 200, (path, reply.status)
            reply.read()
    finally:
        conn.close()


def test_nothing_outside_the_static_folder_is_served(web_server: ServerProcess) -> None:
    for path in ("/static/nothing.js", "/static/../../pyproject.toml",
                 "/static/%2e%2e/%2e%2e/pyproject.toml", "/static/..%2f..%2fpyproject.toml",
                 "/static/", "/nothing", "/static/.hidden"):
        response = request(url_of(web_server), "GET", path)
        assert response.status in (400, 403, 404), (path, response)
        assert b"[project]" not in response.body
        assert response.header("x-content-type-options") == "nosniff"


def test_https_sets_a_secure_cookie_and_carries_the_websocket(
    web_server_tls: ServerProcess,
) -> None:
    url = url_of(web_server_tls)
    assert url.startswith("https://")
    page = request(url, "GET", "/")
    assert page.status == 200
    assert_safe_headers(page)
    assert cookie_attributes(page) >= {"httponly", "samesite=strict", "path=/", "secure"}
    with WebChat.login_as(url, cookie_of(page) or "", "alice") as alice:
        alice.send(SendChat("over wss"))
        assert alice.wait_for(ChatMessage).text == "over wss"


# -- the WebSocket -------------------------------------------------------------------------


def test_the_websocket_wants_the_cookie_and_the_pages_origin(
    web_server: ServerProcess,
) -> None:
    url = url_of(web_server)
    cookie = session_cookie(url)
    port = url.rsplit(":", 1)[1]
    for given_cookie, origin in [
        (None, ""),  # the page's origin, no cookie
        (cookie, "http://evil.example"),
        (cookie, f"http://evil.example:{port}"),
        (cookie, f"https://127.0.0.1:{port}"),  # another scheme is another origin
        (cookie, "null"),
        (cookie, None),  # no Origin header at all
    ]:
        with pytest.raises(Refused) as refused:
            WebSocket(url, given_cookie, origin).close()
        assert refused.value.status == 403, (given_cookie, origin)
    ws = WebSocket(url, cookie)  # both right: accepted
    ws.close()


def test_a_text_message_closes_the_websocket(web_server: ServerProcess) -> None:
    url = url_of(web_server)
    with WebChat(url, session_cookie(url)) as client:
        client.socket.send_text("hello")
        # protocol.md 1.1: Error(malformed) in a binary message, then the close.
        assert client.wait_for(Error).code == ErrorCode.MALFORMED
        assert client.socket.wait_closed() in (1000, 1003)


def test_one_frame_per_message_both_ways(web_server: ServerProcess) -> None:
    url = url_of(web_server)
    with WebChat.login_as(url, session_cookie(url), "alice") as alice, \
         RawClient.login_as(web_server, "bob", "pw") as bob:
        alice.send(SendChat("from the web"))
        assert bob.wait_for(ChatMessage).text == "from the web"
        texts = [f"tcp {i}" for i in range(20)] + ["x" * MAX_TEXT_BYTES]
        for text in texts:
            bob.send(SendChat(text))
        # WebChat checks that each message holds exactly one whole frame.
        got = [alice.wait_for(lambda e: isinstance(e, ChatMessage) and e.sender == "bob").text
               for _ in texts]
        assert got == texts


@pytest.mark.parametrize("cut", ["two frames", "half a frame", "fragmented"])
def test_a_message_that_is_not_one_frame_ends_the_connection(
    web_server: ServerProcess, cut: str,
) -> None:
    url = url_of(web_server)
    with WebChat.login_as(url, session_cookie(url), "alice") as alice:
        frame = alice.conn.send(SendChat("one"))
        if cut == "two frames":
            alice.socket.send_bytes(frame + alice.conn.send(SendChat("two")))
        elif cut == "half a frame":
            alice.socket.send_bytes(frame[:7])
        else:  # one frame, but in two WebSocket fragments
            alice.socket.send_bytes(frame[:7], finished=False)
            alice.socket.send_bytes(frame[7:])
        # The server tells why (an Error frame) or just closes; it never delivers.
        while (message := alice.socket.next_message()) is not None:
            alice.conn.receive_data(message)
            event = alice.conn.next_event()
            assert not isinstance(event, ChatMessage), event
            if isinstance(event, Error):
                break
    with RawClient.login_as(web_server, "bob", "pw") as bob:
        bob.send(SendChat("after"))
        assert bob.wait_for(ChatMessage).text == "after"  # no "one" before it


@pytest.mark.parametrize("over", [1, 8 << 20], ids=["one byte over", "8 MiB over"])
def test_a_message_over_the_frame_limit_is_refused_by_the_websocket(
    web_server: ServerProcess, over: int
) -> None:
    # The server refuses at the message's header, then reads and drops the
    # rest until the page closes: the whole message goes out (no broken
    # pipe) and the close code arrives (no reset in front of it).
    url = url_of(web_server)
    with WebChat.login_as(url, session_cookie(url), "alice") as alice:
        hello = next(e for e in alice.received if isinstance(e, Hello))
        alice.socket.send_bytes(bytes(5 + hello.max_frame_size + over))
        assert alice.socket.wait_closed() == 1009


def test_a_failed_websocket_that_keeps_sending_is_cut_off(web_server: ServerProcess) -> None:
    # Reading on after the failure is for the rest of one message, not for
    # ever: a peer that keeps sending is aborted after CLOSE_LINGER (2 s).
    url = url_of(web_server)
    with WebChat.login_as(url, session_cookie(url), "alice") as alice:
        hello = next(e for e in alice.received if isinstance(e, Hello))
        alice.socket.send_bytes(bytes(5 + hello.max_frame_size + 1))
        deadline = time.monotonic() + 30
        with pytest.raises(OSError):
            while time.monotonic() < deadline:
                alice.socket.send_bytes(bytes(65536))
                time.sleep(0.01)


def test_an_oversized_message_over_wss_is_refused_with_its_close_code(
    web_server_tls: ServerProcess,
) -> None:
    url = url_of(web_server_tls)
    with WebChat.login_as(url, session_cookie(url), "alice") as alice:
        hello = next(e for e in alice.received if isinstance(e, Hello))
        alice.socket.send_bytes(bytes(5 + hello.max_frame_size + (8 << 20)))
        assert alice.socket.wait_closed() == 1009


def test_after_an_error_over_wss_the_close_handshake_ends_the_connection(
    web_server_tls: ServerProcess,
) -> None:
    # The server lingers after an Error for a peer still sending, but the
    # peer's close frame ends that: the TCP connection ends at once, not
    # when the linger (CLOSE_LINGER, 2 s) runs out.
    url = url_of(web_server_tls)
    with WebChat.login_as(url, session_cookie(url), "alice") as alice:
        started = time.monotonic()
        alice.socket.send_text("only binary messages are spoken")
        assert alice.socket.wait_closed() == 1000  # its close frame answered by ours
        alice.socket.sock.settimeout(10)
        with contextlib.suppress(OSError):
            while alice.socket.sock.recv(65536):
                pass
        assert time.monotonic() - started < 1.5
