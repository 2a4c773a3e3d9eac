"""Durable history: chat messages per second when each is committed to SQLite
before anyone receives it.

A real ``chat-server`` (temporary data dir) takes messages from a few clients
as fast as a window of messages in flight allows. The server commits every
batch that arrived in one loop turn in one transaction (its group commit),
then delivers it, so every ``ChatMessage`` a client receives is already in the
database. To show it, the server is killed with SIGKILL after the run and the
history table is counted: every delivered message must be there.

For scale, the same rows are also written with one commit per message
(WAL, synchronous=NORMAL, as the server opens its database).

    python benchmarks/durability.py
    python benchmarks/durability.py --quick
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from loadgen import procs, report
from loadgen.clients import message_text
from loadgen.worker import Generator

DATABASE = "chat.sqlite3"
SERVER_ARGS = ("--max-connections-per-address", "1000", "--login-timeout", "120")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--messages", type=int, default=400_000, help="messages in total")
    parser.add_argument("--window", type=int, default=8000, help="messages in flight")
    parser.add_argument("--profile", metavar="FILE",
                        help="py-spy the server during the run (collapsed stacks)")
    args = parser.parse_args()
    if args.quick:
        args.messages = 4_000
    return args


def one_commit_per_message(rows: int) -> float:
    """Messages/s when every message is its own transaction (no group commit)."""
    with tempfile.TemporaryDirectory(prefix="chat-bench-sqlite-") as tmp:
        db = sqlite3.connect(Path(tmp) / "single.sqlite3", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE history (seq INTEGER PRIMARY KEY, timestamp_ms INTEGER NOT NULL,"
            " sender TEXT NOT NULL, recipient TEXT, client_id INTEGER NOT NULL DEFAULT 0,"
            " text TEXT, file_id INTEGER)"
        )
        text = message_text(0, 0)
        started = time.perf_counter()
        for seq in range(1, rows + 1):
            db.execute("BEGIN")
            db.execute(
                "INSERT INTO history (seq, timestamp_ms, sender, recipient, client_id, text)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (seq, 0, "bench", None, seq, text),
            )
            db.execute("COMMIT")
        elapsed = time.perf_counter() - started
        db.close()
    return rows / elapsed


def history_rows(database: Path) -> tuple[int, int]:
    """(rows, distinct commit timestamps): a batch shares one timestamp."""
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT count(*) FROM history WHERE text IS NOT NULL").fetchone()[0]
        batches = db.execute("SELECT count(DISTINCT timestamp_ms) FROM history").fetchone()[0]
    finally:
        db.close()
    return int(rows), int(batches)


def main() -> int:
    args = parse_args()
    print(report.machine())
    server_cpus, generator_cpus = procs.cpu_plan()
    n = args.clients
    # One width: equal frames let the generator take its fast path.
    names = [f"durable_{i:05d}" for i in range(n)]
    with procs.chat_server(server_cpus, SERVER_ARGS) as server:
        with Generator("chat", server.address, names, generator_cpus) as generator:
            cpu_before = server.stats.cpu_seconds()
            wait_before = server.stats.cpu_wait_seconds()
            with procs.profiled(server.popen.pid, args.profile):
                result = generator.run(
                    "unbounded", messages_per_client=args.messages // n, window=args.window
                )
            server_cpu = server.stats.cpu_seconds() - cpu_before
            server_wait = server.stats.cpu_wait_seconds() - wait_before
            # Crash it: whatever was delivered must already be committed.
            server.kill()
        assert server.data_dir is not None
        rows, batches = history_rows(server.data_dir / DATABASE)
    delivered_messages = result["deliveries"] // n
    messages_per_s = delivered_messages / result["seconds"]
    single = one_commit_per_message(min(20_000, args.messages))
    missing = max(0, delivered_messages - rows)
    print(report.table(
        ("clients", "messages", "messages/s", "CPU s/M msgs", "srv busy", "srv starved",
         "rows after kill",
         "msgs/commit", "gen busy", "lost", "missing"),
        [[
            n, delivered_messages, messages_per_s, server_cpu / max(1, delivered_messages) * 1e6,
            f"{server_cpu / result['seconds']:.0%}", f"{server_wait / result['seconds']:.0%}",
            rows, rows / max(1, batches),
            f"{result['generator_cpu_s'] / result['seconds']:.0%}", result["lost"], missing,
        ]],
    ))
    print(f"one commit per message (same pragmas, no server): {single:,.0f} messages/s")
    print(f"latency while saturated: p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms")
    if result["refused"]:
        print(f"the server refused {result['refused']} messages: {', '.join(result['refusals'])}")
    print(f"lost messages: {result['lost'] + missing}")
    print(f"command: {report.command_line()}")
    return 1 if result["lost"] or missing else 0


if __name__ == "__main__":
    sys.exit(report.run(main))
