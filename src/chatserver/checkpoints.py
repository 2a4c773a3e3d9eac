"""WAL checkpoints on a thread of their own, never on the event loop's.

In WAL mode every commit appends to the ``-wal`` file, and a *checkpoint*
copies those pages back into the database file and ``fsync``s it. SQLite
runs one by itself inside the commit that takes the WAL past 1,000 pages,
on whatever thread commits: the event loop's. Measured with
``benchmarks/tails.py``, those commits took 5-19 ms instead of tens of
microseconds, every delivery of that loop turn waited for the disk, and
they made most of the paced fan-out's 99th percentile (docs/performance.md,
"Tails").

So the loop's connection checkpoints only as a backstop (``BACKSTOP_PAGES``,
far past what this thread lets the WAL reach), and this thread, with a
connection of its own, runs a ``PASSIVE`` checkpoint shortly after writes:
it never waits for the writer and the writer never waits for it (SQLite's
WAL lets one checkpointer run beside one writer), and SQLite releases the
GIL while it copies and syncs. What a commit promises does not change: with
``synchronous=NORMAL`` a commit is in the WAL (the OS cache) when it
returns, whoever checkpoints it later. The WAL file keeps its largest size
(no ``journal_size_limit``): cutting it back cost the commit that restarts
the WAL up to 10 ms of ``ftruncate``, and a WAL checkpointed every fifth of
a second stays small.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from .log import log

#: The loop's connection checkpoints by itself only past this many WAL pages
#: (64 MiB of 4 KiB pages): a backstop if this thread falls far behind.
BACKSTOP_PAGES = 16_384
#: After a write, wait this long before checkpointing, so that the commits of
#: a busy stretch go back into the database in one pass, not one each.
BATCH_SECONDS = 0.2


class Checkpointer:
    """``wrote()`` after each write (cheap, from the loop); ``close()`` at the end."""

    def __init__(self, path: Path, *, batch_seconds: float = BATCH_SECONDS) -> None:
        self._path = path
        self._batch_seconds = batch_seconds
        self._wake = threading.Event()
        self._closing = False
        self.checkpoints = 0
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def wrote(self) -> None:
        if not self._wake.is_set():  # a bool read; set() takes a lock
            self._wake.set()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread (after the checkpoint it may be running)."""
        self._closing = True
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            log.error("WAL checkpoints will run on the event loop: %s", exc)
            return
        try:
            # ``_closing`` is set before the wake-up, so a close whose wake-up
            # the ``clear()`` below swallows still ends the loop.
            while not self._closing:
                self._wake.wait()
                if self._closing:
                    return
                time.sleep(self._batch_seconds)
                self._wake.clear()
                self._checkpoint(db)
        finally:
            db.close()

    def _checkpoint(self, db: sqlite3.Connection) -> None:
        try:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.checkpoints += 1
        except sqlite3.Error as exc:
            # A full disk, say: the next write tries again, and the loop's
            # commit reports the trouble to whoever's message it was.
            log.warning("WAL checkpoint failed: %s", exc)
