"""Full-text search of the history (docs/protocol.md 7.11): placeholder of
the interface; the real query is being written."""

from __future__ import annotations

import threading
from pathlib import Path

#: One result: (seq, timestamp_ms, sender, recipient, text).
SearchRow = tuple[int, int, str, str | None, str]


class BadQuery(ValueError):
    """The query has nothing to search for (no word)."""


class Searcher:
    """Searches on a read connection of its own, from any one thread at a time."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()

    def search(
        self, user: str, query: str, *, room: str | None, sender: str | None,
        before_seq: int, limit: int,
    ) -> tuple[list[SearchRow], bool]:
        raise BadQuery("search is not available yet")

    def close(self) -> None:
        pass
