"""chatproto.session.tls over real TLS on loopback: pins, CAs, refusals, plain TCP."""

from __future__ import annotations

import asyncio
import socket
import ssl
from pathlib import Path

import pytest

from chatproto import NEED_DATA, ClientConnection, Login, LoginAccepted
from chatproto.session.errors import ChatError
from chatproto.session.tls import (
    CertificateRefused,
    ClientTLS,
    FingerprintMismatch,
    PinRequest,
    PinStore,
    TLSFailed,
    TrustMode,
    config_dir,
    open_connection,
)
from chatserver.tls import ensure_self_signed, load_pair, server_context

from .tlsutil import Authority, LoginServer, connect, login_server


def _log_in(sock: socket.socket, name: str = "alice", password: str = "pw") -> LoginAccepted:
    conn = ClientConnection()
    sock.sendall(conn.send(conn.hello()) + conn.send(Login(name, password)))
    while True:
        data = sock.recv(65536)
        conn.receive_data(data)
        while (event := conn.next_event()) is not NEED_DATA:
            if isinstance(event, LoginAccepted):
                return event
        assert data, "server closed before accepting the login"


def _self_signed(directory: Path) -> tuple[str, ssl.SSLContext]:
    cert = ensure_self_signed(directory)
    return cert.fingerprint, server_context(cert)


@pytest.fixture
def pins(tmp_path: Path) -> PinStore:
    return PinStore(tmp_path / "config" / "known_servers")


def test_first_contact_pins_then_the_pin_is_checked(tmp_path: Path, pins: PinStore) -> None:
    fp, context = _self_signed(tmp_path / "srv")
    with login_server(context) as server:
        host, port = server.address
        sock, trust = connect(host, port, ClientTLS(pins=pins))
        with sock:
            _log_in(sock)
        assert trust.mode is TrustMode.NEW_PIN and trust.fingerprint == fp
        assert fp in trust.describe()
        assert pins.get(host, port) == fp
        assert pins.path.read_text() == f"{host}:{port} {fp}\n"
        sock, trust = connect(host, port, ClientTLS(pins=pins))
        with sock:
            _log_in(sock)
        assert trust.mode is TrustMode.PINNED
        assert len(server.logins) == 2


def test_a_changed_certificate_is_refused_naming_both_and_nothing_is_sent(
    tmp_path: Path, pins: PinStore
) -> None:
    old_fp, old_context = _self_signed(tmp_path / "old")
    new_fp, new_context = _self_signed(tmp_path / "new")
    with login_server(old_context) as server:
        host, port = server.address
        sock, _ = connect(host, port, ClientTLS(pins=pins))
        with sock:
            _log_in(sock)
        server.context = new_context  # the "attacker" cert
        with pytest.raises(FingerprintMismatch) as refused:
            connect(host, port, ClientTLS(pins=pins))
        message = str(refused.value)
        assert old_fp in message and new_fp in message and "\n" not in message
        assert refused.value.code == "fingerprint-mismatch"
        assert isinstance(refused.value, ChatError)
        assert pins.get(host, port) == old_fp, "the pin must not be replaced"
        assert len(server.logins) == 1, "no login may reach the impostor"


def test_asyncio_connections_check_the_pin_too(tmp_path: Path, pins: PinStore) -> None:
    old_fp, old_context = _self_signed(tmp_path / "old")
    _, new_context = _self_signed(tmp_path / "new")

    async def open_and_close(host: str, port: int) -> TrustMode:
        _, writer, trust = await open_connection(host, port, ClientTLS(pins=pins))
        writer.close()
        await writer.wait_closed()
        return trust.mode

    with login_server(old_context) as server:
        host, port = server.address
        assert asyncio.run(open_and_close(host, port)) is TrustMode.NEW_PIN
        assert asyncio.run(open_and_close(host, port)) is TrustMode.PINNED
        server.context = new_context
        with pytest.raises(FingerprintMismatch, match=old_fp):
            asyncio.run(open_and_close(host, port))


def test_an_explicit_fingerprint_must_match(tmp_path: Path, pins: PinStore) -> None:
    fp, context = _self_signed(tmp_path / "srv")
    other_fp, _ = _self_signed(tmp_path / "other")
    with login_server(context) as server:
        host, port = server.address
        with pytest.raises(FingerprintMismatch) as refused:
            connect(host, port, ClientTLS(pins=pins, fingerprint=other_fp))
        assert other_fp in str(refused.value) and fp in str(refused.value)
        assert pins.get(host, port) is None and not server.logins
        plain_hex = fp.removeprefix("SHA256:").replace(":", "").lower()
        sock, trust = connect(host, port, ClientTLS(pins=pins, fingerprint=plain_hex))
        sock.close()
        assert trust.mode is TrustMode.FINGERPRINT
        assert pins.get(host, port) == fp


def test_the_confirmation_hook_sees_first_contact_and_may_decline(
    tmp_path: Path, pins: PinStore
) -> None:
    fp, context = _self_signed(tmp_path / "srv")
    asked: list[PinRequest] = []

    def decline(request: PinRequest) -> bool:
        asked.append(request)
        return False

    async def accept_later(request: PinRequest) -> bool:
        asked.append(request)
        await asyncio.sleep(0)
        return True

    with login_server(context) as server:
        host, port = server.address
        with pytest.raises(CertificateRefused) as refused:
            connect(host, port, ClientTLS(pins=pins, confirm=decline))
        assert refused.value.code == "pin-declined" and fp in str(refused.value)
        assert asked == [PinRequest(host, port, fp)]
        assert pins.get(host, port) is None and not server.logins

        async def run() -> TrustMode:
            _, writer, trust = await open_connection(
                host, port, ClientTLS(pins=pins, confirm=accept_later)
            )
            writer.close()
            return trust.mode

        assert asyncio.run(run()) is TrustMode.NEW_PIN
        assert pins.get(host, port) == fp and len(asked) == 2


def _ca_server(tmp_path: Path, **names: tuple[str, ...]) -> tuple[Authority, LoginServer]:
    ca = Authority.create(tmp_path)
    leaf, key = ca.issue(tmp_path / "leaf", **names)
    return ca, LoginServer(server_context(load_pair(leaf, key)))


def test_a_ca_signed_certificate_is_accepted_with_ca(tmp_path: Path, pins: PinStore) -> None:
    ca, server = _ca_server(tmp_path)
    try:
        host, port = server.address
        sock, trust = connect(host, port, ClientTLS(pins=pins, ca_file=ca.path))
        with sock:
            _log_in(sock)
        assert trust.mode is TrustMode.CA
        assert not pins.path.exists(), "a CA-verified server is not pinned"
    finally:
        server.close()


def test_with_ca_a_wrong_name_or_a_self_signed_certificate_is_refused(
    tmp_path: Path, pins: PinStore
) -> None:
    ca, server = _ca_server(tmp_path, dns=("elsewhere.example",), ips=())
    try:
        host, port = server.address
        with pytest.raises(CertificateRefused, match="failed verification"):
            connect(host, port, ClientTLS(pins=pins, ca_file=ca.path))
        assert not server.logins
    finally:
        server.close()
    _, context = _self_signed(tmp_path / "srv")
    with login_server(context) as plain_self_signed:
        host, port = plain_self_signed.address
        with pytest.raises(CertificateRefused):
            connect(host, port, ClientTLS(pins=pins, ca_file=ca.path))
        assert pins.get(host, port) is None


def test_the_system_store_vouches_without_a_pin(
    tmp_path: Path, pins: PinStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca, server = _ca_server(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.path))  # stands in for the system store
    try:
        host, port = server.address
        sock, trust = connect(host, port, ClientTLS(pins=pins))
        sock.close()
        assert trust.mode is TrustMode.CA and pins.get(host, port) is None
    finally:
        server.close()


def test_tls_disabled_is_plain_tcp_and_a_mismatch_is_a_clear_error(
    tmp_path: Path, pins: PinStore
) -> None:
    with login_server(None) as server:
        host, port = server.address
        sock, trust = connect(host, port, ClientTLS(enabled=False, pins=pins))
        with sock:
            assert _log_in(sock).username == "alice"
        assert trust.mode is TrustMode.PLAIN and "WITHOUT encryption" in trust.describe()
        assert server.logins[0].password == "pw"
        with pytest.raises(TLSFailed, match="--no-tls"):
            connect(host, port, ClientTLS(pins=pins), timeout=5)


def test_pin_store_lives_in_the_config_dir_and_keeps_other_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAT_CONFIG_DIR", str(tmp_path / "cfg"))
    assert config_dir() == tmp_path / "cfg"
    store = PinStore()
    assert store.path == tmp_path / "cfg" / "known_servers"
    fp_a = "SHA256:" + ":".join(["AA"] * 32)
    fp_b = "SHA256:" + ":".join(["BB"] * 32)
    store.path.parent.mkdir(parents=True)
    store.path.write_text("# my comment\ngarbage line here\n")
    store.add("::1", 9000, fp_a)
    store.add("LocalHost", 9000, fp_a)
    store.add("localhost", 9000, fp_b)
    assert store.get("[::1]", 9000) == fp_a
    assert store.get("localhost", 9000) == fp_b
    assert store.get("localhost", 9001) is None
    assert store.forget("localhost", 9000) and not store.forget("localhost", 9000)
    assert store.path.read_text().splitlines() == [
        "# my comment", "garbage line here", f"[::1]:9000 {fp_a}",
    ]


def test_ipv6_loopback_is_pinned_under_its_bracketed_address(
    tmp_path: Path, pins: PinStore
) -> None:
    fp, context = _self_signed(tmp_path / "srv")
    with login_server(context, "::1") as server:
        host, port = server.address
        sock, trust = connect(host, port, ClientTLS(pins=pins))
        with sock:
            _log_in(sock)
        assert trust.mode is TrustMode.NEW_PIN
        assert pins.path.read_text() == f"[::1]:{port} {fp}\n"
        sock, trust = connect("::1", port, ClientTLS(pins=pins))
        sock.close()
        assert trust.mode is TrustMode.PINNED
