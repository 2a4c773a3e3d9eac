"""Remembering the last sequence number seen, per (host, port, user).

A program that stops (even killed) and starts again passes the stored
number as ``last_seen_seq``, with the history epoch it belongs to, and the
server replays what it missed (everything, when its history is another
one). The file is small JSON, replaced atomically, so a kill never leaves it
half written.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from .localfiles import write_atomically

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


class HistoryMark(NamedTuple):
    """Where a client is in a server's history: the last seq it has seen,
    and the epoch (the history) that seq belongs to (0: unknown)."""

    seq: int
    epoch: int


class SeqStore:
    """``load`` and ``save`` the last seq (and its epoch) of one (host, port, user).

    Entries are ``{"seq": n, "epoch": e}``; a bare number (the format before
    epochs) reads as that seq with epoch 0.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_state_file()

    @staticmethod
    def key(host: str, port: int, user: str) -> str:
        return f"{user}@{host}:{port}"

    def _read(self) -> dict[str, HistoryMark]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(raw, dict):
            return {}
        entries = {}
        for key, value in raw.items():
            mark = _mark_of(value)
            if isinstance(key, str) and mark is not None:
                entries[key] = mark
        return entries

    def load(self, host: str, port: int, user: str) -> int:
        """The last seq seen (0 for none)."""
        return self.load_mark(host, port, user).seq

    def load_mark(self, host: str, port: int, user: str) -> HistoryMark:
        """The last seq seen and its epoch (``(0, 0)`` for none)."""
        return self._read().get(self.key(host, port, user), HistoryMark(0, 0))

    def save(self, host: str, port: int, user: str, seq: int, epoch: int = 0) -> None:
        """Store ``seq`` of history ``epoch``; raises ``OSError``.

        Within one epoch the seq never goes backwards; a new epoch (the
        server's history was reset) replaces the old mark whatever its seq.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        key = self.key(host, port, user)
        with _exclusive(self.path):
            entries = self._read()
            old = entries.get(key)
            if old is not None and old.seq >= seq and epoch in (0, old.epoch):
                return
            entries[key] = HistoryMark(seq, epoch or (old.epoch if old else 0))
            if len(entries) > _MAX_ENTRIES:
                entries = dict(list(entries.items())[-_MAX_ENTRIES:])
            document = {k: {"seq": m.seq, "epoch": m.epoch} for k, m in entries.items()}
            write_atomically(self.path, json.dumps(document, ensure_ascii=False, indent=0))


def _mark_of(value: object) -> HistoryMark | None:
    if type(value) is int and value >= 0:
        return HistoryMark(value, 0)
    if isinstance(value, dict):
        seq, epoch = value.get("seq"), value.get("epoch", 0)
        if type(seq) is int and type(epoch) is int and seq >= 0 and epoch >= 0:
            return HistoryMark(seq, epoch)
    return None


__all__ = ["HistoryMark", "SeqStore", "default_state_file"]
