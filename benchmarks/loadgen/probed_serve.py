"""Run the real server with probes that say where its event loop stalls.

    python benchmarks/loadgen/probed_serve.py SETTINGS_JSON REPORT_PATH [VARIANT...]

A delivery is late when the loop that should write it is busy with
something else, so the probes time every turn of the loop (the time in
``select`` excluded) and, inside each turn, the time spent in the places
suspected of long pauses: garbage collection (``gc.callbacks``), the
history commit (``SqliteStore.commit``, where SQLite's automatic WAL
checkpoint and its ``fsync`` run), the deadline sweep and the hub's flush.
SIGUSR1 starts the counts afresh (the benchmark sends it before the run it
measures); at SIGTERM the server stops as usual and the report (JSON) is
written.

Variants switch one suspect off, to see what the tail is without it:
``no-gc`` (``gc.disable()``: diagnosis only, memory grows),
``no-autocheckpoint`` (``PRAGMA wal_autocheckpoint=0``: diagnosis only, the
WAL grows), ``gc-freeze`` (``gc.freeze()`` after start: what is alive at
start is never scanned again). Only the benchmarks use this runner.
"""

from __future__ import annotations

import asyncio
import gc
import json
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from chatserver.app import ChatServer
from chatserver.config import ServerConfig
from chatserver.hub import Hub
from chatserver.log import setup_logging
from chatserver.sqlite_store import SqliteStore
from chatserver.timeouts import TimeoutSweeper

#: A turn at least this long is kept with what was in it.
SLOW_TURN_NS = 1_000_000
#: Histogram buckets of turn lengths, in microseconds (upper bounds).
BUCKETS_US = (50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 10**9)

SUSPECTS = ("gc", "commit", "sweep", "flush")


class Probe:
    def __init__(self) -> None:
        self.turn: dict[str, int] = dict.fromkeys(SUSPECTS, 0)
        self.totals: dict[str, int] = dict.fromkeys(SUSPECTS, 0)
        self.slow_totals: dict[str, int] = dict.fromkeys(SUSPECTS, 0)
        self.histogram = [0] * len(BUCKETS_US)
        self.slow: list[dict[str, Any]] = []
        self.turns = 0
        self.busy_ns = 0
        self.slow_ns = 0
        self.slow_cpu_ns = 0
        self.gc_by_generation = [0, 0, 0]
        self.gc_ns_by_generation = [0, 0, 0]
        self.commits = 0
        self.slow_commits = 0
        self._gc_start = 0
        self.selecting_ns = 0

    def reset(self) -> None:
        selecting = self.selecting_ns
        self.__init__()  # type: ignore[misc]
        self.selecting_ns = selecting

    def on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter_ns()
            return
        spent = time.perf_counter_ns() - self._gc_start
        self.turn["gc"] += spent
        generation = info["generation"]
        self.gc_by_generation[generation] += 1
        self.gc_ns_by_generation[generation] += spent

    def timed(self, suspect: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter_ns()
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.perf_counter_ns() - start
                self.turn[suspect] += spent
                if suspect == "commit":
                    self.commits += 1
                    if spent >= SLOW_TURN_NS:
                        self.slow_commits += 1

        return wrapper

    def end_turn(self, busy_ns: int, cpu_ns: int) -> None:
        self.turns += 1
        self.busy_ns += busy_ns
        us = busy_ns // 1000
        for index, bound in enumerate(BUCKETS_US):
            if us <= bound:
                self.histogram[index] += 1
                break
        for suspect in SUSPECTS:
            self.totals[suspect] += self.turn[suspect]
        if busy_ns >= SLOW_TURN_NS:
            self.slow_ns += busy_ns
            self.slow_cpu_ns += cpu_ns
            for suspect in SUSPECTS:
                self.slow_totals[suspect] += self.turn[suspect]
            if len(self.slow) < 20_000:
                self.slow.append(
                    {"ms": busy_ns / 1e6, "cpu_ms": cpu_ns / 1e6,
                     **{k: v / 1e6 for k, v in self.turn.items()}}
                )
        for suspect in SUSPECTS:
            self.turn[suspect] = 0

    def report(self) -> dict[str, Any]:
        return {
            "turns": self.turns,
            "busy_s": self.busy_ns / 1e9,
            "slow_turns": len(self.slow),
            "slow_s": self.slow_ns / 1e9,
            "slow_cpu_s": self.slow_cpu_ns / 1e9,
            "totals_s": {k: v / 1e9 for k, v in self.totals.items()},
            "slow_totals_s": {k: v / 1e9 for k, v in self.slow_totals.items()},
            "histogram_us": dict(zip(map(str, BUCKETS_US), self.histogram, strict=True)),
            "gc_collections": self.gc_by_generation,
            "gc_s_by_generation": [v / 1e9 for v in self.gc_ns_by_generation],
            "commits": self.commits,
            "slow_commits": self.slow_commits,
            "slowest": sorted(self.slow, key=lambda t: -t["ms"])[:30],
        }


def install(probe: Probe, loop: asyncio.AbstractEventLoop) -> None:
    gc.callbacks.append(probe.on_gc)
    SqliteStore.commit = probe.timed("commit", SqliteStore.commit)  # type: ignore[method-assign]
    TimeoutSweeper._tick = probe.timed("sweep", TimeoutSweeper._tick)  # type: ignore[method-assign]
    Hub.flush = probe.timed("flush", Hub.flush)  # type: ignore[method-assign]
    selector = loop._selector  # type: ignore[attr-defined]
    select = selector.select

    def timed_select(timeout: float | None = None) -> Any:
        start = time.perf_counter_ns()
        try:
            return select(timeout)
        finally:
            probe.selecting_ns += time.perf_counter_ns() - start

    selector.select = timed_select
    run_once = loop._run_once  # type: ignore[attr-defined]

    def timed_run_once() -> None:
        start = time.perf_counter_ns()
        cpu_start = time.thread_time_ns()
        waited = probe.selecting_ns
        run_once()
        probe.end_turn(
            time.perf_counter_ns() - start - (probe.selecting_ns - waited),
            time.thread_time_ns() - cpu_start,
        )

    loop._run_once = timed_run_once  # type: ignore[attr-defined]


async def serve(config: ServerConfig, report_path: str, variants: list[str]) -> None:
    probe = Probe()
    install(probe, asyncio.get_running_loop())
    server = ChatServer(config)
    await server.start()
    if "no-autocheckpoint" in variants:
        assert server.ctx is not None
        server.ctx.store._db.execute("PRAGMA wal_autocheckpoint=0")  # type: ignore[attr-defined]
    if "no-gc" in variants:
        gc.disable()
    if "gc-freeze" in variants:
        gc.freeze()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lambda: asyncio.ensure_future(server.stop()))
    loop.add_signal_handler(signal.SIGUSR1, probe.reset)
    try:
        await server.serve_forever()
    finally:
        with open(report_path, "w", encoding="utf-8") as out:
            json.dump({"variants": variants, **probe.report()}, out)


def main() -> None:
    config = ServerConfig(**json.loads(sys.argv[1]))
    setup_logging(config.log_level)
    asyncio.run(serve(config, sys.argv[2], sys.argv[3:]))


if __name__ == "__main__":
    main()
