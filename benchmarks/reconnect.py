"""Reconnect storm: N clients logged in, the server restarted under them, until the last is back.

A real ``chat-server`` (the CLI, its default scrypt cost) holds ``--clients``
clients, run by a few worker processes (``reconnect_clients.py``: by default they
speak the login on the wire and skip by header the frames they do not need, so
that one core of them keeps up with the server; with ``--client session`` each is
an ``AsyncSession`` that decodes everything). The server is stopped (SIGTERM:
every client gets its Goodbye) and started again on the same port and data;
every client reconnects at once, retrying while the port is closed, as the GUI
does with the lost session's resume token. Each client
presents its token (the ``token`` row) or its password (the ``password`` row,
the cost before issue 13) and asks for the last ``--missed`` history entries
again; it is *back* once the last of them has been replayed to it. The figures
are the time from the new server's listening socket (and from the stop
signal) until the last client is back.

Setup, not measured: the accounts (all with one scrypt hash of one password, so
setting up costs one hash rather than N) and a resume token for each are written
into a fresh database before the first start, as N earlier logins would have left
them, and the clients' first logins use those tokens. The server runs on one core
and the clients on the other when there are two.

    python benchmarks/reconnect.py
    python benchmarks/reconnect.py --clients 200 --tls off --modes token
    python benchmarks/reconnect.py --quick
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

from chatproto.fingerprints import fingerprint
from chatproto.session import NO_TLS, ClientTLS, PinStore
from chatserver.accounts import hash_password
from chatserver.app import DATABASE_NAME
from chatserver.ports import Account, now_ms
from chatserver.resume_tokens import ResumeTokens
from chatserver.sqlite_store import SqliteStore
from chatserver.tls import CERT_FILE
from loadgen import report
from reconnect_clients import LOGIN_TIMEOUT, PASSWORD, worker

HERALD = "herald"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4, help="client processes")
    parser.add_argument("--tls", choices=["on", "off", "both"], default="both",
                        help="the server's TLS (on is its default)")
    parser.add_argument("--modes", nargs="+", choices=["token", "password"],
                        default=["token", "password"], help="how the clients log in again")
    parser.add_argument("--client", choices=["frames", "session"], default="frames",
                        help="frames: the login on the wire, the rest skipped by header, so "
                        "the clients keep up; session: AsyncSession, all decoded")
    parser.add_argument("--missed", type=int, default=10,
                        help="history entries each client has replayed on its way back")
    parser.add_argument("--profile", metavar="FILE",
                        help="run the restarted server under cProfile, its stats into FILE")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.workers, args.tls, args.missed = 40, 2, "off", 3
    return args


# -- the server -------------------------------------------------------------------------


def seed(data_dir: Path, names: list[str], missed: int) -> tuple[dict[str, bytes], int]:
    """A database as ``names`` logging in once would have left it, and ``missed``
    history entries; each name's resume token, and the last seq."""
    store = SqliteStore(data_dir / DATABASE_NAME)
    try:
        hashed = hash_password(PASSWORD)
        for name in [HERALD, *names]:
            store.create_account(Account(name, hashed, 0), now_ms())
        rows = [(seq, now_ms(), HERALD, None, seq, f"missed entry {seq}")
                for seq in range(1, missed + 1)]
        store.commit(rows, ())
        tokens = ResumeTokens(store, 86_400.0)
        return {name: tokens.issue(name) for name in names}, missed
    finally:
        store.close()


def cpu_plan() -> tuple[set[int] | None, set[int] | None]:
    cpus = sorted(os.sched_getaffinity(0))
    return (None, None) if len(cpus) < 2 else ({cpus[0]}, set(cpus[1:]))


class Server:
    """One ``chat-server`` process at a time on ``port``, its log in a file."""

    def __init__(self, data_dir: Path, port: int, tls: bool, clients: int,
                 cpus: set[int] | None) -> None:
        self.data_dir, self.port, self.tls, self.cpus = data_dir, port, tls, cpus
        self.clients = clients
        self.log = data_dir / "server.log"
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self, profile: str | None = None) -> float:
        """Start it; the time its socket was listening (it logs that line then)."""
        command = [
            sys.executable, *(("-m", "cProfile", "-o", profile) if profile else ()),
            "-m", "chatserver",
            "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", str(self.data_dir),
            "--max-connections", str(self.clients + 100),
            "--max-connections-per-address", str(self.clients + 100),
            "--login-timeout", str(LOGIN_TIMEOUT), "--flood-rate", "0",
            *(() if self.tls else ("--no-tls",)),
        ]
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL)
        if self.cpus is not None:
            os.sched_setaffinity(self.popen.pid, self.cpus)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with self.log.open("rb") as log:
                log.seek(offset)
                if b"listening on " in log.read():
                    return time.monotonic()
            if self.popen.poll() is not None:
                break
            time.sleep(0.002)
        raise SystemExit(f"chat-server did not start:\n{self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()

    def cpu_seconds(self) -> float:
        assert self.popen is not None
        with open(f"/proc/{self.popen.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def tls_settings(self, pins: Path) -> ClientTLS:
        if not self.tls:
            return NO_TLS
        der = ssl.PEM_cert_to_DER_cert((self.data_dir / CERT_FILE).read_text())
        return ClientTLS(fingerprint=fingerprint(der), pins=PinStore(pins))


# -- one run -----------------------------------------------------------------------------


@contextmanager
def workers(args: argparse.Namespace, tokens: dict[str, bytes], plan: dict[str, Any],
            cpus: set[int] | None) -> Iterator[Queue[Any]]:
    context = multiprocessing.get_context("fork")
    results: Queue[Any] = context.Queue()
    names = sorted(tokens)
    procs = []
    for index in range(args.workers):
        mine = names[index :: args.workers]
        proc = context.Process(target=worker, daemon=True,
                               args=(mine, [tokens[n] for n in mine], plan, results))
        proc.start()
        if cpus is not None:
            os.sched_setaffinity(proc.pid, cpus)
        procs.append(proc)
    try:
        yield results
    finally:
        for proc in procs:
            proc.join(30)
            if proc.is_alive():
                proc.kill()


class Inbox:
    """The workers' messages, taken by kind: one that comes early waits its turn."""

    def __init__(self, results: Queue[Any]) -> None:
        self._results = results
        self._early: list[tuple[str, Any]] = []

    def take(self, kind: str, count: int, timeout: float) -> list[Any]:
        """``count`` messages of ``kind``."""
        found: list[Any] = []
        kept: list[tuple[str, Any]] = []
        for what, payload in self._early:
            if what == kind and len(found) < count:
                found.append(payload)
            else:
                kept.append((what, payload))
        self._early = kept
        deadline = time.monotonic() + timeout
        while len(found) < count:
            try:
                what, payload = self._results.get(
                    timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise SystemExit(
                    f"the workers sent {len(found)} of {count} {kind!r} in time") from None
            if what == "failed":
                raise SystemExit(f"a worker failed: {payload}")
            if what == kind:
                found.append(payload)
            else:
                self._early.append((what, payload))
        return found


def measure(args: argparse.Namespace, tls: bool) -> list[dict[str, Any]]:
    names = [f"storm{i:05d}" for i in range(args.clients)]
    server_cpus, client_cpus = cpu_plan()
    with tempfile.TemporaryDirectory(prefix="chat-reconnect-") as folder:
        data = Path(folder)
        tokens, last_seq = seed(data, names, args.missed)
        epoch = _epoch(data)
        port = _free_port()
        server = Server(data, port, tls, args.clients, server_cpus)
        server.start()
        plan = {"host": "127.0.0.1", "port": port, "tls": server.tls_settings(data / "pins"),
                "ssl": _unverified() if tls else None, "client": args.client,
                "last_seq": last_seq, "missed": args.missed, "epoch": epoch,
                "modes": args.modes}
        rows = []
        try:
            with workers(args, tokens, plan, client_cpus) as results:
                inbox = Inbox(results)
                ready = sum(inbox.take("ready", args.workers, 300))
                assert ready == args.clients
                for mode in args.modes:
                    time.sleep(1.0)  # the presence traffic of the last logins drains
                    stopped = time.monotonic()
                    server.stop()
                    listening = server.start(args.profile)
                    cpu_before = server.cpu_seconds()
                    reports = inbox.take("back", args.workers, 900)
                    cpu = server.cpu_seconds() - cpu_before
                    back = [row for rows_, _ in reports for row in rows_]
                    client_cpu = sum(cpu for _, cpu in reports)
                    rows.append(_figures(mode, tls, back, stopped, listening, cpu, client_cpu))
                inbox.take("done", args.workers, 60)
        finally:
            server.stop()
    return rows


def _figures(mode: str, tls: bool, back: list[dict[str, Any]], stopped: float,
             listening: float, cpu: float, client_cpu: float) -> dict[str, Any]:
    replayed = sorted(r["replayed"] - listening for r in back)
    return {
        "mode": mode, "tls": "on" if tls else "off", "clients": len(back),
        "by_token": sum(r["by_token"] for r in back),
        "down_s": listening - stopped,
        "p50_s": statistics.median(replayed),
        "last_s": replayed[-1],
        "last_from_stop_s": replayed[-1] + listening - stopped,
        "attempts": statistics.mean(r["attempts"] for r in back),
        "cpu_s": cpu,
        "client_cpu_s": client_cpu,
    }


def _unverified() -> ssl.SSLContext:
    """TLS as the default server speaks it; the certificate is the one just made."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _epoch(data: Path) -> int:
    store = SqliteStore(data / DATABASE_NAME)
    try:
        return store.epoch
    finally:
        store.close()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def main() -> int:
    args = parse_args()
    print(report.machine())
    print(f"load average before the run: {os.getloadavg()[0]:.2f}")
    rows = []
    for tls in {"on": [True], "off": [False], "both": [True, False]}[args.tls]:
        rows += measure(args, tls)
    print(report.table(
        ("login by", "TLS", "clients", "by token", "server down s", "p50 back s",
         "last back s", "last since stop s", "attempts", "server CPU s", "clients CPU s"),
        [[r["mode"], r["tls"], r["clients"], r["by_token"], r["down_s"], r["p50_s"],
          r["last_s"], r["last_from_stop_s"], r["attempts"], r["cpu_s"], r["client_cpu_s"]]
         for r in rows],
    ))
    print("'back': logged in again and replayed the missed entries; seconds from the new "
          "server listening (and from the stop signal). CPU: the server's from its start "
          "until the last is back, the clients' over the storm (retries included)")
    lost = sum(args.clients - r["clients"] for r in rows)
    print(f"lost clients: {lost}")
    print(f"command: {report.command_line()}")
    return 0


if __name__ == "__main__":
    sys.exit(report.run(main))
