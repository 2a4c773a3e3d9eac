"""The server's TLS: its certificate (made on first start, or given) and its context.

    cert = resolve_certificate(config.data_dir, tls_cert, tls_key)   # TLSSetupError
    context = server_context(cert)          # tls_transport.TLSEndpoint(context)
    log.info("TLS on, certificate %s", cert.fingerprint)

The self-signed certificate is an ECDSA P-256 key and certificate written to
the data dir (``tls-key.pem`` with mode 0600, then ``tls-cert.pem``, each
atomically, so a crash never leaves a certificate without its key). Clients
trust it on first use by its fingerprint, in the form
``chatproto.fingerprints.fingerprint`` gives, the one users compare.
``cryptography`` is imported only to make that certificate: loading one
needs nothing but the ``ssl`` module, so a server that starts with its
certificate already made does not pay for importing it.
"""

from __future__ import annotations

import binascii
import contextlib
import datetime
import ipaddress
import os
import re
import socket
import ssl
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from chatproto.fingerprints import fingerprint

if TYPE_CHECKING:  # only making a certificate needs cryptography: imported there
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509 import Certificate

CERT_FILE = "tls-cert.pem"
KEY_FILE = "tls-key.pem"
VALID_DAYS = 3650
#: The first certificate of a PEM file (the leaf, before any chain).
_PEM_CERTIFICATE = re.compile(
    rb"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----", re.DOTALL
)


class TLSSetupError(Exception):
    """The certificate or key cannot be made or used; the message is one line."""


@attrs.frozen
class ServerCertificate:
    cert_path: Path
    key_path: Path
    #: ``SHA256:AB:CD:...`` of the leaf certificate.
    fingerprint: str
    #: True when this start created it.
    created: bool = False
    self_signed: bool = True

    def describe(self) -> str:
        """The start-up log line."""
        origin = "created in" if self.created else "loaded from"
        kind = "self-signed certificate" if self.self_signed else "certificate"
        return f"TLS on: {kind} {origin} {self.cert_path}, fingerprint {self.fingerprint}"


def server_context(cert: ServerCertificate) -> ssl.SSLContext:
    """A server context serving ``cert``, TLS 1.2 or newer only."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # A TLS 1.2 client's renegotiation is answered with a no_renegotiation
    # alert (OpenSSL 3 refuses client-initiated ones already; this says so).
    context.options |= ssl.OP_NO_RENEGOTIATION
    try:
        context.load_cert_chain(str(cert.cert_path), str(cert.key_path))
    except (OSError, ssl.SSLError) as exc:
        raise TLSSetupError(f"cannot use {cert.cert_path} with {cert.key_path}: {exc}") from None
    return context


def resolve_certificate(
    data_dir: Path, cert_path: Path | None = None, key_path: Path | None = None
) -> ServerCertificate:
    """The user's ``--tls-cert``/``--tls-key`` pair, or the data dir's own
    self-signed one (created when missing)."""
    if (cert_path is None) != (key_path is None):
        raise TLSSetupError("--tls-cert and --tls-key must be given together")
    if cert_path is not None and key_path is not None:
        return load_pair(Path(cert_path), Path(key_path))
    return ensure_self_signed(Path(data_dir))


def load_pair(cert_path: Path, key_path: Path, self_signed: bool = False) -> ServerCertificate:
    """Check that the files exist, parse, and belong together."""
    try:
        pem = cert_path.read_bytes()
    except OSError as exc:
        raise TLSSetupError(f"cannot read certificate {cert_path}: {exc.strerror}") from None
    found = _PEM_CERTIFICATE.search(pem)
    try:
        der = binascii.a2b_base64(found.group(1)) if found else b""
    except binascii.Error:
        der = b""
    if not der:
        raise TLSSetupError(f"{cert_path} holds no PEM certificate")
    cert = ServerCertificate(cert_path, key_path, fingerprint(der), self_signed=self_signed)
    if not key_path.exists():
        raise TLSSetupError(f"the key {key_path} of certificate {cert_path} is missing")
    # OpenSSL parses the certificate and refuses a key that does not match it.
    server_context(cert)
    return cert


def ensure_self_signed(data_dir: Path, hostname: str | None = None) -> ServerCertificate:
    """Load the data dir's self-signed certificate, creating it on first start."""
    cert_path, key_path = data_dir / CERT_FILE, data_dir / KEY_FILE
    if cert_path.exists():
        return load_pair(cert_path, key_path, self_signed=True)
    # No certificate: a key alone is the trace of a start that crashed midway.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    data_dir.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _self_signed(key, hostname or socket.gethostname())
    _write_atomically(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        mode=0o600,
    )
    _write_atomically(cert_path, certificate.public_bytes(serialization.Encoding.PEM), mode=0o644)
    cert = load_pair(cert_path, key_path, self_signed=True)
    return attrs.evolve(cert, created=True)


def _self_signed(key: ec.EllipticCurvePrivateKey, hostname: str) -> Certificate:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    if hostname and hostname != "localhost":
        # A host name that is not a valid DNS name is simply left out.
        with contextlib.suppress(ValueError):
            names.append(x509.DNSName(hostname))
    names += [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname or "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    """The server's twin of ``chatproto.session.localfiles.write_atomically``:
    the server may not import the session (docs/architecture.md) and the core
    touches no file system, and this one must set ``mode`` before a secret
    key is written."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        os.chmod(tmp, mode)  # before the secret is written, not after
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = [
    "CERT_FILE",
    "KEY_FILE",
    "ServerCertificate",
    "TLSSetupError",
    "ensure_self_signed",
    "load_pair",
    "resolve_certificate",
    "server_context",
]
