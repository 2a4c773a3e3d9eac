"""The pin store of trust on first use.

Pins live in ``known_servers`` in the user's config folder, one
``host:port SHA256:...`` a line; the fingerprints are those of
``chatproto.fingerprints`` (re-exported here).
"""

from __future__ import annotations

import os
from pathlib import Path

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


class PinStore:
    """Fingerprints pinned per ``host:port``, one ``host:port SHA256:...`` a line.

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

    def get(self, host: str, port: int) -> str | None:
        key = host_port(host, port)
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
        key = host_port(host, port)
        kept = [line for line in self._lines() if line.split()[:1] != [key]]
        kept.append(f"{key} {parse_fingerprint(fp)}")
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
    "PinStore",
    "config_dir",
    "fingerprint",
    "host_port",
    "parse_fingerprint",
]
