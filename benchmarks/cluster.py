"""Cluster: fan-out through 1 and 3 nodes on PostgreSQL and Redis, beside the single node.

Every configuration runs in the same process on the same machine, one after
the other: *single* (one ``chat-server`` on SQLite, the default), *cluster-1*
(one node with ``--store postgresql://... --bus redis://...``) and
*cluster-3* (three nodes on the same database and key prefix, the clients
spread over them round-robin). N clients share the room and each sends chat
lines that every client, on every node, receives: the load generator of
``fanout.py`` (``loadgen``), one generator process holding the clients of all
nodes, so that its counts prove the global fan-out (no delivery lost or
duplicated across nodes).

Figures per row: deliveries/s, the nodes' CPU per million deliveries (all
nodes summed), the engines' CPU per million (the PostgreSQL backends serving
this run's database, from ``/proc``, and Redis's own ``INFO cpu``, which also
counts any other client of a shared Redis), p50/p99 latency (sender's clock
before ``send`` to the kernel's arrival time at the receiver). *The global
order* table sets cluster-1 beside single per message: what the stream (one
counter row per commit, PostgreSQL before any delivery, Redis between nodes)
costs in CPU and latency. *Failover*: K users logged in on one node of three
(``AsyncSession``, resume tokens); that node is SIGKILLed and each user logs
in again on a survivor, retrying ``already-active`` until the dead node's
lease runs out; the time from the kill until each is back.

Every configuration runs over TLS, as the server does by default (each node
with its own self-signed certificate, rows ``+tls``), and over plain TCP
(``--no-tls``): ``--tls on|off|both``. The failover runs in the default
configuration, TLS, unless only ``--tls off`` is asked for; the sessions
pin each node's certificate on first contact, in a private pin file.

The engines are the test machines' (``scripts/services.sh``), or ``--pg`` /
``--redis``; each configuration gets a fresh database and key prefix,
dropped afterwards. The nodes reach the engines over loopback without TLS
(docs/cluster.md says how to turn it on between machines). Nodes share one
core and the generator the other when there are two; the engines are not
pinned.

    python benchmarks/cluster.py                 # N = 30, 150; all three configurations
    python benchmarks/cluster.py --tls on        # only the default configuration, TLS
    python benchmarks/cluster.py --quick         # a smoke run of a few seconds
    python benchmarks/cluster.py --configs cluster-3 --clients 300
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psycopg
import redis
from psycopg import sql

from chatproto.session import (
    NO_TLS,
    AsyncSession,
    ChatError,
    ClientTLS,
    Disconnected,
    LoginRefused,
    PinStore,
)
from loadgen import procs, report
from loadgen.clients import BenchClient, ChatClient
from loadgen.engine import GeneratorError, Traffic, connect_all, settle
from loadgen.worker import ChildProcess

CHAT_SERVER_ARGS = (
    "--max-connections-per-address", "100000",
    "--max-registrations-per-address", "1000000",
    "--max-connections", "100000",
    "--login-timeout", "120",
)
CONFIGS = {"single": 0, "cluster-1": 1, "cluster-3": 3}
RETRIED = {"already-active", "rate-limited", "server-full", "timeout"}
PASSWORD = "bench-password"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--clients", type=int, nargs="+", default=[30, 150], metavar="N")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--tls", choices=["both", "on", "off"], default="both",
                        help="TLS between clients and nodes (default: %(default)s)")
    parser.add_argument("--deliveries", type=int, default=3_000_000,
                        help="deliveries per unbounded run (default: %(default)s)")
    parser.add_argument("--window", type=int, default=1000,
                        help="messages in flight in unbounded runs (default: %(default)s)")
    parser.add_argument("--rate", type=float, default=20_000,
                        help="total deliveries/s of paced runs (default: %(default)s)")
    parser.add_argument("--paced-seconds", type=float, default=5.0)
    parser.add_argument("--failover-clients", type=int, default=50, metavar="K",
                        help="users on the killed node (0: no failover run)")
    parser.add_argument("--lease-time", type=float, default=None, metavar="SECONDS",
                        help="the nodes' --lease-time (default: the server's)")
    parser.add_argument("--pg", default=os.environ.get("CHAT_TEST_PG")
                        or "postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL where databases may be created (default: %(default)s)")
    parser.add_argument("--redis", default=os.environ.get("CHAT_TEST_REDIS")
                        or "redis://127.0.0.1:6379/0", help="default: %(default)s")
    args = parser.parse_args()
    if args.quick:
        args.clients = [6]
        args.deliveries = 6_000
        args.paced_seconds = 1.0
        args.rate = 3_000
        args.failover_clients = 3
        args.lease_time = args.lease_time or 2.0
    args.tls_modes = {"both": [False, True], "on": [True], "off": [False]}[args.tls]
    if any(n % 3 for n in args.clients):
        parser.error("--clients: multiples of 3 (the clients are spread over three nodes)")
    return args


# -- the engines: a fresh database and key prefix per configuration -----------------------


@contextlib.contextmanager
def fresh_engines(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    """(database URL, key prefix), both gone afterwards."""
    name = f"bench_{secrets.token_hex(5)}"
    prefix = f"bench-{secrets.token_hex(5)}:"
    try:
        with psycopg.connect(args.pg, autocommit=True, connect_timeout=10) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        redis.Redis.from_url(args.redis, socket_timeout=10).ping()
    except (psycopg.Error, redis.RedisError) as exc:
        raise SystemExit(
            f"the engines do not answer ({exc}): run bash scripts/services.sh"
        ) from None
    base, _, query = args.pg.partition("?")
    dsn = f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
    try:
        yield dsn, prefix
    finally:
        with psycopg.connect(args.pg, autocommit=True, connect_timeout=10) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        with redis.Redis.from_url(args.redis) as client:
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            for start in range(0, len(keys), 500):
                client.unlink(*keys[start:start + 500])


class EngineCpu:
    """CPU seconds the engines spent for one database: its PostgreSQL backends
    (``/proc``; the server's own background writers are not counted) and the
    whole Redis server (``INFO cpu``)."""

    def __init__(self, pg: str, database: str, redis_url: str) -> None:
        self.pg, self.database, self.redis_url = pg, database, redis_url

    def _backends(self) -> dict[int, float]:
        with psycopg.connect(self.pg, autocommit=True) as conn:
            pids = [row[0] for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,)
            )]
        seconds = {}
        for pid in pids:
            with contextlib.suppress(OSError):
                seconds[pid] = procs.ProcStats(pid).cpu_seconds()
        return seconds

    def _redis(self) -> float:
        with redis.Redis.from_url(self.redis_url) as client:
            info = client.info("cpu")
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])

    def snapshot(self) -> tuple[dict[int, float], float]:
        return self._backends(), self._redis()

    def stream_head(self) -> int:
        """Stream ids handed out so far: one per commit of shared changes."""
        base = self.pg.rsplit("/", 1)[0]
        with psycopg.connect(f"{base}/{self.database}", autocommit=True) as conn:
            row = conn.execute("SELECT stream FROM counters WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    def since(self, before: tuple[dict[int, float], float]) -> tuple[float, float]:
        """(PostgreSQL, Redis) CPU seconds since ``before``."""
        backends, redis_cpu = self.snapshot()
        pg = sum(now - before[0].get(pid, 0.0) for pid, now in backends.items())
        return pg, redis_cpu - before[1]


@contextlib.contextmanager
def start_nodes(
    count: int, cpus: set[int] | None, store: tuple[str, str] | None, args: argparse.Namespace,
    tls: bool,
) -> Iterator[list[procs.ServerProcess]]:
    """``count`` nodes on ``store`` (database URL, prefix); 0: one single node."""
    with contextlib.ExitStack() as stack:
        if count == 0 or store is None:
            yield [stack.enter_context(procs.chat_server(cpus, CHAT_SERVER_ARGS, tls=tls))]
            return
        dsn, prefix = store
        lease = ("--lease-time", str(args.lease_time)) if args.lease_time else ()
        yield [
            stack.enter_context(procs.chat_server(cpus, (
                *CHAT_SERVER_ARGS, "--store", dsn, "--bus", args.redis,
                "--bus-prefix", prefix, "--node-name", f"node{i}", *lease,
            ), tls=tls))
            for i in range(count)
        ]


# -- the load generator, its clients spread over the nodes ----------------------------------


def _numbered(indices: list[int]) -> Callable[[int, str], BenchClient]:
    """A client factory numbering the ``i``-th client of a node ``indices[i]``."""
    return lambda i, name: ChatClient(indices[i], name)


def _child(pipe: Connection, addresses: list[tuple[str, int]], names: list[str],
           cpus: set[int] | None, tls: bool) -> None:
    """``loadgen.worker``'s child, with client ``i`` on node ``i % len(addresses)``."""
    try:
        if cpus is not None:
            os.sched_setaffinity(0, cpus)
        started = time.monotonic()
        by_index: dict[int, BenchClient] = {}
        for node, address in enumerate(addresses):
            mine = list(range(node, len(names), len(addresses)))
            logged, _ = connect_all(
                _numbered(mine), address, [names[i] for i in mine], timeout=240, tls=tls)
            by_index.update({client.index: client for client in logged})
        clients = [by_index[i] for i in range(len(names))]
        settle(clients)
        pipe.send(("ready", time.monotonic() - started))
        while (command := pipe.recv())[0] != "stop":
            mode, options = command
            traffic = Traffic(clients, options["messages_per_client"])
            result = (traffic.run_unbounded(options["window"]) if mode == "unbounded"
                      else traffic.run_paced(options["rate"]))
            traffic.close()
            settle(clients)
            pipe.send(("result", result))
    except GeneratorError as exc:
        pipe.send(("error", str(exc)))
    except Exception:
        pipe.send(("error", traceback.format_exc()))


class SpreadGenerator(ChildProcess):
    """``loadgen.worker.Generator`` with its clients spread over the nodes."""

    def __init__(self, addresses: list[tuple[str, int]], names: list[str],
                 cpus: set[int] | None, tls: bool) -> None:
        super().__init__(_child, (addresses, names, cpus, tls), 300)
        self.login_seconds = self.ready


def label(config: str, tls: bool) -> str:
    return f"{config}+tls" if tls else config


def run_config(config: str, tls: bool, n: int, args: argparse.Namespace) -> list[dict[str, Any]]:
    server_cpus, generator_cpus = procs.cpu_plan()
    count = CONFIGS[config]
    names = [f"bench{n}_{i:05d}" for i in range(n)]
    rows = []
    with contextlib.ExitStack() as stack:
        store = stack.enter_context(fresh_engines(args)) if count else None
        nodes = stack.enter_context(start_nodes(count, server_cpus, store, args, tls))
        engines = EngineCpu(args.pg, store[0].rsplit("/", 1)[1], args.redis) if store else None
        generator = SpreadGenerator([node.address for node in nodes], names, generator_cpus, tls)
        stack.callback(generator.close)
        runs = [
            ("unbounded", {"messages_per_client": max(1, args.deliveries // (n * n)),
                           "window": args.window}),
            ("paced", {"messages_per_client": max(1, int(args.rate * args.paced_seconds)
                                                  // (n * n)), "rate": args.rate}),
        ]
        for mode, options in runs:
            before = [node.stats.cpu_seconds() for node in nodes]
            engines_before = engines.snapshot() if engines else ({}, 0.0)
            head_before = engines.stream_head() if engines else 0
            result = generator.run(mode, **options)
            node_cpu = sum(node.stats.cpu_seconds() - b for node, b in zip(nodes, before,
                                                                            strict=True))
            pg_cpu, redis_cpu = engines.since(engines_before) if engines else (0.0, 0.0)
            commits = engines.stream_head() - head_before if engines else 0
            if not all(node.alive() for node in nodes):
                raise SystemExit(f"a node of {label(config, tls)} died during the {mode} run")
            million = max(1, result["deliveries"]) / 1e6
            result.update(
                config=label(config, tls), base=config, tls=tls, nodes=len(nodes),
                node_cpu_s=node_cpu, pg_cpu_s=pg_cpu, commits=commits,
                per_commit=result["messages"] / commits if commits else None,
                redis_cpu_s=redis_cpu, node_per_m=node_cpu / million,
                engines_per_m=(pg_cpu + redis_cpu) / million,
                total_us_per_message=(node_cpu + pg_cpu + redis_cpu)
                / max(1, result["messages"]) * 1e6,
            )
            rows.append(result)
            print("  " + " | ".join(report.cell(c) for c in row_cells(result)), flush=True)
    return rows


HEADERS = ("config", "nodes", "N", "mode", "deliveries/s", "nodes CPU s/M", "engines CPU s/M",
           "msgs/commit", "p50 ms", "p99 ms", "max ms", "lost", "dup")


def row_cells(r: dict[str, Any]) -> list[Any]:
    mode = r["mode"] if r["mode"] == "unbounded" else f"paced {r['rate']:,.0f}/s"
    return [r["config"], r["nodes"], r["n"], mode, r["deliveries_per_s"], r["node_per_m"],
            r["engines_per_m"], "-" if r["per_commit"] is None else r["per_commit"],
            r["p50_ms"], r["p99_ms"], r["max_ms"], r["lost"], r["duplicates"]]


def order_costs(results: list[dict[str, Any]]) -> list[list[Any]]:
    """cluster-1 against single, per message: the price of the stream."""
    rows = []
    for ours in (r for r in results if r["base"] == "cluster-1"):
        single = next((r for r in results if r["base"] == "single" and r["n"] == ours["n"]
                       and r["mode"] == ours["mode"] and r["tls"] == ours["tls"]), None)
        if single is not None:
            rows.append([ours["n"], "on" if ours["tls"] else "off", row_cells(ours)[3],
                         single["total_us_per_message"],
                         ours["total_us_per_message"],
                         ours["total_us_per_message"] - single["total_us_per_message"],
                         ours["p50_ms"] - single["p50_ms"], ours["p99_ms"] - single["p99_ms"]])
    return rows


# -- the ceiling of the global order: commits of the one counter row ----------------------


def commit_ceiling(args: argparse.Namespace, seconds: float) -> float:
    """Commits per second of one client raising one row, each its own
    transaction, as every commit of the stream does (the lock on the
    ``counters`` row is held until the commit is durable): the primary's
    serial commit rate, the one number the cluster's message rate divides."""
    with fresh_engines(args) as (dsn, _), psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE ceiling (id int PRIMARY KEY, n bigint NOT NULL)")
        conn.execute("INSERT INTO ceiling VALUES (1, 0)")
        conn.commit()
        done = 0
        started = time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            conn.execute("UPDATE ceiling SET n = n + 1 WHERE id = 1")
            conn.commit()
            done += 1
        return done / elapsed


# -- failover: the users of a killed node ----------------------------------------------------


async def _log_in(name: str, nodes: Sequence[procs.ServerProcess], start: int,
                  token: bytes | None, deadline: float,
                  tls: ClientTLS) -> tuple[AsyncSession, int]:
    """Log in on the nodes from ``start`` on, round-robin, until one accepts."""
    attempt = 0
    while True:
        node = nodes[(start + attempt) % len(nodes)]
        attempt += 1
        try:
            session = await AsyncSession.connect(
                node.host, node.port, name, "" if token else PASSWORD, resume_token=token,
                tls=tls, timeout=30)
            return session, attempt
        except LoginRefused as exc:
            if exc.code == "bad-resume-token":
                token = None
            elif exc.code not in RETRIED:
                raise
        except (ChatError, OSError):
            pass
        if time.monotonic() > deadline:
            raise GeneratorError(f"{name} did not get back within 120 s")
        await asyncio.sleep(0.05)


async def _failover(nodes: list[procs.ServerProcess], k: int, tls: ClientTLS) -> dict[str, Any]:
    victim, survivors = nodes[-1], nodes[:-1]
    names = [f"fail{i:04d}" for i in range(k)]
    far = time.monotonic() + 120
    sessions = [(await _log_in(name, [victim], 0, None, far, tls))[0] for name in names]
    tokens = [session.resume_token for session in sessions]

    async def lost(session: AsyncSession) -> None:
        async for event in session.events():
            if isinstance(event, Disconnected):
                return

    watchers = [asyncio.create_task(lost(session)) for session in sessions]
    killed = time.monotonic()
    victim.kill()
    await asyncio.wait_for(asyncio.gather(*watchers), 60)
    noticed = time.monotonic() - killed

    async def back(i: int) -> tuple[float, int, bool]:
        session, attempts = await _log_in(names[i], survivors, i, tokens[i], killed + 120, tls)
        at = time.monotonic() - killed
        by_token = session.by_resume_token
        await session.close()
        return at, attempts, by_token

    returns = await asyncio.gather(*(back(i) for i in range(k)))
    for session in sessions:
        with contextlib.suppress(Exception):
            await session.close()
    times = sorted(at for at, _, _ in returns)
    return {"k": k, "noticed_s": noticed, "p50_s": statistics.median(times),
            "max_s": times[-1], "attempts": sum(a for _, a, _ in returns) / k,
            "by_token": sum(1 for _, _, t in returns if t), "back": len(returns)}


def failover(args: argparse.Namespace, tls: bool) -> dict[str, Any]:
    server_cpus, _ = procs.cpu_plan()
    with (tempfile.TemporaryDirectory() as pins, fresh_engines(args) as store,
          start_nodes(3, server_cpus, store, args, tls) as nodes):
        # Each node has a certificate of its own: pinned on first contact,
        # as a client with no CA and no --fingerprint does.
        client_tls = ClientTLS(pins=PinStore(Path(pins) / "pins")) if tls else NO_TLS
        return asyncio.run(_failover(nodes, args.failover_clients, client_tls))


def main() -> int:
    args = parse_args()
    print(report.machine())
    results: list[dict[str, Any]] = []
    for n in args.clients:
        for config in args.configs:
            for tls in args.tls_modes:
                results += run_config(config, tls, n, args)
    print()
    print(report.table(HEADERS, [row_cells(r) for r in results]))
    costs = order_costs(results)
    if costs:
        print("\nthe global order: cluster-1 against single, per message (nodes + engines CPU)")
        print(report.table(("N", "TLS", "mode", "single µs/msg", "cluster-1 µs/msg", "order µs/msg",
                            "+p50 ms", "+p99 ms"), costs))
    if any(r["per_commit"] for r in results):
        ceiling = commit_ceiling(args, 0.5 if args.quick else 3.0)
        print(f"\nserial commits/s of the counter row's kind on this PostgreSQL: {ceiling:,.0f}"
              " (the stream's ceiling in commits; times msgs/commit above: its messages/s)")
    lost_clients = 0
    if args.failover_clients and "cluster-3" in args.configs:
        tls = True in args.tls_modes
        f = failover(args, tls)
        lost_clients = f["k"] - f["back"]
        lease = f"{args.lease_time} s" if args.lease_time else "the server's default"
        print(f"\nfailover: {f['k']} users of a SIGKILLed node of 3 (lease time: {lease}, "
              f"TLS {'on' if tls else 'off'})")
        print(report.table(
            ("users", "noticed s", "back p50 s", "back max s", "attempts", "by token"),
            [[f["k"], f["noticed_s"], f["p50_s"], f["max_s"], f["attempts"], f["by_token"]]]))
    lost = sum(r["lost"] for r in results)
    duplicates = sum(r["duplicates"] for r in results)
    print(f"\nlost messages: {lost}")
    print(f"duplicate deliveries: {duplicates}")
    print(f"lost clients: {lost_clients}")
    print(f"command: {report.command_line()}")
    return 1 if lost or duplicates or lost_clients else 0


if __name__ == "__main__":
    sys.exit(report.run(main))
