"""How long the event loop waits in a history commit, by who checkpoints the WAL.

Drives the server's own ``SqliteStore`` (a real file in a temporary folder)
with paced commits of a few chat rows, as a loaded server's loop turns make
them, and times each ``commit`` on the calling thread:

- ``server``: as chat-server runs, WAL checkpoints on their own thread
  (``chatserver/checkpoints.py``);
- ``in-commit``: SQLite's default, the checkpoint inside the commit that
  takes the WAL past 1,000 pages (what chat-server did before);
- ``none``: no checkpoint at all (the WAL grows): the floor of what the disk
  and the machine's other work cost a commit.

    python benchmarks/commits.py
    python benchmarks/commits.py --seconds 10 --rate 4000 --rows 1 --repeat 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from chatserver.app import DATABASE_NAME
from chatserver.sqlite_store import SqliteStore
from loadgen import report

VARIANTS = ("server", "in-commit", "none")
TEXT = "a line of chat of an ordinary length, about sixty bytes long."


def run(variant: str, seconds: float, rate: float, rows: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="chat-commits-") as directory:
        store = SqliteStore(Path(directory) / DATABASE_NAME)
        try:
            if variant != "server":
                store._checkpointer.close()
                pages = 1000 if variant == "in-commit" else 0
                store._db.execute(f"PRAGMA wal_autocheckpoint={pages}")
            durations: list[int] = []
            seq = 0
            interval = 1.0 / rate
            due = time.monotonic()
            end = due + seconds
            while due < end:
                batch = [(seq + i, 1_700_000_000_000, "bench_00001", None, seq + i, TEXT)
                         for i in range(1, rows + 1)]
                seq += rows
                start = time.perf_counter_ns()
                store.commit(batch, ())
                durations.append(time.perf_counter_ns() - start)
                due += interval
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            checkpoints = store._checkpointer.checkpoints
        finally:
            store.close()
        reopened = SqliteStore(Path(directory) / DATABASE_NAME)
        stored = reopened.last_seq
        reopened.close()
    durations.sort()
    count = len(durations)
    return {
        "variant": variant,
        "commits": count,
        "p50_us": durations[count // 2] / 1e3,
        "p99_us": durations[min(count - 1, int(count * 0.99))] / 1e3,
        "max_ms": durations[-1] / 1e6,
        "slow": sum(1 for d in durations if d >= 1_000_000),
        "slow_ms": sum(d for d in durations if d >= 1_000_000) / 1e6,
        "checkpoints": checkpoints if variant == "server" else "-",
        "lost": seq - stored,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=4000.0, help="commits a second")
    parser.add_argument("--rows", type=int, default=1, help="chat rows per commit")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.repeat = 0.5, 1
    print(report.machine())
    rows = []
    lost = 0
    for _ in range(args.repeat):
        for variant in args.variants:
            r = run(variant, args.seconds, args.rate, args.rows)
            lost += r["lost"]
            rows.append([r["variant"], r["commits"], r["p50_us"], r["p99_us"], r["max_ms"],
                         r["slow"], r["slow_ms"], r["checkpoints"]])
            print("  " + " | ".join(report.cell(c) for c in rows[-1]), flush=True)
    print()
    print(report.table(("checkpoints", "commits", "p50 us", "p99 us", "max ms",
                        "commits >= 1 ms", "time in them ms", "thread's checkpoints"), rows))
    print(f"\nlost messages: {lost} (rows committed but missing when the database is reopened)")
    print(f"command: {report.command_line()}")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(report.run(main))
