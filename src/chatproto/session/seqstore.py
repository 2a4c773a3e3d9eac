"""Remembering the last sequence number seen, per (host, port, user).

A program that stops (even killed) and starts again passes the stored
number as ``last_seen_seq`` and the server replays what it missed. The file
is small JSON, replaced atomically, so a kill never leaves it half written.
"""

from __future__ import annotations

import json
import os
import sys
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
        entries = self._read()
        key = self.key(host, port, user)
        if entries.get(key, -1) >= seq:
            return
        entries[key] = seq
        if len(entries) > _MAX_ENTRIES:
            entries = dict(list(entries.items())[-_MAX_ENTRIES:])
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temp.write_text(json.dumps(entries, ensure_ascii=False, indent=0), encoding="utf-8")
        os.replace(temp, self.path)


__all__ = ["SeqStore", "default_state_file"]
