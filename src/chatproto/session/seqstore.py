"""Remembering the last sequence number seen, per (host, port, user).

A program that stops (even killed) and starts again passes the stored
number as ``last_seen_seq`` and the server replays what it missed. The file
is small JSON, replaced atomically, so a kill never leaves it half written.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STATE_FILE_NAME = "last_seq.json"
_MAX_ENTRIES = 1000


def default_state_file() -> Path:
    """``$XDG_STATE_HOME/lanchat/last_seq.json`` (``~/.local/state`` by
    default; ``%LOCALAPPDATA%`` on Windows)."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"])
    else:
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "lanchat" / STATE_FILE_NAME


if sys.platform == "win32":

    @contextmanager
    def _exclusive(path: Path) -> Iterator[None]:
        yield  # one listener per user is the norm there; os.replace stays atomic

else:
    import fcntl

    @contextmanager
    def _exclusive(path: Path) -> Iterator[None]:
        """Serialise read-modify-write of the file between processes and threads."""
        with open(path.with_name(path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


class SeqStore:
    """``load`` and ``save`` the last seq of one (host, port, user)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_state_file()

    @staticmethod
    def key(host: str, port: int, user: str) -> str:
        return f"{user}@{host}:{port}"

    def _read(self) -> dict[str, int]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(raw, dict):
            return {}
        return {k: v for k, v in raw.items() if isinstance(k, str) and type(v) is int and v >= 0}

    def load(self, host: str, port: int, user: str) -> int:
        return self._read().get(self.key(host, port, user), 0)

    def save(self, host: str, port: int, user: str, seq: int) -> None:
        """Store ``seq`` (never going backwards); raises ``OSError``."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        key = self.key(host, port, user)
        with _exclusive(self.path):
            entries = self._read()
            if entries.get(key, -1) >= seq:
                return
            entries[key] = seq
            if len(entries) > _MAX_ENTRIES:
                entries = dict(list(entries.items())[-_MAX_ENTRIES:])
            temp = self.path.with_name(
                f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
            )
            temp.write_text(json.dumps(entries, ensure_ascii=False, indent=0), encoding="utf-8")
            os.replace(temp, self.path)


__all__ = ["SeqStore", "default_state_file"]
