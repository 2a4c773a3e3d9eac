"""TLS for the client: CA verification, or trust on first use with pinned fingerprints.

The decision, in order (``docs/security.md`` explains why):

1. ``ClientTLS(enabled=False)``: plain TCP.
2. ``fingerprint=`` given (``--fingerprint``): the certificate must have exactly
   that SHA-256 fingerprint; it is then pinned.
3. ``ca_file=`` given (``--ca``): the chain must verify against that file and
   the name must match the host; no pin is involved.
4. A pin is stored for ``host:port``: the fingerprint must equal it; a change
   is refused with both fingerprints named.
5. First contact: the certificate is verified against the system store; if it
   chains, it is accepted and nothing is pinned. If it does not, a second
   connection is made without chain checks, and the fingerprint is offered to
   ``confirm`` (the GUI asks; ``None`` accepts, for ``chat-cli``) and pinned.

Pin checks need ``CERT_NONE`` at the TLS layer (a self-signed certificate
never chains), so they happen after the handshake and *before* the first
application byte is written: nothing, above all no password, is sent to a
peer whose certificate has not been accepted.

Fingerprints read ``SHA256:`` then 32 upper-case hex pairs joined by ``:``;
``parse_fingerprint`` also accepts plain hex, any case, spaces or colons.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import os
import socket
import ssl
import tempfile
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path

import attrs

from .errors import ChatError

FINGERPRINT_PREFIX = "SHA256:"
CONFIG_DIR_ENV = "CHAT_CONFIG_DIR"
PIN_FILE_NAME = "known_servers"
_HEX = frozenset("0123456789abcdefABCDEF")


# -- fingerprints --------------------------------------------------------------


def fingerprint(der: bytes) -> str:
    """The SHA-256 fingerprint of a DER certificate, as users compare it."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return FINGERPRINT_PREFIX + ":".join(digest[i : i + 2] for i in range(0, 64, 2))


def parse_fingerprint(text: str) -> str:
    """``text`` in the canonical form; raises ``ValueError`` with a clear reason."""
    body = text.strip()
    if body[: len(FINGERPRINT_PREFIX)].upper() == FINGERPRINT_PREFIX:
        body = body[len(FINGERPRINT_PREFIX) :]
    digits = "".join(ch for ch in body if ch not in ": \t")
    if len(digits) != 64 or not set(digits) <= _HEX:
        raise ValueError(
            f"not a SHA-256 fingerprint: {text!r} (expected 64 hex digits, "
            f"like SHA256:AB:CD:...)"
        )
    digits = digits.upper()
    return FINGERPRINT_PREFIX + ":".join(digits[i : i + 2] for i in range(0, 64, 2))


# -- errors --------------------------------------------------------------------


class CertificateRefused(ChatError):
    """The server's certificate was not accepted; nothing was sent to it."""

    default_code = "certificate-refused"


class FingerprintMismatch(CertificateRefused):
    """The certificate differs from the pinned or given fingerprint."""

    default_code = "fingerprint-mismatch"

    def __init__(self, host: str, port: int, expected: str, actual: str, source: str) -> None:
        self.host, self.port = host, port
        self.expected, self.actual = expected, actual
        super().__init__(
            f"the certificate of {_address(host, port)} has changed: expected {expected} "
            f"({source}), got {actual}; refusing to connect (someone may be intercepting "
            f"the connection; if the server really got a new certificate, remove its line "
            f"from the pin file or pass --fingerprint)"
        )


class TLSFailed(ChatError):
    """The TLS handshake failed for a reason other than the certificate."""

    default_code = "tls-failed"


# -- the pin store -------------------------------------------------------------


def config_dir() -> Path:
    """``$CHAT_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/lanchat``, else
    ``~/.config/lanchat`` (``%APPDATA%\\lanchat`` on Windows)."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override)
    if os.name == "nt" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "lanchat"
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "lanchat"


def _address(host: str, port: int) -> str:
    host = host.strip().lower().rstrip(".")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


class PinStore:
    """Fingerprints pinned per ``host:port``, one ``host:port SHA256:...`` a line.

    Lines it does not understand are kept as they are; every change rewrites
    the file atomically, so a crash never leaves half a file.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else config_dir() / PIN_FILE_NAME

    def _lines(self) -> list[str]:
        try:
            return self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []

    def get(self, host: str, port: int) -> str | None:
        key = _address(host, port)
        for line in self._lines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == key:
                try:
                    return parse_fingerprint(parts[1])
                except ValueError:
                    return None
        return None

    def add(self, host: str, port: int, fp: str) -> None:
        """Pin ``fp`` for ``host:port``, replacing any earlier pin."""
        key = _address(host, port)
        kept = [line for line in self._lines() if line.split()[:1] != [key]]
        kept.append(f"{key} {parse_fingerprint(fp)}")
        self._write(kept)

    def forget(self, host: str, port: int) -> bool:
        """Drop the pin of ``host:port``; true if there was one."""
        key = _address(host, port)
        lines = self._lines()
        kept = [line for line in lines if line.split()[:1] != [key]]
        if len(kept) != len(lines):
            self._write(kept)
        return len(kept) != len(lines)

    def _write(self, lines: list[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".pins-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write("".join(line + "\n" for line in lines))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# -- the policy ----------------------------------------------------------------


class TrustMode(StrEnum):
    """How the server was trusted on one connection."""

    PLAIN = "plain"  # TLS disabled
    CA = "ca"  # chain and name verified against --ca or the system store
    PINNED = "pinned"  # matched the stored pin
    NEW_PIN = "new-pin"  # first contact: accepted and pinned now
    FINGERPRINT = "fingerprint"  # matched the fingerprint given explicitly


@attrs.frozen
class PinRequest:
    """First contact with a server whose certificate does not chain to a CA."""

    host: str
    port: int
    fingerprint: str


#: Asked on first contact; true pins the certificate. May be a coroutine.
ConfirmPin = Callable[[PinRequest], bool | Awaitable[bool]]


@attrs.frozen
class PeerTrust:
    """The outcome of a successful check, for the log or the user."""

    mode: TrustMode
    host: str
    port: int
    fingerprint: str | None = None

    def describe(self) -> str:
        where = _address(self.host, self.port)
        if self.mode is TrustMode.PLAIN:
            return f"connected to {where} WITHOUT encryption (TLS disabled)"
        if self.mode is TrustMode.CA:
            return f"connected to {where} with TLS, certificate verified by a CA"
        if self.mode is TrustMode.NEW_PIN:
            return f"pinned the certificate of {where} on first use: {self.fingerprint}"
        return f"connected to {where} with TLS, certificate {self.fingerprint}"


def _normalize_optional_fingerprint(value: str | None) -> str | None:
    return None if value is None else parse_fingerprint(value)


def _optional_path(value: str | os.PathLike[str] | None) -> Path | None:
    return None if value is None else Path(value)


def _base_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


@attrs.frozen
class ClientTLS:
    """The client's TLS settings: ``--no-tls``, ``--ca``, ``--fingerprint``."""

    enabled: bool = True
    ca_file: Path | None = attrs.field(default=None, converter=_optional_path)
    fingerprint: str | None = attrs.field(
        default=None, converter=_normalize_optional_fingerprint
    )
    pins: PinStore = attrs.field(factory=PinStore)
    #: ``None`` accepts a first-contact certificate without asking.
    confirm: ConfirmPin | None = None

    def verified_context(self) -> ssl.SSLContext:
        """Chain and host name checked against ``ca_file`` or the system store."""
        context = _base_context()  # CERT_REQUIRED and check_hostname by default
        if self.ca_file is not None:
            try:
                context.load_verify_locations(cafile=str(self.ca_file))
            except (OSError, ssl.SSLError) as exc:
                raise CertificateRefused(f"cannot use CA file {self.ca_file}: {exc}") from None
        else:
            context.load_default_certs()
        return context

    def pinning_context(self) -> ssl.SSLContext:
        """Encryption only; the certificate is checked by fingerprint afterwards."""
        context = _base_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context

    def plan(self, host: str, port: int) -> list[ssl.SSLContext]:
        """The contexts to try in order (a second only after a chain failure)."""
        if self.fingerprint is not None or (
            self.ca_file is None and self.pins.get(host, port) is not None
        ):
            return [self.pinning_context()]
        if self.ca_file is not None:
            return [self.verified_context()]
        return [self.verified_context(), self.pinning_context()]

    def _decide(self, der: bytes, host: str, port: int) -> tuple[PeerTrust | None, str]:
        """Check a certificate met with ``pinning_context``: a verdict, or
        ``None`` when a first-contact confirmation is needed."""
        actual = fingerprint(der)
        if self.fingerprint is not None:
            if actual != self.fingerprint:
                raise FingerprintMismatch(
                    host, port, self.fingerprint, actual, "given with --fingerprint"
                )
            if self.pins.get(host, port) != actual:
                self.pins.add(host, port, actual)
            return PeerTrust(TrustMode.FINGERPRINT, host, port, actual), actual
        pinned = self.pins.get(host, port)
        if pinned is not None:
            if actual != pinned:
                raise FingerprintMismatch(
                    host, port, pinned, actual, f"pinned in {self.pins.path}"
                )
            return PeerTrust(TrustMode.PINNED, host, port, actual), actual
        return None, actual

    def _pin(self, host: str, port: int, actual: str, accepted: bool) -> PeerTrust:
        if not accepted:
            raise CertificateRefused(
                f"the certificate of {_address(host, port)} ({actual}) was not accepted",
                "pin-declined",
            )
        self.pins.add(host, port, actual)
        return PeerTrust(TrustMode.NEW_PIN, host, port, actual)

    def check_peer(self, der: bytes, host: str, port: int) -> PeerTrust:
        """Accept or refuse a certificate met with ``pinning_context``
        (blocking: ``confirm`` must return a bool)."""
        verdict, actual = self._decide(der, host, port)
        if verdict is not None:
            return verdict
        answer = True if self.confirm is None else self.confirm(PinRequest(host, port, actual))
        if inspect.isawaitable(answer):
            raise TypeError("check_peer needs a synchronous confirm; use check_peer_async")
        return self._pin(host, port, actual, bool(answer))

    async def check_peer_async(self, der: bytes, host: str, port: int) -> PeerTrust:
        """``check_peer`` for asyncio: ``confirm`` may be a coroutine function."""
        verdict, actual = self._decide(der, host, port)
        if verdict is not None:
            return verdict
        answer = True if self.confirm is None else self.confirm(PinRequest(host, port, actual))
        if inspect.isawaitable(answer):
            answer = await answer
        return self._pin(host, port, actual, bool(answer))


#: Plain TCP, for ``--no-tls`` servers (tests, trusted loopback).
NO_TLS = ClientTLS(enabled=False)


# -- connecting ----------------------------------------------------------------


def peer_certificate(
    channel: ssl.SSLSocket | ssl.SSLObject | asyncio.StreamWriter,
) -> bytes:
    """The DER certificate the server presented on a finished handshake."""
    if isinstance(channel, asyncio.StreamWriter):
        ssl_object = channel.get_extra_info("ssl_object")
        if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
            raise TLSFailed("the connection is not using TLS")
        channel = ssl_object
    der = channel.getpeercert(binary_form=True)
    if not der:
        raise TLSFailed("the server presented no certificate")
    return der


def _server_name(host: str) -> str | None:
    return host.strip("[]") or None


def _handshake_error(host: str, port: int, exc: ssl.SSLError) -> ChatError:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return CertificateRefused(
            f"the certificate of {_address(host, port)} failed verification: "
            f"{exc.verify_message or exc.reason}"
        )
    return TLSFailed(
        f"TLS with {_address(host, port)} failed ({exc.reason or exc}); "
        f"if the server runs with --no-tls, connect with --no-tls too"
    )


async def open_connection(
    host: str, port: int, tls: ClientTLS, timeout: float = 10.0, limit: int = 2**16
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, PeerTrust]:
    """Connect and establish trust before a byte of the protocol is written.

    Network failures raise ``OSError``/``TimeoutError`` as
    ``asyncio.open_connection`` does; a refused certificate raises
    ``CertificateRefused`` (``FingerprintMismatch`` for a changed one); another
    TLS failure ``TLSFailed``. ``timeout`` bounds each connection attempt but
    not the time a person takes to answer ``confirm``.
    """
    if not tls.enabled:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, limit=limit), timeout
        )
        return reader, writer, PeerTrust(TrustMode.PLAIN, host, port)
    plan = tls.plan(host, port)
    for index, context in enumerate(plan):
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    host, port, ssl=context, server_hostname=_server_name(host), limit=limit
                ),
                timeout,
            )
        except ssl.SSLCertVerificationError as exc:
            if index + 1 < len(plan):
                continue  # no CA vouches for it: trust on first use instead
            raise _handshake_error(host, port, exc) from None
        except ssl.SSLError as exc:
            raise _handshake_error(host, port, exc) from None
        if context.verify_mode == ssl.CERT_REQUIRED:
            der = peer_certificate(writer)
            return reader, writer, PeerTrust(TrustMode.CA, host, port, fingerprint(der))
        try:
            trust = await tls.check_peer_async(peer_certificate(writer), host, port)
        except BaseException:
            writer.close()
            raise
        if trust.mode is TrustMode.NEW_PIN and tls.confirm is not None:
            # A person may have taken longer to answer than the server waits
            # for a login: start afresh, now checked against the new pin.
            writer.close()
            reader, writer, _ = await open_connection(host, port, tls, timeout, limit)
        return reader, writer, trust
    raise AssertionError("unreachable: the plan is never empty")


def connect(
    host: str, port: int, tls: ClientTLS, timeout: float = 10.0
) -> tuple[socket.socket, PeerTrust]:
    """Blocking ``open_connection``: a connected (TLS) socket and the trust."""
    if not tls.enabled:
        return socket.create_connection((host, port), timeout), PeerTrust(
            TrustMode.PLAIN, host, port
        )
    plan = tls.plan(host, port)
    for index, context in enumerate(plan):
        raw = socket.create_connection((host, port), timeout)
        try:
            wrapped = context.wrap_socket(raw, server_hostname=_server_name(host))
        except ssl.SSLCertVerificationError as exc:
            raw.close()
            if index + 1 < len(plan):
                continue
            raise _handshake_error(host, port, exc) from None
        except ssl.SSLError as exc:
            raw.close()
            raise _handshake_error(host, port, exc) from None
        except BaseException:
            raw.close()
            raise
        try:
            if context.verify_mode == ssl.CERT_REQUIRED:
                der = peer_certificate(wrapped)
                return wrapped, PeerTrust(TrustMode.CA, host, port, fingerprint(der))
            return wrapped, tls.check_peer(peer_certificate(wrapped), host, port)
        except BaseException:
            wrapped.close()
            raise
    raise AssertionError("unreachable: the plan is never empty")


__all__ = [
    "CONFIG_DIR_ENV",
    "FINGERPRINT_PREFIX",
    "NO_TLS",
    "CertificateRefused",
    "ClientTLS",
    "ConfirmPin",
    "FingerprintMismatch",
    "PeerTrust",
    "PinRequest",
    "PinStore",
    "TLSFailed",
    "TrustMode",
    "config_dir",
    "connect",
    "fingerprint",
    "open_connection",
    "parse_fingerprint",
    "peer_certificate",
]
