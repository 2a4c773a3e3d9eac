"""Full-text search over a large history: latency of one-word queries.

Builds a database of ``--messages`` chat messages (1,000,000 by default)
through the server's own ``SqliteStore.commit``, in batches as a loaded
server's loop turns make them, so the full-text index is the one the server
keeps. The mix: 200 users, 80% English and 20% Korean text, 70% of the
messages in ``general``, 20% in ten rooms (one private), 10% direct
messages. Then it times ``SqliteStore.search`` (the server's call, on its
reader connection) for one-word queries: a word in 90% of the messages, a
word in 1%, a word in 0.01%, Korean two-syllable words found inside longer
ones, for a user who sees almost everything (``veteran``) and one who
registered near the end and is in no room (``newcomer``), who sees a small
part: the worst case is a word common only in the history before they came.

    python benchmarks/search.py
    python benchmarks/search.py --data-dir /tmp/search-bench   # build once, reuse
    python benchmarks/search.py --quick
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chatserver.app import DATABASE_NAME
from chatserver.ports import Account
from chatserver.sqlite_store import SqliteStore
from loadgen import report

USERS = [f"user_{i:03d}" for i in range(200)]
VETERAN, NEWCOMER = "veteran", "newcomer"
ROOMS = [f"room{i}" for i in range(10)]
PRIVATE_ROOM = "room9"
BATCH = 2_000
T0_MS = 1_700_000_000_000

#: What each query word is (its share of the messages is set in ``texts``).
WORDS = {
    "the": "common: 90% of messages",
    "deploy": "1% of messages",
    "zephyr": "rare: 0.01%",
    "legacy": "10% of the first half only",
    "안녕": "Korean pair, inside 안녕하세요/안녕히 (0.6%)",
    "회의": "Korean pair, 6% (회의, 회의실)",
}

_KOREAN = ("오늘", "내일", "점심", "프로젝트", "확인", "부탁드립니다", "감사합니다", "네",
           "좋아요", "일정", "문서", "서버", "배포", "테스트", "완료", "질문", "있어요",
           "잠깐", "지금", "어디")


def vocabulary(rng: random.Random) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "tor", "vas", "ri", "po", "sen", "dul", "fa", "gre"]
    words = {"".join(rng.choice(syllables) for _ in range(rng.randint(2, 3)))
             for _ in range(6_000)}
    return sorted(words - set(WORDS))


def texts(count: int, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(vocab))]
    half = count // 2
    for n in range(count):
        r = rng.random()
        if rng.random() < 0.2:
            words = rng.choices(_KOREAN, k=rng.randint(3, 7))
            if r < 0.03:
                words.insert(0, rng.choice(("안녕하세요", "안녕히")))
            elif r < 0.33:
                words.append(rng.choice(("회의", "회의실에서")))
        else:
            words = rng.choices(vocab, weights, k=rng.randint(5, 11))
            if r < 0.01:
                words.append("deploy")
            if rng.random() < 0.0001:
                words.append("zephyr")
        if n < half and rng.random() < 0.1:
            words.append("legacy")
        if rng.random() < 0.9:
            words.insert(rng.randrange(len(words) + 1), rng.choice(("the", "The", "THE")))
        yield " ".join(words)


def newcomer_seq(count: int) -> int:
    return count - count // 100


def build(path: Path, count: int, seed: int = 1) -> float:
    """A database of ``count`` messages; returns the messages/s of the build."""
    store = SqliteStore(path)
    try:
        for name in (VETERAN, *USERS):
            store.create_account(Account(name, "-", 0), T0_MS)
        store.create_account(Account(NEWCOMER, "-", newcomer_seq(count)), T0_MS)
        db = sqlite3.connect(path, isolation_level=None)
        # The room code's tables, written as it writes them.
        db.executemany(
            "INSERT INTO rooms (name, skeleton, private, creator, created_seq, created_ms)"
            " VALUES (?, ?, ?, ?, 0, ?)",
            [(r, r, int(r == PRIVATE_ROOM), USERS[0], T0_MS) for r in ROOMS],
        )
        db.executemany(
            "INSERT INTO room_members (room, account, joined_seq) VALUES (?, ?, 0)",
            [(r, u) for i, r in enumerate(ROOMS) for u in USERS[i::3]]
            + [(r, VETERAN) for r in ROOMS[:3]],
        )
        db.close()
        rng = random.Random(seed + 1)
        batch: list[tuple[int, int, str, str | None, int, str]] = []
        started = time.perf_counter()
        for seq, text in enumerate(texts(count, seed), start=1):
            r = rng.random()
            sender = rng.choice(USERS)
            recipient: str | None
            if seq % 50_000 == 0:
                recipient = NEWCOMER  # a few direct messages to the newcomer, all along
            elif r < 0.7:
                recipient = None
            elif r < 0.9:
                recipient = "#" + rng.choice(ROOMS)
            else:
                recipient = rng.choice(USERS)
            batch.append((seq, T0_MS + seq, sender, recipient, seq, text))
            if len(batch) == BATCH:
                store.commit(batch, ())
                batch = []
        if batch:
            store.commit(batch, ())
        return count / (time.perf_counter() - started)
    finally:
        store.close()


def stored_messages(path: Path) -> int:
    if not path.exists():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT count(*) FROM history").fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        db.close()


def wrong(rows: list[Any], user: str, word: str, before: int, newcomer_seq: int,
          **narrow: str) -> int:
    """Hits that should not be there: the benchmark times a search that works."""
    bad = 0
    previous = before or 2**63
    for seq, _ts, sender, recipient, text in rows:
        found = word in text if word[0] > "\u1100" else word in text.lower().split()
        if recipient is None:
            visible = user == VETERAN or seq > newcomer_seq
        elif recipient.startswith("#"):
            visible = user == VETERAN and recipient[1:] in ROOMS[:3]
        else:
            visible = user in (sender, recipient)
        narrowed = narrow.get("sender", sender) == sender and (
            "room" not in narrow or recipient == "#" + narrow["room"])
        bad += not (found and visible and narrowed and seq < previous)
        previous = seq
    return bad


def measure(store: SqliteStore, user: str, word: str, queries: int, newcomer_seq: int,
            **narrow: Any) -> dict[str, Any]:
    """Search latencies (first page of 50, then the page after it, alternately)."""
    durations: list[float] = []
    hits = more = bad = 0
    before = 0
    for i in range(queries):
        start = time.perf_counter()
        rows, more_rows = store.search(user, word, room=narrow.get("room"),
                                       sender=narrow.get("sender"), before_seq=before, limit=50)
        durations.append(time.perf_counter() - start)
        bad += wrong(rows, user, word, before, newcomer_seq, **narrow)
        hits, more = len(rows), int(more_rows)
        # Every other query pages on, so both the newest page and the next are timed.
        before = rows[-1][0] if rows and more_rows and i % 2 == 0 else 0
    durations.sort()
    return {"p50_ms": durations[len(durations) // 2] * 1e3,
            "p99_ms": durations[min(len(durations) - 1, int(len(durations) * 0.99))] * 1e3,
            "max_ms": durations[-1] * 1e3, "hits": hits, "more": bool(more), "wrong": bad}


CASES: list[tuple[str, str, dict[str, str]]] = [
    (VETERAN, "the", {}), (VETERAN, "deploy", {}), (VETERAN, "zephyr", {}),
    (VETERAN, "안녕", {}), (VETERAN, "회의", {}), (VETERAN, "legacy", {}),
    (VETERAN, "the", {"room": "room1"}), (VETERAN, "the", {"sender": USERS[7]}),
    (NEWCOMER, "the", {}), (NEWCOMER, "zephyr", {}), (NEWCOMER, "안녕", {}),
    (NEWCOMER, "legacy", {}), (NEWCOMER, "the", {"sender": USERS[7]}),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200, help="per case")
    parser.add_argument("--data-dir", type=Path,
                        help="keep the database here and reuse it when it has --messages")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    args = parser.parse_args()
    if args.quick:
        args.messages, args.queries = 20_000, 10
    print(report.machine())
    with tempfile.TemporaryDirectory(prefix="chat-search-") as tmp:
        directory = args.data_dir or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / DATABASE_NAME
        if stored_messages(path) != args.messages:
            for leftover in directory.glob(DATABASE_NAME + "*"):
                leftover.unlink()
            rate = build(path, args.messages)
            print(f"built {args.messages:,} messages through SqliteStore.commit"
                  f" ({BATCH:,} a commit): {rate:,.0f} messages/s")
        else:
            print(f"reusing {path} ({args.messages:,} messages)")
        size = sum(p.stat().st_size for p in directory.glob(DATABASE_NAME + "*"))
        print(f"database and index: {size / 2**20:,.0f} MiB")
        store = SqliteStore(path)
        rows = []
        wrong_hits = 0
        try:
            for user, word, narrow in CASES:
                r = measure(store, user, word, args.queries, newcomer_seq(args.messages),
                            **narrow)
                wrong_hits += r["wrong"]
                what = " ".join(f"--{'from' if k == 'sender' else k} {v}"
                                for k, v in narrow.items())
                rows.append([user, word, what or "-", WORDS[word], r["p50_ms"], r["p99_ms"],
                             r["max_ms"], r["hits"], "yes" if r["more"] else "no"])
                print("  " + " | ".join(report.cell(c) for c in rows[-1]), flush=True)
        finally:
            store.close()
    print()
    print(report.table(("user", "query", "narrowed", "word", "p50 ms", "p99 ms", "max ms",
                        "hits (last)", "more"), rows))
    worst = max(row[5] for row in rows)
    print(f"\nworst p99: {worst:.1f} ms over {args.messages:,} messages"
          f" ({args.queries} queries a case, 50 a page)")
    print(f"wrong hits: {wrong_hits} (not matching, not visible to the user, or out of order)")
    print(f"command: {report.command_line()}")
    return 1 if wrong_hits else 0


if __name__ == "__main__":
    sys.exit(report.run(main))
