"""TLS end to end with the real ``chat-server`` process (issue 7, item 1).

These need the server wired to ``chatserver.tls`` (TLS on by default, the
fingerprint in the start-up log, ``--no-tls``, ``--tls-cert``/``--tls-key``).
"""

from __future__ import annotations

import re
import socket
import subprocess
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

import support
from chatproto.session.tls import ClientTLS, PinStore, TLSFailed, TrustMode, fingerprint
from chatserver.tls import CERT_FILE
from support import ServerProcess, server_command

from .test_tls_pinning import _log_in
from .tlsutil import Authority, connect, recording_proxy

PASSWORD = "correct-horse-battery-staple-비번"


def server_process(data_dir: Path, *args: str) -> AbstractContextManager[ServerProcess]:
    """``chat-server`` with exactly ``args``: TLS stays at its default unless they
    say otherwise."""
    return support.server_process(data_dir, *args, tls=True)


FINGERPRINT_RE = r"(SHA256:(?:[0-9A-F]{2}:){31}[0-9A-F]{2})"


def _file_fingerprint(path: Path) -> str:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return fingerprint(cert.public_bytes(serialization.Encoding.DER))


def test_tls_is_on_by_default_with_the_fingerprint_logged_and_no_password_on_the_wire(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    pins = PinStore(tmp_path / "pins")
    with server_process(data) as server:
        logged = server.wait_for_line(FINGERPRINT_RE).group(1)
        assert logged == _file_fingerprint(data / CERT_FILE)
        with recording_proxy(server.address) as proxy:
            sock, trust = connect(*proxy.address, ClientTLS(pins=pins))
            with sock:
                assert _log_in(sock, "alice", PASSWORD).username == "alice"
            assert trust.mode is TrustMode.NEW_PIN and trust.fingerprint == logged
            captured = proxy.captured()
        assert len(captured) > 200
        assert PASSWORD.encode() not in captured and b"alice" not in captured
    with server_process(data) as again:  # same data dir: same certificate
        assert again.wait_for_line(FINGERPRINT_RE).group(1) == logged
        sock, trust = connect(*again.address, ClientTLS(pins=pins, fingerprint=logged))
        with sock:
            _log_in(sock, "alice", PASSWORD)


def test_no_tls_serves_plain_tcp_and_says_so(tmp_path: Path) -> None:
    with server_process(tmp_path / "data", "--no-tls") as server:
        server.wait_for_line(r"(?i)(without tls|tls (is )?(off|disabled)|plain tcp|no-tls)")
        sock, trust = connect(*server.address, ClientTLS(enabled=False))
        with sock:
            _log_in(sock)
        assert trust.mode is TrustMode.PLAIN
        with pytest.raises(TLSFailed, match="--no-tls"):
            connect(*server.address, ClientTLS(pins=PinStore(tmp_path / "pins")), timeout=5)


def test_a_given_ca_signed_certificate_is_served_and_verified(tmp_path: Path) -> None:
    ca = Authority.create(tmp_path)
    leaf, key = ca.issue(tmp_path / "leaf")
    with server_process(tmp_path / "data", "--tls-cert", str(leaf), "--tls-key", str(key)
                        ) as server:
        assert server.wait_for_line(FINGERPRINT_RE).group(1) == _file_fingerprint(leaf)
        pins = PinStore(tmp_path / "pins")
        sock, trust = connect(*server.address, ClientTLS(pins=pins, ca_file=ca.path))
        with sock:
            _log_in(sock)
        assert trust.mode is TrustMode.CA and not pins.path.exists()
    assert not (tmp_path / "data" / CERT_FILE).exists()


def test_a_bad_key_stops_the_server_with_one_clear_line(tmp_path: Path) -> None:
    ca = Authority.create(tmp_path)
    leaf, _ = ca.issue(tmp_path / "a")
    _, other_key = ca.issue(tmp_path / "b")
    result = subprocess.run(
        server_command("--host", "127.0.0.1", "--port", "0", "--data-dir",
                       str(tmp_path / "data"), "--tls-cert", str(leaf),
                       "--tls-key", str(other_key)),
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert re.search(r"cannot use .*leaf\.pem", result.stderr + result.stdout)


def test_a_silent_connection_is_dropped_during_the_tls_handshake(tmp_path: Path) -> None:
    """asyncio calls the protocol only after the handshake: the handshake needs
    its own timeout, or a silent client holds its socket forever."""
    with server_process(tmp_path / "data", "--login-timeout", "1") as server, \
            socket.create_connection(server.address, timeout=15) as silent:
        try:
            while silent.recv(1024):  # an Error frame or a TLS alert may come first
                pass
        except ConnectionResetError:
            pass  # closed all the same; a recv timeout (TimeoutError) fails the test


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_session_pins_on_first_use_and_refuses_a_new_certificate(tmp_path: Path) -> None:
    """Through the real client session (``Session.connect(..., tls=ClientTLS)``,
    its outcome in ``session.trust``), as chat-cli and the GUI use it."""
    from chatproto.session.blocking import Session
    from chatproto.session.tls import FingerprintMismatch
    from chatserver.tls import KEY_FILE

    data = tmp_path / "data"
    pins = PinStore(tmp_path / "pins")
    port = _free_port()
    with server_process(data, "--port", str(port)) as server:
        first = server.wait_for_line(FINGERPRINT_RE).group(1)
        with Session.connect("127.0.0.1", port, "alice", PASSWORD,
                             tls=ClientTLS(pins=pins)) as session:
            assert session.trust.mode is TrustMode.NEW_PIN
            assert session.trust.fingerprint == first
    (data / CERT_FILE).unlink()
    (data / KEY_FILE).unlink()
    with server_process(data, "--port", str(port)) as server:
        second = server.wait_for_line(FINGERPRINT_RE).group(1)
        with pytest.raises(FingerprintMismatch) as refused:
            Session.connect("127.0.0.1", port, "alice", PASSWORD,
                            tls=ClientTLS(pins=pins))
        assert first in str(refused.value) and second in str(refused.value)
