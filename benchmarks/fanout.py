"""Fan-out: N clients in one room, each sending chat lines that everyone receives.

Runs a real ``chat-server`` (temporary data dir) and, when installed, ngircd
as the reference, each pinned to one core with the load generator pinned to
the other. For each N: an unbounded run (a window of messages in flight, as
fast as the server goes) and a paced run (a fixed total delivery rate, for
latency). Every client counts every delivery; latency runs from the sender's
clock just before ``send`` to the kernel's arrival time at the receiver.

Both servers are measured over plain TCP (chat-server with ``--no-tls``) and
over TLS (chat-server's default, its self-signed certificate; ngircd's
``[SSL]`` port with a self-signed certificate made the same way), the same
generator encrypting for both without checking the certificate: TLS rows are
compared with TLS rows, plain with plain. TLS rows take latency at the
generator's read (no kernel timestamps through TLS).

``--transport ws`` (or ``both``) also runs chat-server's browser path: the
same clients over WebSockets on its web port (``--web-port 0``; one page
load, ``GET /``, per client for its session cookie, then ``GET /ws`` with
that cookie and the page's Origin), each binary message one chatproto
frame; rows *chat-ws* and *chat-ws+tls*, compared with the TCP rows of the
same TLS setting (the target: server CPU per delivery within 2x). Memory is given twice:
*RSS in run*, the highest RSS sampled during the run itself, and *peak RSS*,
the process's ``VmHWM`` since it started, which includes the logins (two
scrypt hashes at once on chat-server's hashing threads, 16 MiB each).

    python benchmarks/fanout.py            # N = 10, 50, 200, both servers, TLS on and off
    python benchmarks/fanout.py --quick    # a smoke run of a few seconds
    python benchmarks/fanout.py --tls on   # only the TLS rows, the default configuration
    python benchmarks/fanout.py --servers chat --transport both   # TCP and WebSocket rows
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from typing import Any

from loadgen import procs, report
from loadgen.worker import Generator
from loadgen.wsclients import WebError, WebTarget, fetch_cookies

CHAT_SERVER_ARGS = (
    "--max-connections-per-address", "100000",
    "--max-registrations-per-address", "1000000",
    "--max-connections", "100000",
    "--login-timeout", "120",
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50, 200], metavar="N")
    parser.add_argument("--deliveries", type=int, default=1_000_000,
                        help="deliveries per unbounded run (default: %(default)s)")
    parser.add_argument("--window", type=int, default=1000,
                        help="messages in flight in unbounded runs (default: %(default)s)")
    parser.add_argument("--rate", type=float, default=40_000,
                        help="total deliveries/s of paced runs (default: %(default)s)")
    parser.add_argument("--paced-seconds", type=float, default=5.0)
    parser.add_argument("--profile", metavar="PREFIX",
                        help="py-spy chat-server during each run into PREFIX.chat.N.MODE")
    parser.add_argument("--servers", nargs="+", default=["chat", "ngircd"],
                        choices=["chat", "ngircd"])
    parser.add_argument("--tls", choices=["both", "on", "off"], default="both",
                        help="plain TCP, TLS or both, for every server (default: %(default)s)")
    parser.add_argument("--transport", choices=["tcp", "ws", "both"], default="tcp",
                        help="chat-server's clients over TCP, over WebSockets (its browser "
                        "client's path) or both (default: %(default)s)")
    args = parser.parse_args()
    if args.quick:
        args.clients = [10]
        args.deliveries = 20_000
        args.paced_seconds = 1.0
        args.rate = 10_000
    return args


#: (server kind, TLS, over WebSockets) of each row.
Variant = tuple[str, bool, bool]


def variants(args: argparse.Namespace) -> list[Variant]:
    tls_modes = {"both": [False, True], "on": [True], "off": [False]}[args.tls]
    transports = {"tcp": [False], "ws": [True], "both": [False, True]}[args.transport]
    return [
        (kind, tls, ws)
        for kind in args.servers for ws in transports for tls in tls_modes
        if kind == "chat" or not ws  # the IRC reference has no WebSocket
    ]


def label(kind: str, tls: bool, ws: bool = False) -> str:
    kind = f"{kind}-ws" if ws else kind
    return f"{kind}+tls" if tls else kind


@contextlib.contextmanager
def start_server(
    kind: str, cpus: set[int] | None, tls: bool, ws: bool = False
) -> Iterator[procs.ServerProcess]:
    if kind == "chat":
        with procs.chat_server(cpus, CHAT_SERVER_ARGS, tls=tls, web=ws) as server:
            yield server
    else:
        with procs.ngircd(cpus, tls=tls) as server:
            yield server


def web_target(server: procs.ServerProcess, tls: bool, n: int) -> WebTarget:
    """The page loads of ``n`` browsers: their cookies, Host and Origin."""
    try:
        cookies = fetch_cookies(server.web_address, tls, n)
    except WebError as exc:
        raise SystemExit(f"the browser client's page: {exc}") from None
    return WebTarget(f"{server.host}:{server.web_port}", tls, cookies)


def run_one(
    kind: str, tls: bool, n: int, args: argparse.Namespace, ws: bool = False
) -> list[dict[str, Any]]:
    server_cpus, generator_cpus = procs.cpu_plan()
    protocol = "chat" if kind == "chat" else "irc"
    # Names of one width: every delivery is then a frame (a line) of one
    # length, which the generator's receivers check and read in bulk.
    names = [f"bench{n}_{i:05d}" for i in range(n)]
    rows = []
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(start_server(kind, server_cpus, tls, ws))
        web = web_target(server, tls, n) if ws else None
        generator = stack.enter_context(Generator(
            protocol, server.web_address if web else server.address, names, generator_cpus,
            tls=tls, web=web,
        ))
        fanout = n if protocol == "chat" else n - 1
        runs: list[tuple[str, dict[str, Any]]] = [
            ("unbounded", {
                "messages_per_client": max(1, args.deliveries // (n * fanout)),
                "window": args.window,
            }),
            ("paced", {
                "messages_per_client": max(1, int(args.rate * args.paced_seconds) // (n * fanout)),
                "rate": args.rate,
            }),
        ]
        for mode, options in runs:
            cpu_before = server.stats.cpu_seconds()
            wait_before = server.stats.cpu_wait_seconds()
            profile = f"{args.profile}.{label(kind, tls, ws)}.{n}.{mode}" if args.profile else None
            with procs.profiled(
                server.popen.pid, profile if kind == "chat" else None
            ), procs.RssSampler(server.stats) as rss:
                result = generator.run(mode, **options)
            server_cpu = server.stats.cpu_seconds() - cpu_before
            server_wait = server.stats.cpu_wait_seconds() - wait_before
            if not server.alive():
                raise SystemExit(f"{kind} died during the {mode} run")
            result.update(
                server=label(kind, tls, ws),
                login_s=generator.login_seconds,
                server_cpu_s=server_cpu,
                cpu_s_per_million=server_cpu / max(1, result["deliveries"]) * 1e6,
                server_busy=server_cpu / result["seconds"],
                server_starved=server_wait / result["seconds"],
                generator_busy=result["generator_cpu_s"] / result["seconds"],
                peak_rss_mib=server.stats.peak_rss_kib() / 1024,
                run_rss_mib=rss.peak_kib / 1024,
            )
            rows.append(result)
    return rows


HEADERS = (
    "server", "N", "mode", "deliveries/s", "CPU s/M", "srv busy", "srv starved", "gen busy",
    "p50 ms", "p99 ms", "max ms", "lost", "RSS in run MiB", "peak RSS MiB",
)


def row_cells(r: dict[str, Any]) -> list[Any]:
    mode = r["mode"] if r["mode"] == "unbounded" else f"paced {r['rate']:,.0f}/s"
    return [
        r["server"], r["n"], mode, r["deliveries_per_s"], r["cpu_s_per_million"],
        f"{r['server_busy']:.0%}", f"{r['server_starved']:.0%}", f"{r['generator_busy']:.0%}",
        r["p50_ms"], r["p99_ms"], r["max_ms"], r["lost"], r["run_rss_mib"], r["peak_rss_mib"],
    ]


def websocket_ratios(results: list[dict[str, Any]]) -> list[list[Any]]:
    ratios = []
    for ours in (r for r in results if r["server"].startswith("chat-ws")):
        tcp = next(
            (r for r in results
             if r["server"] == ours["server"].replace("chat-ws", "chat", 1)
             and r["n"] == ours["n"] and r["mode"] == ours["mode"]),
            None,
        )
        if tcp is not None:
            ratios.append([
                ours["server"], ours["n"], row_cells(ours)[2],
                f"{report.ratio(ours['deliveries_per_s'], tcp['deliveries_per_s']):.2f}x",
                f"{report.ratio(ours['cpu_s_per_million'], tcp['cpu_s_per_million']):.2f}x",
                f"{report.ratio(ours['p50_ms'], tcp['p50_ms']):.2f}x",
                f"{report.ratio(ours['p99_ms'], tcp['p99_ms']):.2f}x",
                f"{report.ratio(ours['run_rss_mib'], tcp['run_rss_mib']):.2f}x",
            ])
    return ratios


def main() -> int:
    args = parse_args()
    print(report.machine())
    if "ngircd" in args.servers and procs.ngircd_path() is None:
        print("ngircd is not installed (apt-get install ngircd): showing chat-server alone")
        args.servers.remove("ngircd")
    results: list[dict[str, Any]] = []
    for n in args.clients:
        for kind, tls, ws in variants(args):
            rows = run_one(kind, tls, n, args, ws)
            results += rows
            for r in rows:
                # Progress while the run goes on; the table follows at the end.
                print("  " + " | ".join(report.cell(c) for c in row_cells(r)), flush=True)
    print()
    print(report.table(HEADERS, [row_cells(r) for r in results]))
    ratios = []
    for ours in (r for r in results if r["server"].startswith("chat")):
        theirs = next(
            (r for r in results
             if r["server"] == ours["server"].replace("chat", "ngircd", 1)
             and r["n"] == ours["n"] and r["mode"] == ours["mode"]),
            None,
        )
        if theirs is not None:
            ratios.append([
                ours["server"], ours["n"], row_cells(ours)[2],
                f"{report.ratio(ours['deliveries_per_s'], theirs['deliveries_per_s']):.2f}x",
                f"{report.ratio(ours['cpu_s_per_million'], theirs['cpu_s_per_million']):.2f}x",
                f"{report.ratio(ours['p99_ms'], theirs['p99_ms']):.2f}x",
                f"{report.ratio(ours['run_rss_mib'], theirs['run_rss_mib']):.2f}x",
            ])
    if ratios:
        print("\nchat-server / ngircd (TLS against TLS, plain against plain)")
        print(report.table(
            ("ours", "N", "mode", "deliveries/s", "CPU s/M", "p99", "RSS in run"), ratios
        ))
    web_ratios = websocket_ratios(results)
    if web_ratios:
        print("\nchat-server over WebSocket / over TCP (same TLS setting; target CPU s/M <= 2x)")
        print(report.table(
            ("ours", "N", "mode", "deliveries/s", "CPU s/M", "p50", "p99", "RSS in run"),
            web_ratios,
        ))
    lost = sum(r["lost"] for r in results)
    refused = sum(r["refused"] for r in results)
    reasons = sorted({reason for r in results for reason in r["refusals"]})
    if refused:
        print(f"\nthe server refused {refused} messages: {', '.join(reasons)}")
    print(f"\nlost messages: {lost}")
    print(f"command: {report.command_line()}")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(report.run(main))
