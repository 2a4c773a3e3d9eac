"""chatserver.tls: the self-signed certificate, a given pair, the server context."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import stat
import warnings
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chatproto.session.tls import fingerprint, parse_fingerprint
from chatserver.tls import (
    CERT_FILE,
    KEY_FILE,
    TLSSetupError,
    ensure_self_signed,
    resolve_certificate,
    server_context,
)

from .tlsutil import Authority, login_server


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_first_start_creates_a_self_signed_p256_certificate_with_loopback_names(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    cert = ensure_self_signed(data, hostname="classroom-pc")
    assert cert.created and cert.self_signed
    assert cert.cert_path == data / CERT_FILE and cert.key_path == data / KEY_FILE
    assert stat.S_IMODE(cert.key_path.stat().st_mode) == 0o600
    parsed = _cert(cert.cert_path)
    assert parsed.issuer == parsed.subject
    assert isinstance(parsed.public_key(), ec.EllipticCurvePublicKey)
    sans = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(sans.get_values_for_type(x509.DNSName)) == {"localhost", "classroom-pc"}
    assert set(sans.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"),
    }
    der = parsed.public_bytes(serialization.Encoding.DER)
    assert cert.fingerprint == fingerprint(der)
    assert cert.fingerprint in cert.describe()


def test_fingerprint_format_is_sha256_colon_hex_pairs() -> None:
    fp = fingerprint(b"certificate bytes")
    assert fp.startswith("SHA256:")
    pairs = fp.removeprefix("SHA256:").split(":")
    assert len(pairs) == 32 and all(len(p) == 2 and p == p.upper() for p in pairs)
    plain = fp.removeprefix("SHA256:").replace(":", "").lower()
    assert parse_fingerprint(plain) == fp
    assert parse_fingerprint(" sha256:" + plain.upper() + " ") == fp
    with pytest.raises(ValueError, match="not a SHA-256 fingerprint"):
        parse_fingerprint("SHA256:AB:CD")


def test_later_starts_load_the_same_certificate(tmp_path: Path) -> None:
    first = ensure_self_signed(tmp_path)
    again = ensure_self_signed(tmp_path)
    assert not again.created
    assert again.fingerprint == first.fingerprint


def test_a_key_left_without_its_certificate_is_replaced(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE).write_text("half-finished start")
    cert = ensure_self_signed(tmp_path)
    assert cert.created
    server_context(cert)


def test_a_certificate_without_its_key_is_a_clear_error(tmp_path: Path) -> None:
    ensure_self_signed(tmp_path)
    (tmp_path / KEY_FILE).unlink()
    with pytest.raises(TLSSetupError, match=r"key .* is missing"):
        ensure_self_signed(tmp_path)


def test_a_given_pair_is_used_instead(tmp_path: Path) -> None:
    leaf, key = Authority.create(tmp_path).issue(tmp_path / "leaf")
    cert = resolve_certificate(tmp_path / "data", leaf, key)
    assert not cert.self_signed and not cert.created
    assert cert.fingerprint == fingerprint(
        _cert(leaf).public_bytes(serialization.Encoding.DER)
    )
    assert not (tmp_path / "data" / CERT_FILE).exists()


def test_bad_given_pairs_are_one_line_errors(tmp_path: Path) -> None:
    ca = Authority.create(tmp_path)
    leaf, _ = ca.issue(tmp_path / "a")
    _, other_key = ca.issue(tmp_path / "b")
    with pytest.raises(TLSSetupError, match="together"):
        resolve_certificate(tmp_path, leaf, None)
    with pytest.raises(TLSSetupError, match="cannot use") as mismatch:
        resolve_certificate(tmp_path, leaf, other_key)
    assert "\n" not in str(mismatch.value)
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(TLSSetupError, match="no PEM certificate"):
        resolve_certificate(tmp_path, tmp_path / "junk.pem", other_key)
    with pytest.raises(TLSSetupError, match="cannot read certificate"):
        resolve_certificate(tmp_path, tmp_path / "missing.pem", other_key)


def _handshake(address: tuple[str, int], context: ssl.SSLContext) -> str | None:
    with socket.create_connection(address, timeout=10) as raw, context.wrap_socket(raw) as tls:
        return tls.version()


def test_the_server_speaks_tls_12_and_13_but_nothing_older(tmp_path: Path) -> None:
    context = server_context(ensure_self_signed(tmp_path))
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    with login_server(context) as server:
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
            client.minimum_version = client.maximum_version = version
            assert _handshake(server.address, client) == version.name.replace("v1_", "v1.")
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.check_hostname, old.verify_mode = False, ssl.CERT_NONE
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                old.minimum_version = ssl.TLSVersion.TLSv1
                old.maximum_version = ssl.TLSVersion.TLSv1_1
            old.set_ciphers("ALL:@SECLEVEL=0")
        except (ValueError, ssl.SSLError):
            pass  # this OpenSSL cannot even offer TLS 1.1: refused all the same
        with pytest.raises(ssl.SSLError):
            _handshake(server.address, old)
