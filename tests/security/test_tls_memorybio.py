"""The server's own TLS (``chatserver.tls_transport``: ``ssl.SSLObject`` in the
connection's protocol over plain TCP) against real TLS clients: handshake
deadlines, half-closed connections, close_notify both ways, alerts, garbage,
TLS 1.3 key updates and TLS 1.2 renegotiation."""

from __future__ import annotations

import socket
import ssl
import time
from pathlib import Path

import pytest

from chatproto import ClientConnection, Goodbye, Hello, Login, LoginAccepted, Ping, Pong
from support import RawClient, presence_of, running_server

from .tls_clients import (
    OPENSSL,
    BioClient,
    SClient,
    client_hello,
    closed_by_server,
    server_log,
    tls_raw_client,
)


def test_a_silent_client_and_half_a_client_hello_are_closed_by_the_login_deadline(
    tmp_path: Path,
) -> None:
    with server_log() as logged, running_server(tmp_path / "d", tls=True,
                                                login_timeout=0.5) as server:
        silent = socket.create_connection(server.address, timeout=10)
        half = socket.create_connection(server.address, timeout=10)
        hello = client_hello()
        half.sendall(hello[: len(hello) // 2])
        started = time.monotonic()
        with silent, half:
            assert closed_by_server(silent) and closed_by_server(half)
        assert time.monotonic() - started < 5
        assert len(logged.wait_for("closed: no TLS handshake in time", 2)) == 2
        registry = server.server.ctx.registry  # type: ignore[union-attr]
        server.wait_until(lambda: len(registry) == 0)
        with tls_raw_client(server.address, "alice"):  # and it serves the next one
            pass


def test_the_login_deadline_starts_again_after_the_handshake(tmp_path: Path) -> None:
    """As with asyncio's TLS (a handshake timeout, then the login timeout)."""
    with server_log() as logged, running_server(tmp_path / "d", tls=True,
                                                login_timeout=0.6) as server:
        client = tls_raw_client(server.address)
        time.sleep(0.4)  # most of the deadline went on before the handshake
        assert isinstance(client.login("late-but-not-too-late"), LoginAccepted)
        lazy = tls_raw_client(server.address)  # handshakes, then never logs in
        with lazy:
            assert closed_by_server(lazy.sock)
        assert logged.wait_for("closed: no login in time")
        client.close()


def test_a_goodbye_then_a_half_closed_socket_gets_close_notify_back(tmp_path: Path) -> None:
    with running_server(tmp_path / "d", tls=True) as server:
        bob = tls_raw_client(server.address, "bob")
        alice = BioClient(server.address)
        alice.login("alice")
        alice.send(Goodbye("bye"))
        alice.sock.shutdown(socket.SHUT_WR)  # TCP half-close, no close_notify from us
        assert alice.read_to_end(), "the server ends its stream with close_notify"
        alice.sock.close()
        bob.wait_for(presence_of("alice", "left"))
        bob.close()


def test_close_notify_from_the_client_is_answered_and_ends_the_session(
    tmp_path: Path,
) -> None:
    with running_server(tmp_path / "d", tls=True) as server:
        bob = tls_raw_client(server.address, "bob")
        alice = tls_raw_client(server.address, "alice")
        alice.sock.settimeout(10)
        raw = alice.sock.unwrap()  # sends close_notify and waits for the server's
        raw.close()
        bob.wait_for(presence_of("alice", "deactivated"))
        assert server.participants() == {"alice": "deactivated", "bob": "active"}


def test_a_client_that_drops_without_close_notify_is_deactivated(tmp_path: Path) -> None:
    with running_server(tmp_path / "d", tls=True) as server:
        bob = tls_raw_client(server.address, "bob")
        for name, end in (("closed", RawClient.close), ("reset", RawClient.reset)):
            client = tls_raw_client(server.address, name)
            end(client)
            bob.wait_for(presence_of(name, "deactivated"))
        bob.send(Ping(7))
        assert bob.wait_for(Pong).nonce == 7


def test_a_client_that_rejects_the_certificate_leaves_one_log_line(tmp_path: Path) -> None:
    strict = ssl.create_default_context()  # the self-signed certificate is not trusted
    with server_log() as logged, running_server(tmp_path / "d", tls=True) as server:
        with socket.create_connection(server.address, timeout=10) as raw, \
                pytest.raises(ssl.SSLCertVerificationError):
            strict.wrap_socket(raw, server_hostname="localhost")
        [line] = logged.wait_for("TLS with 127.0.0.1 failed:")
        assert "alert" in line and "\n" not in line
        with tls_raw_client(server.address, "alice") as alice:
            alice.send(Ping(1))
            assert alice.wait_for(Pong).nonce == 1
        time.sleep(0.2)
        assert len(logged.matching("TLS with")) == 1


@pytest.mark.parametrize("junk", [
    b"GET / HTTP/1.1\r\nHost: chat\r\n\r\n",
    b"\x00" * 600,
    ClientConnection().send(Hello(2, 1 << 20, "plain client")),
], ids=["http", "zeros", "plain-chat-hello"])
def test_garbage_instead_of_a_client_hello_is_closed_with_one_log_line(
    tmp_path: Path, junk: bytes
) -> None:
    with server_log() as logged, running_server(tmp_path / "d", tls=True) as server:
        with socket.create_connection(server.address, timeout=10) as sock:
            sock.sendall(junk)
            assert closed_by_server(sock)
        assert len(logged.wait_for("TLS with 127.0.0.1 failed:")) == 1
        with tls_raw_client(server.address, "alice"):
            pass


@pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command (s_client)")
def test_tls13_key_updates_both_ways_keep_the_session_going(tmp_path: Path) -> None:
    """Python's ``ssl`` cannot ask for a key update; ``s_client`` can: ``K``
    also asks the server to update its own keys, ``k`` does not."""
    with running_server(tmp_path / "d", tls=True) as server:
        client = SClient(server.address, "-tls1_3")
        try:
            client.send(client.conn.hello("s_client"))
            client.send(Login("keys", "pw"))
            assert isinstance(client.wait_for(LoginAccepted), LoginAccepted)
            for nonce, letter in enumerate("KkKK"):
                client.command(letter, "KEYUPDATE")
                client.send(Ping(nonce))
                pong = client.wait_for(Pong)
                assert isinstance(pong, Pong) and pong.nonce == nonce
            assert server.participants() == {"keys": "active"}
        finally:
            client.close()


@pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command (s_client)")
def test_tls12_renegotiation_is_refused_and_the_server_carries_on(tmp_path: Path) -> None:
    with server_log() as logged, running_server(tmp_path / "d", tls=True) as server:
        bob = tls_raw_client(server.address, "bob")
        client = SClient(server.address, "-tls1_2")
        try:
            client.send(client.conn.hello("s_client"))
            client.send(Login("renegotiator", "pw"))
            assert isinstance(client.wait_for(LoginAccepted), LoginAccepted)
            client.command("R", "RENEGOTIATING")
            # Refused (a no_renegotiation alert): s_client gives up on the
            # connection; whatever it does, no new handshake happens.
            client.send(Ping(5))
            assert client.wait_for(Pong, timeout=5) is None
        finally:
            client.close()
        bob.wait_for(presence_of("renegotiator", "deactivated"))
        assert len(logged.matching("TLS with 127.0.0.1 failed")) <= 1
        assert not logged.matching("internal error")
        bob.send(Ping(6))
        assert bob.wait_for(Pong).nonce == 6
