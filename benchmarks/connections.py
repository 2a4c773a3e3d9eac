"""Idle connections: log in 10,000 users and hold them; server RSS per connection.

A real chat server (temporary data dir) is started with its connection caps
raised and, so that 10,000 logins measure the server rather than the
password hash, a cheaper scrypt cost (``--scrypt-n``, default 2^10 instead of
2^14; the login time at the real cost is printed too). The load generator
logs everyone in (100 handshakes in flight), waits until the presence
traffic of the last logins has drained, holds the connections idle and reads
the server's RSS. ngircd, when installed, is measured the same way with
registered users (no channel) as the reference. ``--tls`` picks plain TCP,
TLS (chat-server's default; ngircd on its ``[SSL]`` port) or both, the
generator speaking the same TLS to both servers.

``--transport ws`` (or ``both``) measures chat-server's browser path too:
each user loads the page first (``GET /``, for its session cookie; the
server's RSS after those loads is printed), then logs in over a WebSocket
on the web port (``GET /ws`` with the cookie and the page's Origin, one
chatproto frame per binary message) and stays idle; rows *chat-ws* and
*chat-ws+tls*, KiB per connection by the same formula as the TCP rows (RSS
before the page loads).

    python benchmarks/connections.py                 # 10,000 users, TLS and plain
    python benchmarks/connections.py --tls on --connections 2000 --servers chat
    python benchmarks/connections.py --quick
    python benchmarks/connections.py --servers chat --transport both --connections 2000
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from loadgen import procs, report
from loadgen.engine import GeneratorError
from loadgen.worker import Generator
from loadgen.wsclients import WebError, WebTarget, fetch_cookies


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--hold", type=float, default=5.0, help="seconds to hold them idle")
    parser.add_argument("--scrypt-n", type=int, default=2**10)
    parser.add_argument("--login-budget", type=float, default=120.0,
                        help="seconds allowed for the logins; the figures then cover "
                        "the connections logged in by then (default: %(default)s)")
    parser.add_argument("--profile", metavar="PREFIX",
                        help="py-spy chat-server while the users log in, into PREFIX.chat")
    parser.add_argument("--servers", nargs="+", default=["chat", "ngircd"],
                        choices=["chat", "ngircd"])
    parser.add_argument("--tls", choices=["both", "on", "off"], default="both",
                        help="plain TCP, TLS or both, for every server (default: %(default)s)")
    parser.add_argument("--transport", choices=["tcp", "ws", "both"], default="tcp",
                        help="chat-server's users over TCP, over WebSockets (its browser "
                        "client's path) or both (default: %(default)s)")
    args = parser.parse_args()
    if args.quick:
        args.connections = 100
        args.hold = 1.0
    return args


@contextlib.contextmanager
def start_server(
    kind: str, args: argparse.Namespace, tls: bool, ws: bool = False
) -> Iterator[procs.ServerProcess]:
    server_cpus, _ = procs.cpu_plan()
    if kind == "chat":
        config = {
            "max_connections": args.connections + 100,
            "max_connections_per_address": args.connections + 100,
            # Every user registers from 127.0.0.1: lift the per-address limit.
            "max_registrations_per_address": args.connections + 100,
            "login_timeout": 600.0,
            "scrypt_n": args.scrypt_n,
        }
        with procs.chat_server(server_cpus, config=config, tls=tls, web=ws) as server:
            yield server
    else:
        with procs.ngircd(server_cpus, tls=tls) as server:
            yield server


def page_loads(
    server: procs.ServerProcess, tls: bool, n: int
) -> tuple[WebTarget, float]:
    """``n`` browsers load the page: their cookies (and Host, Origin), and the seconds."""
    started = time.perf_counter()
    try:
        cookies = fetch_cookies(server.web_address, tls, n)
    except WebError as exc:
        raise SystemExit(f"the browser client's page: {exc}") from None
    target = WebTarget(f"{server.host}:{server.web_port}", tls, cookies)
    return target, time.perf_counter() - started


def measure(kind: str, tls: bool, args: argparse.Namespace, ws: bool = False) -> dict[str, Any]:
    _, generator_cpus = procs.cpu_plan()
    n = args.connections
    protocol = "chat-idle" if kind == "chat" else "irc-idle"
    names = [f"idle{i}" for i in range(n)]
    web: WebTarget | None = None
    pages: dict[str, float] = {}
    with start_server(kind, args, tls, ws) as server:
        time.sleep(0.5)  # let the process finish starting before the baseline
        baseline = server.stats.rss_kib()
        if ws:
            web, seconds = page_loads(server, tls, n)
            pages = {"page_s": seconds, "after_pages_mib": server.stats.rss_kib() / 1024}
        cpu_before = server.stats.cpu_seconds()
        profile = (f"{args.profile}.{label(kind, tls, ws)}"
                   if args.profile and kind == "chat" else None)
        try:
            with procs.profiled(server.popen.pid, profile):
                generator = Generator(protocol, server.web_address if web else server.address,
                                      names, generator_cpus,
                                      login_timeout=args.login_budget, partial_ok=True,
                                      tls=tls, web=web)
        except GeneratorError:
            print("last lines of the server log:", *server.output, sep="\n  ")
            raise
        with generator:
            login_cpu = server.stats.cpu_seconds() - cpu_before
            generator.run("hold", seconds=args.hold)
            held = server.stats.rss_kib()
            peak = server.stats.peak_rss_kib()
            if not server.alive():
                raise SystemExit(f"{kind} died holding {n} connections")
    held_count = generator.logged_in
    return {
        **pages,
        "server": label(kind, tls, ws),
        "connections": held_count,
        "login_s": generator.login_seconds,
        "logins_per_s": held_count / generator.login_seconds,
        "login_cpu_s": login_cpu,
        "baseline_mib": baseline / 1024,
        "held_mib": held / 1024,
        "peak_mib": peak / 1024,
        "kib_per_conn": (held - baseline) / max(1, held_count),
    }


def label(kind: str, tls: bool, ws: bool = False) -> str:
    kind = f"{kind}-ws" if ws else kind
    return f"{kind}+tls" if tls else kind


def scrypt_seconds(n: int) -> float:
    started = time.perf_counter()
    hashlib.scrypt(b"password", salt=os.urandom(16), n=n, r=8, p=1, maxmem=2**26)
    return time.perf_counter() - started


def kib_after_pages(r: dict[str, Any]) -> float:
    held_over_pages = (r["held_mib"] - r["after_pages_mib"]) * 1024
    return float(held_over_pages / max(1, r["connections"]))


def cells(r: dict[str, Any]) -> list[Any]:
    return [r["server"], r["connections"], r["login_s"], r["logins_per_s"], r["login_cpu_s"],
            r["baseline_mib"], r["held_mib"], r["peak_mib"], r["kib_per_conn"]]


def main() -> int:
    args = parse_args()
    print(report.machine())
    limit = procs.raise_fd_limit(2 * args.connections + 1000)
    if limit < args.connections + 100:
        raise SystemExit(f"the open-file limit is {limit}; {args.connections} needs more")
    servers = list(args.servers)
    if "ngircd" in servers and procs.ngircd_path() is None:
        print("ngircd is not installed (apt-get install ngircd): showing chat-server alone")
        servers.remove("ngircd")
    rows = []
    tls_modes = {"both": [True, False], "on": [True], "off": [False]}[args.tls]
    transports = {"tcp": [False], "ws": [True], "both": [False, True]}[args.transport]
    runs = [(kind, tls, ws) for tls in tls_modes for ws in transports for kind in servers
            if kind == "chat" or not ws]  # the IRC reference has no WebSocket
    for kind, tls, ws in runs:
        try:
            rows.append(measure(kind, tls, args, ws))
        except GeneratorError as exc:
            # One server failing (ngircd has reset connections here) must
            # not throw away the other's figures.
            print(f"{label(kind, tls, ws)}: the run failed: {exc}")
        else:
            print("  " + " | ".join(report.cell(c) for c in cells(rows[-1])), flush=True)
    if not rows:
        raise SystemExit("no server was measured")
    for r in rows:
        if r["connections"] < args.connections:
            print(f"{r['server']}: only {r['connections']:,} of {args.connections:,} logged in "
                  f"within the {args.login_budget:.0f} s budget; figures cover those")
    print(report.table(
        ("server", "connections", "login s", "logins/s", "login CPU s", "RSS before MiB",
         "RSS held MiB", "peak MiB", "KiB/conn"),
        [cells(r) for r in rows],
    ))
    for r in rows:
        if "page_s" in r:
            print(f"{r['server']}: {r['connections']:,} page loads (GET /, one connection "
                  f"each) took {r['page_s']:.1f} s; RSS after them "
                  f"{r['after_pages_mib']:.1f} MiB (before {r['baseline_mib']:.1f}), "
                  f"{kib_after_pages(r):.2f} KiB per WebSocket counted from there")
    real_cost = scrypt_seconds(2**14)
    print(f"scrypt n=2^14 (the server's default) costs {real_cost * 1000:.0f} ms per login "
          f"here: {args.connections * real_cost:.0f} s of hashing for "
          f"{args.connections:,} logins on one core")
    print("lost messages: 0 (no chat in this benchmark; every login must succeed)")
    print(f"command: {report.command_line()}")
    return 0


if __name__ == "__main__":
    sys.exit(report.run(main))
