"""TLS test helpers: certificates made with ``cryptography``, a TLS server
speaking the chat handshake in a thread, a recording TCP proxy, and a
blocking client connection settled as the session settles trust."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chatproto import (
    NEED_DATA,
    ConnectionClosed,
    Hello,
    Login,
    LoginAccepted,
    ProtocolError,
    ServerConnection,
)
from chatproto.session.tls import (
    ClientTLS,
    PeerTrust,
    TrustMode,
    fingerprint,
    peer_certificate,
)

# The session's own host-name and handshake-error rules, so that these tests
# meet the very errors a user of the session meets.
from chatproto.session.tls import _handshake_error as handshake_error
from chatproto.session.tls import _server_name as server_name


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@attrs.frozen
class Authority:
    """A test CA that signs leaf certificates."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    path: Path

    @classmethod
    def create(cls, directory: Path, name: str = "Test LAN CA") -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256())
        )
        path = directory / "ca.pem"
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cls(key, cert, path)

    def issue(self, directory: Path, dns: tuple[str, ...] = ("localhost",),
              ips: tuple[str, ...] = ("127.0.0.1",)) -> tuple[Path, Path]:
        """A leaf certificate and key signed by this CA: (cert path, key path)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns[0])]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        directory.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = directory / "leaf.pem", directory / "leaf-key.pem"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(_key_pem(key))
        return cert_path, key_path


class LoginServer:
    """Accepts connections (TLS when given a context), speaks the chat
    handshake with ``chatproto.ServerConnection`` and records each Login."""

    def __init__(self, context: ssl.SSLContext | None, host: str = "127.0.0.1") -> None:
        self.context = context
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listener = socket.create_server((host, 0), family=family)
        self.address = self.listener.getsockname()[:2]
        self.logins: list[Login] = []
        self.handshake_failures: list[str] = []
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(10)
        try:
            if self.context is not None:
                sock = self.context.wrap_socket(sock, server_side=True)
            conn = ServerConnection()
            while True:
                data = sock.recv(65536)
                conn.receive_data(data)
                while (event := conn.next_event()) is not NEED_DATA:
                    if isinstance(event, ConnectionClosed):
                        return
                    if isinstance(event, Hello):
                        sock.sendall(conn.send(conn.hello()))
                    elif isinstance(event, Login):
                        self.logins.append(event)
                        sock.sendall(conn.send(LoginAccepted(event.username, True, False, 0)))
        except (OSError, ssl.SSLError, ProtocolError) as exc:
            self.handshake_failures.append(str(exc))
        finally:
            sock.close()

    def close(self) -> None:
        self.listener.close()
        for thread in self._threads:
            thread.join(5)


@contextmanager
def login_server(context: ssl.SSLContext | None, host: str = "127.0.0.1"
                 ) -> Iterator[LoginServer]:
    server = LoginServer(context, host)
    try:
        yield server
    finally:
        server.close()


class RecordingProxy:
    """A TCP relay that keeps a copy of every byte in both directions."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = self.listener.getsockname()[:2]
        self.upstream = bytearray()  # client -> server
        self.downstream = bytearray()  # server -> client
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target, timeout=10)
            for src, dst, log in ((client, server, self.upstream),
                                  (server, client, self.downstream)):
                thread = threading.Thread(target=self._pump, args=(src, dst, log), daemon=True)
                thread.start()
                self._threads.append(thread)

    def _pump(self, src: socket.socket, dst: socket.socket, log: bytearray) -> None:
        try:
            while data := src.recv(65536):
                with self._lock:
                    log += data
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

    def captured(self) -> bytes:
        with self._lock:
            return bytes(self.upstream) + bytes(self.downstream)

    def close(self) -> None:
        self.listener.close()
        for thread in self._threads:
            thread.join(5)


@contextmanager
def recording_proxy(target: tuple[str, int]) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(target)
    try:
        yield proxy
    finally:
        proxy.close()


def connect(
    host: str, port: int, tls: ClientTLS, timeout: float = 10.0
) -> tuple[socket.socket, PeerTrust]:
    """A blocking ``chatproto.session.tls.open_connection``: a connected (TLS)
    socket and the trust, for tests that speak the protocol over a plain
    socket with ``chatproto.ClientConnection``. The same plan of contexts and
    the same pin decisions (``ClientTLS.check_peer_async``) as the session."""
    if not tls.enabled:
        return socket.create_connection((host, port), timeout), PeerTrust(
            TrustMode.PLAIN, host, port
        )
    plan = tls.plan(host, port)
    for index, context in enumerate(plan):
        raw = socket.create_connection((host, port), timeout)
        try:
            wrapped = context.wrap_socket(raw, server_hostname=server_name(host))
        except ssl.SSLCertVerificationError as exc:
            raw.close()
            if index + 1 < len(plan):
                continue
            raise handshake_error(host, port, exc) from None
        except ssl.SSLError as exc:
            raw.close()
            raise handshake_error(host, port, exc) from None
        except BaseException:
            raw.close()
            raise
        try:
            if context.verify_mode == ssl.CERT_REQUIRED:
                der = peer_certificate(wrapped)
                return wrapped, PeerTrust(TrustMode.CA, host, port, fingerprint(der))
            trust = asyncio.run(tls.check_peer_async(peer_certificate(wrapped), host, port))
            return wrapped, trust
        except BaseException:
            wrapped.close()
            raise
    raise AssertionError("unreachable: the plan is never empty")
