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
   connection is made without chain checks, and then, one server having one
   pin however it is named: a fingerprint pinned under another name is
   accepted (and pinned for this one too) without asking; one that differs
   from a pin made at the same address under another name is refused as a
   changed certificate (``AliasMismatch``); otherwise it is offered to
   ``confirm`` (the GUI asks; ``None`` accepts, for ``chat-cli``) and pinned.

Pin checks need ``CERT_NONE`` at the TLS layer (a self-signed certificate
never chains), so they happen after the handshake and *before* the first
application byte is written: nothing, above all no password, is sent to a
peer whose certificate has not been accepted.

Fingerprints and the pin store are in ``pins``; the names are re-exported here.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import ssl
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path

import attrs

from .errors import CertificateRefused, ChatError, PinFileError, TLSFailed
from .pins import (
    CONFIG_DIR_ENV,
    FINGERPRINT_PREFIX,
    PIN_FILE_NAME,
    Pin,
    PinStore,
    address_port,
    config_dir,
    fingerprint,
    host_port,
    parse_fingerprint,
)


class FingerprintMismatch(CertificateRefused):
    """The certificate differs from the pinned or given fingerprint."""

    default_code = "fingerprint-mismatch"

    def __init__(self, host: str, port: int, expected: str, actual: str, source: str) -> None:
        self.host, self.port = host, port
        self.expected, self.actual = expected, actual
        super().__init__(
            f"the certificate of {host_port(host, port)} has changed: expected {expected} "
            f"({source}), got {actual}; refusing to connect (someone may be intercepting "
            f"the connection; if the server really got a new certificate, remove its line "
            f"from the pin file or pass --fingerprint)"
        )


class AliasMismatch(FingerprintMismatch):
    """First use of a name whose address already has a pin, under another
    name, for another certificate: as much a changed certificate as a pin
    of the same name would make it. ``pinned_as`` is that other pin's
    ``host:port``."""

    def __init__(self, host: str, port: int, other: Pin, actual: str, address: str,
                 pin_file: Path) -> None:
        self.host, self.port = host, port
        self.expected, self.actual = other.fingerprint, actual
        self.pinned_as = other.server
        where = other.server if other.server == address else f"{other.server} at {address}"
        CertificateRefused.__init__(
            self,
            f"the certificate of {host_port(host, port)} ({actual}) is not the one pinned "
            f"for the same server as {where}: expected "
            f"{other.fingerprint} (pinned in {pin_file}); refusing to connect (the "
            f"certificate has changed or someone may be intercepting the connection; if the "
            f"server really got a new certificate, remove the line of {other.server} from "
            f"the pin file or pass --fingerprint)",
        )


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
        where = host_port(self.host, self.port)
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

    def _decide(
        self, der: bytes, host: str, port: int, address: str | None
    ) -> tuple[PeerTrust | None, str]:
        """Check a certificate met with ``pinning_context`` at ``address``
        (an ``address_port``, ``None`` when unknown): a verdict, or ``None``
        when a first-contact confirmation is needed."""
        actual = fingerprint(der)
        if self.fingerprint is not None:
            if actual != self.fingerprint:
                raise FingerprintMismatch(
                    host, port, self.fingerprint, actual, "given with --fingerprint"
                )
            # The given fingerprint is the anchor: a pin file that cannot be
            # updated (read-only home) must not stop the connection.
            with contextlib.suppress(PinFileError):
                pin = self.pins.find(host, port)
                if pin is None or not pin.says(actual, address):
                    self.pins.add(host, port, actual, address)
            return PeerTrust(TrustMode.FINGERPRINT, host, port, actual), actual
        pinned = self.pins.find(host, port)
        if pinned is not None:
            if actual != pinned.fingerprint:
                raise FingerprintMismatch(
                    host, port, pinned.fingerprint, actual, f"pinned in {self.pins.path}"
                )
            if not pinned.says(actual, address):
                # The name leads elsewhere now (a new DHCP lease): keep the
                # address current, or a new server at the old one would be
                # taken for this one. Only a convenience: never fail for it.
                with contextlib.suppress(PinFileError):
                    self.pins.add(host, port, actual, address)
            return PeerTrust(TrustMode.PINNED, host, port, actual), actual
        return self._first_use(host, port, actual, address), actual

    def _first_use(
        self, host: str, port: int, actual: str, address: str | None
    ) -> PeerTrust | None:
        """A name met for the first time, checked against the pins of the
        others: ``None`` when nothing is known of its certificate."""
        known, clash = self.pins.others(host, port, actual, address)
        if known:
            # A certificate already trusted (its key proves the server):
            # another name for it, nothing to ask.
            self.pins.add(host, port, actual, address)
            return PeerTrust(TrustMode.PINNED, host, port, actual)
        if clash is not None and address is not None:
            raise AliasMismatch(host, port, clash, actual, address, self.pins.path)
        return None

    def _pin(
        self, host: str, port: int, actual: str, accepted: bool, address: str | None = None
    ) -> PeerTrust:
        if not accepted:
            raise CertificateRefused(
                f"the certificate of {host_port(host, port)} ({actual}) was not accepted",
                "pin-declined",
            )
        self.pins.add(host, port, actual, address)
        return PeerTrust(TrustMode.NEW_PIN, host, port, actual)

    async def check_peer_async(
        self, der: bytes, host: str, port: int, address: str | None = None
    ) -> PeerTrust:
        """Accept or refuse a certificate met with ``pinning_context`` at
        ``address`` (an ``address_port`` of the peer; without it, pins of other
        names are matched by fingerprint only); ``confirm`` may return a bool
        or be a coroutine function."""
        verdict, actual = self._decide(der, host, port, address)
        if verdict is not None:
            return verdict
        answer = True if self.confirm is None else self.confirm(PinRequest(host, port, actual))
        if inspect.isawaitable(answer):
            answer = await answer
        return self._pin(host, port, actual, bool(answer), address)


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


def peer_address(writer: asyncio.StreamWriter) -> str | None:
    """The address and port actually connected to, as pins record them."""
    peer = writer.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2 and isinstance(peer[0], str):
        return address_port(peer[0], int(peer[1]))
    return None


def _server_name(host: str) -> str | None:
    return host.strip("[]") or None


def _handshake_error(host: str, port: int, exc: ssl.SSLError) -> ChatError:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return CertificateRefused(
            f"the certificate of {host_port(host, port)} failed verification: "
            f"{exc.verify_message or exc.reason}"
        )
    return TLSFailed(
        f"TLS with {host_port(host, port)} failed ({exc.reason or exc}); "
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
            trust = await tls.check_peer_async(
                peer_certificate(writer), host, port, peer_address(writer)
            )
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


__all__ = [
    "CONFIG_DIR_ENV",
    "FINGERPRINT_PREFIX",
    "NO_TLS",
    "PIN_FILE_NAME",
    "AliasMismatch",
    "CertificateRefused",
    "ClientTLS",
    "ConfirmPin",
    "FingerprintMismatch",
    "PeerTrust",
    "PinFileError",
    "PinRequest",
    "PinStore",
    "TLSFailed",
    "TrustMode",
    "config_dir",
    "fingerprint",
    "open_connection",
    "parse_fingerprint",
    "peer_address",
    "peer_certificate",
]
