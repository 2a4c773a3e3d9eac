"""The generator's event loop: connect and log in many clients, then drive
chat traffic either as fast as a window allows (unbounded) or at a fixed total
delivery rate (paced), counting every delivery at every client.

One thread, one epoll, raw non-blocking sockets: the generator must cost far
less per delivery than the server it measures.
"""

from __future__ import annotations

import errno
import itertools
import os
import select
import selectors
import socket
import ssl
import struct
import time
from array import array
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from .clients import (
    WOULD_BLOCK,
    BenchClient,
    message_text,
    receive,
    tls_context,
    tune_socket,
)
from .stamps import KEPT_DIGITS, Stamps, latencies_ns

#: Bytes asked for per read. ``recv`` allocates that much before it knows how
#: much came: above glibc's mmap threshold (128 KiB) every read would map and
#: unmap fresh pages, about 16 µs, more than everything else a read costs.
READ_SIZE = 65_536
READ, WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE


class GeneratorError(Exception):
    pass


def connect_all(
    factory: Callable[[int, str], BenchClient],
    address: tuple[str, int],
    names: Sequence[str],
    *,
    max_pending: int = 200,
    timeout: float = 120.0,
    source_hosts: Sequence[str] = (),
    idle_reader: Callable[[BenchClient, bytes], None] | None = None,
    partial_ok: bool = False,
    tls: bool = False,
) -> tuple[list[BenchClient], float]:
    """Connect and log in one client per name, ``max_pending`` handshakes at a time.

    Returns the logged-in clients and the seconds until the last of them was
    in. Clients already logged in keep being read (presence of later logins)
    through ``idle_reader`` when given, else through their own ``deliveries``.
    With ``partial_ok``, running out of time returns the clients logged in so
    far (the others are closed). With ``tls``, the TLS handshakes run
    non-blocking in the same loop, ``max_pending`` at a time like the logins
    (one at a time, each would wait for a server busy with the presence
    traffic of thousands of users).
    """
    selector = selectors.DefaultSelector()
    clients = [factory(i, name) for i, name in enumerate(names)]
    waiting = deque(clients)
    pending = 0
    done = 0
    started = last_ready = time.monotonic()
    deadline = started + timeout
    context = tls_context() if tls else None
    handshaking: set[BenchClient] = set()

    def handshake_step(client: BenchClient) -> bool:
        """Advance a TLS handshake; True once it is done."""
        sock: Any = client.sock
        try:
            sock.do_handshake()
        except ssl.SSLWantReadError:
            selector.modify(sock, READ, client)
            return False
        except ssl.SSLWantWriteError:
            selector.modify(sock, WRITE, client)
            return False
        except (OSError, ssl.SSLError) as exc:
            raise GeneratorError(f"TLS handshake with {address}: {exc}") from None
        handshaking.discard(client)
        return True

    def start(client: BenchClient) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        tune_socket(sock)
        if source_hosts:
            sock.bind((source_hosts[client.index % len(source_hosts)], 0))
        err = sock.connect_ex(address)
        if err not in (0, errno.EINPROGRESS):
            raise GeneratorError(f"connect to {address}: {os.strerror(err)}")
        client.sock = sock
        selector.register(sock, WRITE, client)

    try:
        while done < len(clients):
            while waiting and pending < max_pending:
                start(waiting.popleft())
                pending += 1
            if time.monotonic() > deadline:
                if partial_ok:
                    break
                raise GeneratorError(
                    f"only {done} of {len(clients)} clients logged in within {timeout}s"
                )
            for key, mask in selector.select(1.0):
                client = key.data
                sock = client.sock
                if client in handshaking:
                    if handshake_step(client):
                        selector.modify(sock, READ, client)
                        client.write(client.greeting())
                    continue
                if mask & WRITE and not client.ready and not client.outbox:
                    err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise GeneratorError(f"connect failed: {os.strerror(err)}")
                    if context is not None:
                        selector.unregister(sock)
                        client.sock = sock = context.wrap_socket(
                            sock, do_handshake_on_connect=False)
                        selector.register(sock, READ, client)
                        handshaking.add(client)
                        if not handshake_step(client):
                            continue
                    selector.modify(sock, READ, client)
                    client.write(client.greeting())
                    continue
                if not mask & READ:
                    continue
                try:
                    data = receive(sock, READ_SIZE)
                except WOULD_BLOCK:
                    continue
                except ConnectionError as exc:
                    raise GeneratorError(f"{client.name}: {exc}") from None
                if not data:
                    raise GeneratorError(f"{client.name}: server closed the connection")
                if client.ready:
                    if idle_reader is not None:
                        idle_reader(client, data)
                    else:
                        client.deliveries(data)
                else:
                    client.handshake(data)
                    if client.failure:
                        raise GeneratorError(f"{client.name}: {client.failure}")
                    if client.ready:
                        pending -= 1
                        done += 1
                        last_ready = time.monotonic()
                client.flush()
    except BaseException:
        for client in clients:
            if client.sock is not None:
                client.sock.close()
        raise
    finally:
        selector.close()
    elapsed = last_ready - started
    for client in clients:
        if not client.ready and client.sock is not None:
            client.sock.close()
    return [c for c in clients if c.ready], elapsed


def settle(clients: Sequence[BenchClient], quiet: float = 0.3, timeout: float = 30.0) -> None:
    """Read (and drop) whatever arrives until nothing has for ``quiet`` seconds."""
    selector = selectors.DefaultSelector()
    for client in clients:
        assert client.sock is not None
        selector.register(client.sock, READ, client)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            events = selector.select(quiet)
            if not events:
                return
            for key, _ in events:
                try:
                    data = receive(key.data.sock, READ_SIZE)
                except WOULD_BLOCK:
                    continue
                if not data:
                    raise GeneratorError(f"{key.data.name}: the server closed the connection")
                key.data.deliveries(data)
                key.data.flush()
    finally:
        selector.close()


#: Ask the kernel for each read's arrival time (Linux: SO_TIMESTAMPNS = 35):
#: latency then ends when the bytes reached the receiver's socket, not when
#: the generator got round to reading them.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
STAMP_SPACE = socket.CMSG_SPACE(16)
TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", 12)
_timespec = struct.Struct("qq").unpack_from


def hold(clients: Sequence[BenchClient], seconds: float) -> None:
    """Stay connected and idle for ``seconds``, answering what needs an answer."""
    selector = selectors.DefaultSelector()
    for client in clients:
        assert client.sock is not None
        selector.register(client.sock, READ, client)
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            for key, _ in selector.select(min(left, 1.0)):
                client = key.data
                try:
                    data = receive(client.sock, READ_SIZE)
                except WOULD_BLOCK:
                    continue
                if not data:
                    raise GeneratorError(f"{client.name}: the server closed the connection")
                client.deliveries(data)
                client.flush()
    finally:
        selector.close()


class Traffic:
    """One measured run over logged-in clients; ``run_unbounded``/``run_paced``."""

    def __init__(self, clients: Sequence[BenchClient], messages_per_client: int) -> None:
        self.clients = list(clients)
        self.n = len(clients)
        self.per_client = messages_per_client
        echo = clients[0].echoes_to_sender
        self.fanout = self.n if echo else self.n - 1
        self.total_messages = self.n * messages_per_client
        self.expected_each = self.total_messages - (0 if echo else messages_per_client)
        self.expected = self.expected_each * self.n
        self.sent = [0] * self.n
        self.received = [0] * self.n
        self.received_total = 0
        self.sent_total = 0
        # Per piece of a read (see ``clients.Stamps``): its arrival time, and
        # the kept digits of its deliveries' send times.
        self.arrivals = array("q")
        self.stamps: list[Stamps] = []
        self.reads = 0
        self.first_send = 0
        self.last_delivery = 0
        self.cpu_start = time.process_time()
        self.tls = isinstance(clients[0].sock, ssl.SSLSocket)
        self.epoll = select.epoll(self.n)
        self.by_fd: dict[int, BenchClient] = {}
        for client in self.clients:
            assert client.sock is not None
            client.refused, client.refusal = 0, ""
            client.start_counting()
            client.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            self.by_fd[client.sock.fileno()] = client
            self.epoll.register(client.sock.fileno(), select.EPOLLIN)
        self._senders = itertools.cycle(range(self.n))

    def close(self) -> None:
        for client in self.clients:
            assert client.sock is not None
            client.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 0)
        self.epoll.close()

    def _send_one(self) -> bool:
        """Send the next message of the next sender that has one left."""
        for _ in range(self.n):
            i = next(self._senders)
            if self.sent[i] < self.per_client:
                client = self.clients[i]
                client.write(client.chat(message_text(i, self.sent[i])))
                self.sent[i] += 1
                self.sent_total += 1
                return True
        return False

    def _send_burst(self, budget: int) -> None:
        """Send up to ``budget`` messages, shared out over the senders, one
        write per sender (as a busy client's kernel would coalesce them)."""
        share = max(1, budget // self.n)
        for _ in range(self.n):
            if budget <= 0:
                return
            i = next(self._senders)
            count = min(share, budget, self.per_client - self.sent[i])
            if count <= 0:
                continue
            client = self.clients[i]
            first = self.sent[i]
            client.write(b"".join(
                [client.chat(message_text(i, first + k)) for k in range(count)]
            ))
            self.sent[i] += count
            self.sent_total += count
            budget -= count

    def _poll(self, timeout: float) -> None:
        events = self.epoll.poll(timeout)
        by_fd = self.by_fd
        arrivals, stamp_parts = self.arrivals, self.stamps
        received = self.received
        tls = self.tls
        got = 0
        last = 0
        reads = 0
        for fd, mask in events:
            client = by_fd[fd]
            sock: Any = client.sock
            if mask & select.EPOLLOUT:
                client.flush()
                if not client.outbox:
                    self.epoll.modify(fd, select.EPOLLIN)
            if not mask & (select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR):
                continue
            try:
                if tls:  # no recvmsg on TLS: the time of the read instead
                    data = receive(sock, READ_SIZE)
                    ancillary = None
                else:
                    data, ancillary, _, _ = sock.recvmsg(READ_SIZE, STAMP_SPACE)
            except WOULD_BLOCK:
                continue
            except ConnectionError as exc:
                raise GeneratorError(f"{client.name}: {exc}") from None
            if not data:
                raise GeneratorError(f"{client.name}: the server closed the connection")
            reads += 1
            # Linux leaves quick-ACK mode on its own; re-arm it after each read
            # or a Nagle-ing server waits up to 40 ms for our delayed ACK.
            sock.setsockopt(socket.IPPROTO_TCP, TCP_QUICKACK, 1)
            pieces = client.deliveries(data)
            if client.failure:
                raise GeneratorError(f"{client.name}: {client.failure}")
            if pieces:
                if ancillary:
                    seconds, nanos = _timespec(ancillary[0][2])
                    arrived = seconds * 1_000_000_000 + nanos
                else:
                    arrived = time.time_ns()
                count = 0
                for piece in pieces:
                    count += len(piece) // KEPT_DIGITS if type(piece) is bytes else len(piece[0])
                    arrivals.append(arrived)
                    stamp_parts.append(piece)
                received[client.index] += count
                got += count
                if arrived > last:
                    last = arrived
        self.reads += reads
        if got:
            self.received_total += got
            self.last_delivery = max(self.last_delivery, last)

    def _watch_outboxes(self) -> None:
        for client in self.clients:
            if client.outbox:
                client.flush()
                if client.outbox:
                    fd = client.sock.fileno()  # type: ignore[union-attr]
                    self.epoll.modify(fd, select.EPOLLIN | select.EPOLLOUT)

    def run_unbounded(self, window: int, stall: float = 10.0) -> dict[str, Any]:
        """Keep ``window`` messages in flight (sent, not yet delivered to all)."""
        self.first_send = time.time_ns()
        last_progress = time.monotonic()
        seen = 0
        while self.received_total < self.expected:
            in_flight = self.sent_total - self.received_total // self.fanout
            budget = window - in_flight
            while budget > 0 and self.sent_total < self.total_messages:
                before = self.sent_total
                self._send_burst(budget)
                budget -= self.sent_total - before
            self._watch_outboxes()
            self._poll(1.0)
            if self.received_total != seen:
                seen = self.received_total
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > stall:
                break
        return self.result("unbounded")

    def run_paced(self, rate: float, stall: float = 10.0) -> dict[str, Any]:
        """Send messages so that deliveries arrive at ``rate`` per second in total."""
        interval = int(1e9 * self.fanout / rate)
        self.first_send = time.time_ns()
        next_due = time.monotonic_ns()
        while self.sent_total < self.total_messages:
            now = time.monotonic_ns()
            while next_due <= now and self._send_one():
                next_due += interval
            self._watch_outboxes()
            self._poll(max(0.0, (next_due - time.monotonic_ns()) / 1e9))
        last_progress = time.monotonic()
        seen = self.received_total
        while self.received_total < self.expected:
            self._poll(0.5)
            if self.received_total != seen:
                seen = self.received_total
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > stall:
                break
        return self.result("paced", rate)

    def latencies(self) -> array[int]:
        """Nanoseconds from send to arrival of every delivery."""
        out = array("q")
        for arrived, piece in zip(self.arrivals, self.stamps, strict=True):
            out.extend(latencies_ns(arrived, piece))
        return out

    def result(self, mode: str, rate: float = 0.0) -> dict[str, Any]:
        cpu = time.process_time() - self.cpu_start
        elapsed = max(1, self.last_delivery - self.first_send) / 1e9
        lost = sum(max(0, self.expected_each - got) for got in self.received)
        refused = sum(client.refused for client in self.clients)
        reasons = sorted({client.refusal for client in self.clients if client.refusal})
        extra = sum(max(0, got - self.expected_each) for got in self.received)
        ordered = sorted(self.latencies())

        def pct(p: float) -> float:
            if not ordered:
                return float("nan")
            return ordered[min(len(ordered) - 1, int(p * len(ordered)))] / 1e6

        return {
            "mode": mode,
            "rate": rate,
            "n": self.n,
            "messages": self.sent_total,
            "deliveries": self.received_total,
            "expected": self.expected,
            "lost": lost,
            "refused": refused,
            "refusals": reasons,
            "duplicates": extra,
            "seconds": elapsed,
            "deliveries_per_s": self.received_total / elapsed,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "max_ms": ordered[-1] / 1e6 if ordered else float("nan"),
            "generator_cpu_s": cpu,
            "reads": self.reads,
        }
