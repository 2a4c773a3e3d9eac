"""The browser client's WebSocket stack, measured: aiohttp, websockets' sans-IO
layer, and chat-server's own path, on one tiny workload.

Each stack runs as a bare relay (``loadgen/ws_echo.py``: every binary
message received goes to every open WebSocket, the sender too, unread) in a
server process of its own, pinned to one core, the load generator on the
other, as in ``fanout.py``. Two measurements per stack, each on a fresh
server:

- *idle*: K WebSockets opened (the upgrade, nothing else) and held; the
  server's RSS at rest, held, and per connection ((held - at rest) / K);
- *relay*: N WebSockets, each sending 100-byte messages shaped as chat
  deliveries, a window of them in flight, as ``fanout.py``'s unbounded run;
  deliveries/s, server CPU seconds per million delivered messages, latency
  from the sender's clock to the receiver's read (the kernel's arrival time
  over plain TCP), 0 lost.

The stacks (see ``loadgen/ws_echo.py``): *aiohttp* (``web.WebSocketResponse``,
a task per connection, ``send_bytes`` per message and peer; TLS by asyncio's
SSL transport), *sansio* (websockets' ``ServerProtocol`` in an
``asyncio.Protocol``, the library framing both ways; asyncio's TLS) and
*server* (chat-server's ``WebFront``, its TLS termination, the parsing of
``WebSocketClientProtocol`` and its ``WebSocketWriter``: the real path with a
relay in place of the chat).

    python benchmarks/web_stack.py                  # every stack, TLS and plain
    python benchmarks/web_stack.py --tls off --clients 50 --stacks sansio server
    python benchmarks/web_stack.py --quick
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from loadgen import procs, report
from loadgen.worker import Generator
from loadgen.wsclients import WebTarget

STACKS = ("aiohttp", "sansio", "server")
ECHO = Path(__file__).with_name("loadgen") / "ws_echo.py"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--stacks", nargs="+", default=list(STACKS), choices=STACKS)
    parser.add_argument("--tls", choices=["both", "on", "off"], default="both")
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50, 200], metavar="N")
    parser.add_argument("--deliveries", type=int, default=1_000_000,
                        help="deliveries per relay run (default: %(default)s)")
    parser.add_argument("--window", type=int, default=1000,
                        help="messages in flight (default: %(default)s)")
    parser.add_argument("--idle", type=int, default=2000, metavar="K",
                        help="idle WebSockets held (default: %(default)s)")
    parser.add_argument("--hold", type=float, default=3.0, help="seconds to hold them idle")
    parser.add_argument("--profile", metavar="PREFIX",
                        help="py-spy each relay server into PREFIX.STACK[+tls].N")
    args = parser.parse_args()
    if args.quick:
        args.clients = [10]
        args.deliveries = 20_000
        args.idle = 50
        args.hold = 0.5
    return args


def label(stack: str, tls: bool) -> str:
    return f"{stack}+tls" if tls else stack


@contextlib.contextmanager
def echo_server(stack: str, tls: bool, cpus: set[int] | None) -> Iterator[procs.ServerProcess]:
    with tempfile.TemporaryDirectory(prefix="ws-stack-") as directory:
        command = [sys.executable, str(ECHO), stack]
        if tls:
            from chatserver.tls import ensure_self_signed

            ensure_self_signed(Path(directory))
            command += ["--tls", directory]
        popen = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        server = procs.ServerProcess(stack, popen, "127.0.0.1", 0)
        try:
            procs.pin(popen.pid, cpus)
            server.port = procs._await_listening(server, 20.0)[0]
            yield server
        finally:
            server.stop()


def target(server: procs.ServerProcess, tls: bool) -> WebTarget:
    return WebTarget(f"{server.host}:{server.port}", tls)


def idle_run(stack: str, tls: bool, args: argparse.Namespace) -> dict[str, Any]:
    server_cpus, generator_cpus = procs.cpu_plan()
    names = [f"idle{i:05d}" for i in range(args.idle)]
    with echo_server(stack, tls, server_cpus) as server:
        time.sleep(0.5)  # let the process finish starting before the baseline
        rest = server.stats.rss_kib()
        cpu_before = server.stats.cpu_seconds()
        with Generator("ws-echo", server.address, names, generator_cpus, tls=tls,
                       web=target(server, tls)) as generator:
            opened_cpu = server.stats.cpu_seconds() - cpu_before
            generator.run("hold", seconds=args.hold)
            held = server.stats.rss_kib()
            if not server.alive():
                raise SystemExit(f"{stack} died holding {args.idle} WebSockets")
    count = generator.logged_in
    return {
        "stack": label(stack, tls), "connections": count, "open_s": generator.login_seconds,
        "open_cpu_ms": opened_cpu / max(1, count) * 1000,
        "rest_mib": rest / 1024, "held_mib": held / 1024,
        "kib_per_conn": (held - rest) / max(1, count),
    }


def relay_run(stack: str, tls: bool, n: int, args: argparse.Namespace) -> dict[str, Any]:
    server_cpus, generator_cpus = procs.cpu_plan()
    names = [f"ws{n}_{i:05d}" for i in range(n)]
    with echo_server(stack, tls, server_cpus) as server, Generator(
        "ws-echo", server.address, names, generator_cpus, tls=tls, web=target(server, tls)
    ) as generator:
        cpu_before = server.stats.cpu_seconds()
        wait_before = server.stats.cpu_wait_seconds()
        profile = f"{args.profile}.{label(stack, tls)}.{n}" if args.profile else None
        with procs.profiled(server.popen.pid, profile), procs.RssSampler(server.stats) as rss:
            result = generator.run("unbounded", messages_per_client=max(1, args.deliveries // n**2),
                                   window=args.window)
        server_cpu = server.stats.cpu_seconds() - cpu_before
        server_wait = server.stats.cpu_wait_seconds() - wait_before
        if not server.alive():
            raise SystemExit(f"{stack} died during the relay run")
    result.update(
        stack=label(stack, tls),
        cpu_s_per_million=server_cpu / max(1, result["deliveries"]) * 1e6,
        server_busy=server_cpu / result["seconds"],
        server_starved=server_wait / result["seconds"],
        generator_busy=result["generator_cpu_s"] / result["seconds"],
        run_rss_mib=rss.peak_kib / 1024,
    )
    return result


RELAY_HEADERS = ("stack", "N", "deliveries/s", "CPU s/M", "srv busy", "srv starved", "gen busy",
                 "p50 ms", "p99 ms", "lost", "RSS in run MiB")
IDLE_HEADERS = ("stack", "WebSockets", "open s", "CPU ms/open", "RSS at rest MiB",
                "RSS held MiB", "KiB/conn")


def relay_cells(r: dict[str, Any]) -> list[Any]:
    return [r["stack"], r["n"], r["deliveries_per_s"], r["cpu_s_per_million"],
            f"{r['server_busy']:.0%}", f"{r['server_starved']:.0%}",
            f"{r['generator_busy']:.0%}", r["p50_ms"], r["p99_ms"], r["lost"], r["run_rss_mib"]]


def idle_cells(r: dict[str, Any]) -> list[Any]:
    return [r["stack"], r["connections"], r["open_s"], r["open_cpu_ms"], r["rest_mib"],
            r["held_mib"], r["kib_per_conn"]]


def main() -> int:
    args = parse_args()
    print(report.machine())
    stacks = list(args.stacks)
    if "aiohttp" in stacks and importlib.util.find_spec("aiohttp") is None:
        print("aiohttp is not installed (pip install -e '.[bench]'): leaving it out")
        stacks.remove("aiohttp")
    procs.raise_fd_limit(2 * args.idle + 1000)
    tls_modes = {"both": [False, True], "on": [True], "off": [False]}[args.tls]
    idle_rows, relay_rows = [], []
    for tls in tls_modes:
        for stack in stacks:
            idle_rows.append(idle_run(stack, tls, args))
            print("  " + " | ".join(report.cell(c) for c in idle_cells(idle_rows[-1])), flush=True)
            for n in args.clients:
                relay_rows.append(relay_run(stack, tls, n, args))
                print("  " + " | ".join(report.cell(c) for c in relay_cells(relay_rows[-1])),
                      flush=True)
    print("\nidle WebSockets (upgraded, nothing sent)")
    print(report.table(IDLE_HEADERS, [idle_cells(r) for r in idle_rows]))
    print("\nrelay: each message to every open WebSocket (unbounded, "
          f"{args.window:,} in flight)")
    print(report.table(RELAY_HEADERS, [relay_cells(r) for r in relay_rows]))
    lost = sum(r["lost"] for r in relay_rows)
    print(f"\nlost messages: {lost}")
    print(f"command: {report.command_line()}")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(report.run(main))
