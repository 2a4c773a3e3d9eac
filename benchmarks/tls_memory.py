"""What one server-side TLS connection keeps at rest, and why: OpenSSL's own
share, the memory BIOs, and ``SSL_MODE_RELEASE_BUFFERS``.

In one process, without sockets: N client ``SSLObject``s handshake with N
server connections (``chatserver.tls_transport.ServerTLS``, the server's own
code, over a stand-in transport that keeps what it is given), each server
connection then sends a burst (``--burst``, a login's participant list in a
big room) and receives one small record, the clients are freed, and the heap
still in use (glibc ``mallinfo2``: what ``malloc`` handed out and not got
back; Python's small objects live in pymalloc's own arenas and are not in
it) is divided by N. Variants: the server's shared BIOs, a BIO pair per
connection (what ``wrap_bio`` with fresh BIOs would keep), and each with
``SSL_MODE_RELEASE_BUFFERS`` cleared (through ``ctypes``), to measure what
CPython's setting of it saves. The mode CPython sets is printed.

A second table tries the server settings that could make OpenSSL keep less
per connection (shared BIOs, release buffers on): no TLS 1.3 session
tickets (``num_tickets = 0``), no tickets at all (``OP_NO_TICKET``: TLS 1.2
style session ids), no server session cache, and each TLS 1.3 cipher suite
(through ``SSL_CTX_set_ciphersuites``: the record contexts differ).

    python benchmarks/tls_memory.py
    python benchmarks/tls_memory.py --connections 500 --burst 0
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import ssl
import sys
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Any

from chatserver.tls import ensure_self_signed, server_context
from chatserver.tls_transport import ServerTLS, TLSEndpoint
from loadgen import report

SSL_CTRL_MODE, SSL_CTRL_CLEAR_MODE, SSL_CTRL_SET_SESS_CACHE_MODE = 33, 78, 44
TLS13_SUITES = ("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256",
                "TLS_CHACHA20_POLY1305_SHA256")
SSL_MODE_AUTO_RETRY, SSL_MODE_RELEASE_BUFFERS = 0x4, 0x10


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def heap_in_use() -> int:
    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = _MallInfo2
    info = libc.mallinfo2()
    return int(info.uordblks + info.hblkhd)


def _ssl_ctx(context: ssl.SSLContext) -> int | None:
    """The context's ``SSL_CTX*``, the first field after the object header of
    CPython's ``PySSLContext``."""
    return ctypes.c_void_p.from_address(id(context) + 2 * ctypes.sizeof(ctypes.c_void_p)).value


def _libssl() -> ctypes.CDLL:
    return ctypes.CDLL(ssl._ssl.__file__)  # type: ignore[attr-defined]


def _ctx_ctrl(context: ssl.SSLContext, command: int, value: int) -> int:
    """``SSL_CTX_ctrl`` on the context's ``SSL_CTX``."""
    libssl = _libssl()
    libssl.SSL_CTX_ctrl.restype = ctypes.c_long
    libssl.SSL_CTX_ctrl.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_void_p)
    return int(libssl.SSL_CTX_ctrl(_ssl_ctx(context), command, value, None))


def _set_suite(context: ssl.SSLContext, suite: str) -> None:
    libssl = _libssl()
    libssl.SSL_CTX_set_ciphersuites.argtypes = (ctypes.c_void_p, ctypes.c_char_p)
    if libssl.SSL_CTX_set_ciphersuites(_ssl_ctx(context), suite.encode()) != 1:
        raise SystemExit(f"OpenSSL refused the cipher suite {suite}")


def settings_tried(cert: Any) -> list[tuple[str, ssl.SSLContext]]:
    """(what differs, a server context with it) for the second table."""

    def no_tickets(context: ssl.SSLContext) -> None:
        context.num_tickets = 0

    def no_ticket_option(context: ssl.SSLContext) -> None:
        context.options |= ssl.OP_NO_TICKET

    def no_cache(context: ssl.SSLContext) -> None:
        _ctx_ctrl(context, SSL_CTRL_SET_SESS_CACHE_MODE, 0)

    changes: list[tuple[str, Any]] = [
        ("the server's context", None),
        ("num_tickets = 0", no_tickets),
        ("OP_NO_TICKET", no_ticket_option),
        ("no session cache", no_cache),
        *((f"only {suite}", lambda c, s=suite: _set_suite(c, s)) for suite in TLS13_SUITES),
    ]
    contexts = []
    for label, change in changes:
        context = server_context(cert)
        if change is not None:
            change(context)
        contexts.append((label, context))
    return contexts


class _Transport:
    """Enough of an asyncio transport for ``ServerTLS``: takes the bytes."""

    def __init__(self) -> None:
        self.data: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.data.append(data)

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0


def measure(context: ssl.SSLContext, n: int, burst: int, shared: bool) -> float:
    client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_context.check_hostname, client_context.verify_mode = False, ssl.CERT_NONE
    shared_endpoint = TLSEndpoint(context)
    servers: list[ServerTLS] = []
    gc.collect()
    before = heap_in_use()
    for _ in range(n):
        endpoint = shared_endpoint if shared else TLSEndpoint(context)
        transport = _Transport()
        server = ServerTLS(endpoint, transport)  # type: ignore[arg-type]
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        client = client_context.wrap_bio(incoming, outgoing)
        while not server.established:
            with suppress(ssl.SSLWantReadError):
                client.do_handshake()
            server.receive(outgoing.read())
            incoming.write(b"".join(transport.data))
            transport.data.clear()
        if burst:
            server.write(b"p" * burst)
        client.write(b"x" * 40)  # a Pong's worth
        server.receive(outgoing.read())
        transport.data.clear()  # sent: the kernel has it
        if not shared:
            del endpoint.scratch  # a per-connection scratch is not what is compared
        servers.append(server)
        del client, incoming, outgoing, transport
    gc.collect()
    per_connection = (heap_in_use() - before) / n / 1024
    del servers
    return per_connection


def measure_fresh(context: ssl.SSLContext, n: int) -> float:
    """An ``SSLObject`` (over the shared BIOs) before any handshake: OpenSSL's
    ``SSL`` as ``SSL_new`` makes it, and CPython's objects around it."""
    endpoint = TLSEndpoint(context)
    gc.collect()
    before = heap_in_use()
    objects = [endpoint.wrap() for _ in range(n)]
    per_connection = (heap_in_use() - before) / n / 1024
    del objects
    return per_connection


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--burst", type=int, default=150_000,
                        help="bytes each server connection sends once (default: %(default)s)")
    args = parser.parse_args()
    if args.quick:
        args.connections = 100
    print(report.machine(), "|", ssl.OPENSSL_VERSION)
    with tempfile.TemporaryDirectory() as directory:
        cert = ensure_self_signed(Path(directory))
        context = server_context(cert)
        tried = settings_tried(cert)
    mode = _ctx_ctrl(context, SSL_CTRL_MODE, 0)
    if not mode & SSL_MODE_AUTO_RETRY:  # CPython always sets it: the pointer is not an SSL_CTX
        raise SystemExit(f"cannot read the context's mode (got {mode:#x}): layout changed?")
    print(f"SSL_CTX mode as CPython sets it: {mode:#x}, SSL_MODE_RELEASE_BUFFERS "
          f"{'on' if mode & SSL_MODE_RELEASE_BUFFERS else 'off'}")
    rows: list[list[Any]] = []
    for release in (True, False):
        if not release:
            _ctx_ctrl(context, SSL_CTRL_CLEAR_MODE, SSL_MODE_RELEASE_BUFFERS)
        for shared in (True, False):
            kib = measure(context, args.connections, args.burst, shared)
            rows.append(["shared (the server's)" if shared else "a pair per connection",
                         "on" if release else "off", kib])
    print(report.table(("memory BIOs", "RELEASE_BUFFERS", "KiB per connection"), rows))
    print(report.table(
        ("server setting (shared BIOs, RELEASE_BUFFERS on)", "KiB per connection"),
        [[label, measure(tried_context, args.connections, args.burst, True)]
         for label, tried_context in tried]))
    print(f"an SSLObject before its handshake: {measure_fresh(context, args.connections):.1f} "
          "KiB (OpenSSL's SSL as SSL_new makes it)")
    print(f"{args.connections:,} connections, each after its handshake, a {args.burst:,}-byte "
          "burst out and a 40-byte record in; malloc heap in use (mallinfo2), without "
          "Python's small objects (pymalloc)")
    print(f"command: {report.command_line()}")
    return 0


if __name__ == "__main__":
    sys.exit(report.run(main))
