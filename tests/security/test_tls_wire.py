"""What crosses the wire: a recording proxy between client and server sees no
password with TLS on (and, as a control, sees it with TLS off)."""

from __future__ import annotations

import re
from pathlib import Path

from chatproto.session.tls import ClientTLS, PinStore, TrustMode
from chatserver.tls import ensure_self_signed, server_context

from .test_tls_pinning import _log_in
from .tlsutil import connect, login_server, recording_proxy

PASSWORD = "hunter2-비밀번호-correct-horse"


def _capture_login(tmp_path: Path, tls: bool) -> tuple[bytes, str]:
    context = server_context(ensure_self_signed(tmp_path / "srv")) if tls else None
    with login_server(context) as server, recording_proxy(server.address) as proxy:
        host, port = proxy.address
        client = ClientTLS(enabled=tls, pins=PinStore(tmp_path / "pins"))
        sock, trust = connect(host, port, client)
        with sock:
            assert _log_in(sock, "alice", PASSWORD).username == "alice"
        assert trust.mode is (TrustMode.NEW_PIN if tls else TrustMode.PLAIN)
        assert [login.password for login in server.logins] == [PASSWORD]
    return proxy.captured(), PASSWORD


def test_no_password_bytes_on_the_wire_with_tls(tmp_path: Path) -> None:
    captured, password = _capture_login(tmp_path, tls=True)
    assert len(captured) > 200, "the proxy saw the handshake"
    for needle in (password.encode(), password.encode("utf-16-le"), b"hunter2", b"alice"):
        assert needle not in captured
    assert captured[:1] == b"\x16", "the first byte is a TLS handshake record"


def test_control_the_proxy_does_see_the_password_without_tls(tmp_path: Path) -> None:
    captured, password = _capture_login(tmp_path, tls=False)
    assert password.encode() in captured
    assert re.search(rb"alice", captured)
