"""What one idle logged-in connection keeps of the server's Python heap, and whose it is.

The real server (``chatserver.app.ChatServer``, its defaults but a cheap scrypt
cost, as ``loadgen/serve.py``) runs in a child process under ``tracemalloc``.
A few users log in first (one-time allocations: caches, the loop's tables),
the heap is taken, then ``--connections`` more users log in and stay idle,
having read everything sent to them, and the heap is taken again. The
difference, per connection, is grouped by where it was allocated: Python's
own ``asyncio``, ``socket`` and ``selectors`` (a connection's transport, its
socket object, the selector's key), ``ssl``, ``chatproto`` and
``chatserver``. ``tracemalloc`` sees what Python allocates, not OpenSSL's own
``malloc`` (``tls_memory.py`` measures that): with TLS the ``SSLObject`` is
here, its C state is not. The server's RSS per connection is
``connections.py``'s.

    python benchmarks/heap_per_connection.py
    python benchmarks/heap_per_connection.py --connections 3000 --tls off
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

from chatproto import PROTOCOL_VERSION, Hello, Login, encode_event
from chatproto.limits import DEFAULT_MAX_FRAME_SIZE
from loadgen import report
from loadgen.procs import free_port

WARM_UP = 20
STDLIB = ("asyncio", "socket.py", "selectors.py", "weakref.py", "ssl.py")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--tls", choices=["on", "off", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--serve", metavar="JSON", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.connections = 40
    return args


# -- the server's side: the real server, its heap taken on SIGUSR1 ---------------------


def serve(spec: dict[str, Any]) -> None:
    from chatserver.app import ChatServer
    from chatserver.config import ServerConfig
    from chatserver.log import setup_logging

    tracemalloc.start(1)
    setup_logging("WARNING")
    snapshots: list[tracemalloc.Snapshot] = []
    out = Path(spec.pop("out"))

    def take(server: ChatServer) -> None:
        gc.collect()
        snapshots.append(tracemalloc.take_snapshot())
        if len(snapshots) < 2:
            out.with_suffix(".ready").write_text("1")
            return
        by_line = [(stat.traceback[0].filename, stat.traceback[0].lineno, stat.size_diff)
                   for stat in snapshots[1].compare_to(snapshots[0], "lineno")]
        sessions = len(server.hub.sessions)
        out.write_text(json.dumps({"lines": by_line, "sessions": sessions}))

    async def main() -> None:
        server = ChatServer(ServerConfig(**spec))
        await server.start()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGUSR1, take, server)
        loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(server.stop()))
        await server.serve_forever()

    asyncio.run(main())


# -- the clients: blocking sockets that log in and then only read -------------------------


class Users:
    def __init__(self, port: int, tls: bool) -> None:
        self.port, self.sockets = port, []
        self.context: ssl.SSLContext | None = None
        if tls:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            self.context.check_hostname = False
            self.context.verify_mode = ssl.CERT_NONE

    def add(self, name: str) -> None:
        sock: socket.socket = socket.create_connection(("127.0.0.1", self.port))
        if self.context is not None:
            sock = self.context.wrap_socket(sock)
        sock.sendall(encode_event(Hello(PROTOCOL_VERSION, DEFAULT_MAX_FRAME_SIZE, "heap"))
                     + encode_event(Login(name, "heap-password")))
        sock.setblocking(False)
        self.sockets.append(sock)

    def drain(self) -> None:
        """Read what the server sent (presence, the lists), so it holds none of it."""
        for sock in self.sockets:
            try:
                while sock.recv(1 << 20):
                    pass
            except (BlockingIOError, ssl.SSLWantReadError):
                pass

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()


def owner(filename: str) -> str:
    parts = Path(filename).parts
    for package in ("chatproto", "chatserver"):
        if package in parts:
            return package
    if any(part in STDLIB for part in parts[-2:]):
        return "ssl" if parts[-1] == "ssl.py" else "asyncio, socket, selectors"
    return "other"


def measure(connections: int, tls: bool, work: Path, quick: bool) -> dict[str, Any]:
    port = free_port()
    out = work / f"heap-{'tls' if tls else 'plain'}.json"
    spec = {"host": "127.0.0.1", "port": port, "data_dir": str(work / f"data-{tls}"),
            "scrypt_n": 2**10, "tls": tls, "out": str(out),
            "max_connections": connections + 100,
            "max_connections_per_address": connections + 100,
            "max_registrations_per_address": connections + 100,
            "heartbeat_interval": 600.0, "heartbeat_timeout": 1200.0, "flood_rate": 0}
    server = subprocess.Popen([sys.executable, __file__, "--serve", json.dumps(spec)])
    users = Users(port, tls)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                users.add("warm0")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.1)
        for index in range(1, WARM_UP):
            users.add(f"warm{index}")
        settle(users, 0.5 if quick else 2.0)
        server.send_signal(signal.SIGUSR1)
        wait_for(out.with_suffix(".ready"), server)
        for index in range(connections):
            users.add(f"user{index}")
            if index % 100 == 99:
                users.drain()
        settle(users, 1.0 if quick else 5.0 + connections / 500)
        server.send_signal(signal.SIGUSR1)
        result: dict[str, Any] = json.loads(wait_for(out, server))
    finally:
        users.close()
        server.terminate()
        server.wait(30)
    groups: Counter[str] = Counter()
    lines: Counter[str] = Counter()
    for filename, lineno, size in result["lines"]:
        groups[owner(filename)] += size
        lines[f"{Path(filename).name}:{lineno} ({owner(filename)})"] += size
    return {"groups": groups, "lines": lines, "logged_in": result["sessions"] - WARM_UP}


def settle(users: Users, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        users.drain()
        time.sleep(0.2)


def wait_for(path: Path, server: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size:
            time.sleep(0.2)  # written in one call; let it finish
            return path.read_text()
        if server.poll() is not None:
            raise SystemExit("the server ended before its heap was taken")
        time.sleep(0.1)
    raise SystemExit("the server did not take its heap in 60 s")


def main() -> int:
    args = parse_args()
    if args.serve:
        serve(json.loads(args.serve))
        return 0
    print(report.machine())
    modes = {"on": [True], "off": [False], "both": [False, True]}[args.tls]
    with tempfile.TemporaryDirectory(prefix="heap-") as work:
        for tls in modes:
            found = measure(args.connections, tls, Path(work), args.quick)
            n = args.connections
            print(f"\nTLS {'on' if tls else 'off'}: {found['logged_in']:,} of {n:,} users "
                  "logged in and idle")
            total = sum(found["groups"].values())
            rows = [[name, size / n, f"{100 * size / total:.0f}%"]
                    for name, size in found["groups"].most_common()]
            rows.append(["all of it", total / n, "100%"])
            print(report.table(["allocated in", "bytes per connection", "share"], rows))
            print("largest lines, bytes per connection:")
            for line, size in found["lines"].most_common(8):
                print(f"  {size / n:7.1f}  {line}")
            if found["logged_in"] != n:
                print(f"lost connections: {n - found['logged_in']}")
                return 1
    print("lost connections: 0")
    print(f"command: {report.command_line()}")
    return 0


if __name__ == "__main__":
    sys.exit(report.run(main))
