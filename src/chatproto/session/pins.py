"""The pin store of trust on first use.

Pins live in ``known_servers`` in the user's config folder, one
``host:port SHA256:... [address:port]`` a line; the fingerprints are those of
``chatproto.fingerprints`` (re-exported here). The third field, written when
the host is a name rather than an address, is the address the name led to
when the pin was made or last used: a name does not prove an address, but an
address shows when two names lead to one server (``docs/security.md``).
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import attrs

from ..fingerprints import FINGERPRINT_PREFIX, fingerprint, parse_fingerprint
from .errors import PinFileError
from .localfiles import write_atomically

CONFIG_DIR_ENV = "CHAT_CONFIG_DIR"
PIN_FILE_NAME = "known_servers"


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


def host_port(host: str, port: int) -> str:
    """``host:port`` as pins are keyed and messages name a server: the host
    lower-cased, without a final dot, IPv6 in brackets."""
    host = host.strip().lower().rstrip(".")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def address_port(ip: str, port: int) -> str | None:
    """An IP address and port in one canonical form (``127.0.0.1:9000``,
    ``[::1]:9000``; an IPv4-mapped IPv6 address as IPv4), or ``None`` when
    ``ip`` is not an address but a name."""
    try:
        address = ipaddress.ip_address(ip.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return host_port(address.compressed, port)


def _literal_address(server: str) -> str | None:
    """The address of a ``host:port`` key whose host is an IP literal."""
    host, sep, port = server.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return address_port(host, int(port))


@attrs.frozen
class Pin:
    """One pin: the server as keyed, its fingerprint, and for a name the
    address it was last met at."""

    server: str
    fingerprint: str
    address: str | None = None

    def is_at(self, address: str) -> bool:
        """Whether this pin was made for (or last used at) ``address``."""
        return address in (self.address, _literal_address(self.server))

    def says(self, fp: str, address: str | None) -> bool:
        """Whether this pin already records ``fp``, met at ``address``."""
        return self.fingerprint == fp and (address is None or self.is_at(address))


def _parse(line: str) -> Pin | None:
    parts = line.split()
    if len(parts) not in (2, 3):
        return None
    try:
        fp = parse_fingerprint(parts[1])
    except ValueError:
        return None
    return Pin(parts[0], fp, parts[2] if len(parts) == 3 else None)


class PinStore:
    """Fingerprints pinned per ``host:port``, one line each.

    Lines it does not understand are kept as they are; every change rewrites
    the file atomically, so a crash never leaves half a file.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else config_dir() / PIN_FILE_NAME

    def _lines(self) -> list[str]:
        try:
            # surrogateescape: a stray byte survives a rewrite instead of failing it.
            return self.path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise PinFileError(f"cannot read the pin file {self.path}: "
                               f"{exc.strerror or exc}") from None

    def pins(self) -> list[Pin]:
        """Every pin understood, in file order."""
        return [pin for line in self._lines() if (pin := _parse(line)) is not None]

    def find(self, host: str, port: int) -> Pin | None:
        key = host_port(host, port)
        for line in self._lines():
            if line.split()[:1] == [key]:
                return _parse(line)
        return None

    def others(self, host: str, port: int, fp: str, address: str | None
               ) -> tuple[bool, Pin | None]:
        """What the pins of names other than ``host:port`` say of ``fp`` met
        at ``address``: whether one of them pins ``fp``, and the first one
        made at ``address`` that pins another fingerprint."""
        others = [pin for pin in self.pins() if pin.server != host_port(host, port)]
        clash = None if address is None else next(
            (pin for pin in others if pin.is_at(address) and pin.fingerprint != fp), None)
        return any(pin.fingerprint == fp for pin in others), clash

    def get(self, host: str, port: int) -> str | None:
        pin = self.find(host, port)
        return None if pin is None else pin.fingerprint

    def add(self, host: str, port: int, fp: str, address: str | None = None) -> None:
        """Pin ``fp`` for ``host:port``, replacing any earlier pin; ``address``
        (an ``address_port``) is where the server was met, kept for a name."""
        key = host_port(host, port)
        kept = [line for line in self._lines() if line.split()[:1] != [key]]
        line = f"{key} {parse_fingerprint(fp)}"
        if address is not None and address != _literal_address(key):
            line += f" {address}"
        kept.append(line)
        self._write(kept)

    def forget(self, host: str, port: int) -> bool:
        """Drop the pin of ``host:port``; true if there was one."""
        key = host_port(host, port)
        lines = self._lines()
        kept = [line for line in lines if line.split()[:1] != [key]]
        if len(kept) != len(lines):
            self._write(kept)
        return len(kept) != len(lines)

    def _write(self, lines: list[str]) -> None:
        try:
            self._replace(lines)
        except OSError as exc:
            raise PinFileError(f"cannot save the pin file {self.path}: "
                               f"{exc.strerror or exc}") from None

    def _replace(self, lines: list[str]) -> None:
        text = "".join(line + "\n" for line in lines)
        write_atomically(self.path, text, errors="surrogateescape")



__all__ = [
    "CONFIG_DIR_ENV",
    "FINGERPRINT_PREFIX",
    "PIN_FILE_NAME",
    "Pin",
    "PinStore",
    "address_port",
    "config_dir",
    "fingerprint",
    "host_port",
    "parse_fingerprint",
]
