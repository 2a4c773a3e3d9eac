"""Where the paced fan-out's latency tail comes from, measured inside the server.

Runs the fan-out benchmark's paced run (after its unbounded run, as
``fanout.py`` does, so the database and the heap are in the same state)
against chat-server started through ``loadgen/probed_serve.py``, which
times every turn of the server's event loop and, inside each, garbage
collection, the history commit (where SQLite's WAL checkpoints run), the
deadline sweep and the hub's flush. Each variant switches one suspect off
(``no-gc``, ``no-autocheckpoint``, ``gc-freeze``: diagnosis only) so the
tail with and without it is seen in one run; ngircd's paced run with the
same generator is the reference.

    python benchmarks/tails.py                                  # N = 10, 50, 200, TLS and plain
    python benchmarks/tails.py --clients 10 --tls on --variants default no-gc no-autocheckpoint
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from loadgen import procs, report
from loadgen.worker import Generator

PROBED = str(Path(__file__).with_name("loadgen") / "probed_serve.py")
SETTINGS = {
    "max_connections_per_address": 100_000,
    "max_registrations_per_address": 1_000_000,
    "max_connections": 100_000,
    "login_timeout": 120.0,
}
VARIANTS = ("default", "no-gc", "no-autocheckpoint", "gc-freeze")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50, 200], metavar="N")
    parser.add_argument("--deliveries", type=int, default=1_000_000,
                        help="deliveries of the unbounded run before (default: %(default)s)")
    parser.add_argument("--rate", type=float, default=40_000)
    parser.add_argument("--paced-seconds", type=float, default=5.0)
    parser.add_argument("--tls", choices=["both", "on", "off"], default="both")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--no-ngircd", action="store_true", help="skip the reference rows")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each row")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.deliveries, args.paced_seconds, args.rate = [10], 20_000, 1.0, 10_000
        args.variants = ["default", "no-autocheckpoint"]
    return args


def runs(n: int, args: argparse.Namespace, fanout: int) -> tuple[dict[str, Any], dict[str, Any]]:
    unbounded = {"messages_per_client": max(1, args.deliveries // (n * fanout)), "window": 1000}
    paced = {
        "messages_per_client": max(1, int(args.rate * args.paced_seconds) // (n * fanout)),
        "rate": args.rate,
    }
    return unbounded, paced


def run_chat(n: int, tls: bool, variant: str, args: argparse.Namespace) -> dict[str, Any]:
    server_cpus, generator_cpus = procs.cpu_plan()
    names = [f"tail{n}_{i:05d}" for i in range(n)]
    with tempfile.TemporaryDirectory(prefix="chat-tails-") as scratch:
        report_path = Path(scratch) / "probe.json"
        runner = (PROBED, str(report_path), *(() if variant == "default" else (variant,)))
        with procs.chat_server(
            server_cpus, config=dict(SETTINGS), tls=tls, runner=runner
        ) as server, Generator("chat", server.address, names, generator_cpus, tls=tls) as gen:
            unbounded, paced = runs(n, args, n)
            gen.run("unbounded", **unbounded)
            os.kill(server.popen.pid, signal.SIGUSR1)
            cpu_before = server.stats.cpu_seconds()
            result = gen.run("paced", **paced)
            result["server_cpu_s"] = server.stats.cpu_seconds() - cpu_before
        probe = json.loads(report_path.read_text())
    result.update(server="chat+tls" if tls else "chat", variant=variant, probe=probe)
    return result


def run_ngircd(n: int, tls: bool, args: argparse.Namespace) -> dict[str, Any]:
    server_cpus, generator_cpus = procs.cpu_plan()
    names = [f"tail{n}_{i:05d}" for i in range(n)]
    with procs.ngircd(server_cpus, tls=tls) as server, Generator(
        "irc", server.address, names, generator_cpus, tls=tls
    ) as gen:
        unbounded, paced = runs(n, args, n - 1)
        gen.run("unbounded", **unbounded)
        cpu_before = server.stats.cpu_seconds()
        result = gen.run("paced", **paced)
        result["server_cpu_s"] = server.stats.cpu_seconds() - cpu_before
    result.update(server="ngircd+tls" if tls else "ngircd", variant="-", probe=None)
    return result


HEADERS = (
    "server", "N", "variant", "p50 ms", "p99 ms", "max ms", "lost",
    "turns >= 1 ms", "time in them s", "CPU in them s", "of it: gc", "commit", "flush", "sweep",
    "gc runs (gen 0/1/2)", "gen 2 s", "commits", "commits >= 1 ms", "longest turn ms",
)


def cells(r: dict[str, Any]) -> list[Any]:
    probe = r["probe"]
    row: list[Any] = [r["server"], r["n"], r["variant"], r["p50_ms"], r["p99_ms"], r["max_ms"],
                      r["lost"]]
    if probe is None:
        return row + ["-"] * (len(HEADERS) - len(row))
    slow = probe["slow_totals_s"]
    slow_s = probe["slow_s"] or 1e-12

    def share(key: str) -> str:
        return f"{slow[key] / slow_s:.0%}"

    longest = probe["slowest"][0]["ms"] if probe["slowest"] else 0.0
    return [
        *row, probe["slow_turns"], probe["slow_s"], probe["slow_cpu_s"], share("gc"),
        share("commit"), share("flush"), share("sweep"),
        "/".join(map(str, probe["gc_collections"])), probe["gc_s_by_generation"][2],
        probe["commits"], probe["slow_commits"], longest,
    ]


def main() -> int:
    args = parse_args()
    print(report.machine())
    with_ngircd = not args.no_ngircd and procs.ngircd_path() is not None
    modes = {"both": [False, True], "on": [True], "off": [False]}[args.tls]
    results: list[dict[str, Any]] = []
    for n in args.clients:
        for tls in modes:
            for _ in range(args.repeat):
                rows = [run_chat(n, tls, variant, args) for variant in args.variants]
                if with_ngircd:
                    rows.append(run_ngircd(n, tls, args))
                for r in rows:
                    print("  " + " | ".join(report.cell(c) for c in cells(r)), flush=True)
                results += rows
    print()
    print(report.table(HEADERS, [cells(r) for r in results]))
    print("\nslowest turns of each default row (ms: CPU; gc, commit, flush, sweep):")
    for r in results:
        if r["probe"] is not None and r["variant"] == "default":
            worst = ", ".join(
                f"{t['ms']:.1f} ({t['cpu_ms']:.1f}; {t['gc']:.1f}, {t['commit']:.1f}, "
                f"{t['flush']:.1f}, {t['sweep']:.1f})" for t in r["probe"]["slowest"][:5]
            )
            print(f"  {r['server']} N = {r['n']}: {worst}")
    lost = sum(r["lost"] for r in results)
    print(f"\nlost messages: {lost}")
    print(f"command: {report.command_line()}")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(report.run(main))
