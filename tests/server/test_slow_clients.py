"""Heartbeats and slow clients: a peer that stops answering (SIGSTOPped,
half-open) or stops reading is deactivated, and nobody else waits for it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

from chatproto import ChatMessage, Error, FileAvailable, Ping, SendChat
from support import Closed, RawClient, fetch, presence_of, running_server, upload

FAST_HEARTBEAT = {"heartbeat_interval": 0.5, "heartbeat_timeout": 2.0}


def test_idle_client_that_answers_pings_stays(tmp_path: Path) -> None:
    with running_server(tmp_path / "d", **FAST_HEARTBEAT) as server:
        alice = RawClient.login_as(server, "alice")
        pings = [alice.wait_for(Ping, timeout=10) for _ in range(5)]  # > the timeout
        assert len({p.nonce for p in pings}) == 5
        assert server.participants() == {"alice": "active"}


def test_client_that_does_not_answer_is_deactivated(tmp_path: Path) -> None:
    with running_server(tmp_path / "d", **FAST_HEARTBEAT) as server:
        watcher = RawClient.login_as(server, "watcher")
        mute = RawClient.login_as(server, "mute", auto_pong=False)
        assert watcher.wait_for(presence_of("mute", "deactivated")).participant_count == 2
        events = mute.wait_closed()
        assert any(isinstance(e, Error) and e.code == "timeout" for e in events)


def test_sigstopped_client_process_is_deactivated(tmp_path: Path) -> None:
    with running_server(tmp_path / "d", **FAST_HEARTBEAT) as server:
        script = textwrap.dedent(f"""
            import sys
            sys.path.insert(0, {str(Path(__file__).parent.parent)!r})
            from support import RawClient
            client = RawClient(("127.0.0.1", {server.port}))
            client.login("sleepy", "pw")
            print("ready", flush=True)
            while True:
                client.next_event(timeout=3600)
        """)
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                text=True)
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            # The watcher logs in only now: it must answer pings while it waits.
            watcher = RawClient.login_as(server, "watcher")
            os.kill(proc.pid, signal.SIGSTOP)
            deactivated = watcher.wait_for(presence_of("sleepy", "deactivated"))
            assert deactivated.participant_count == 2
            watcher.send(SendChat("life goes on"))
            assert watcher.wait_for(ChatMessage).text == "life goes on"
        finally:
            proc.kill()
            proc.wait()


def _stuck_socket(address: tuple[str, int]) -> RawClient:
    """A logged-in client with tiny kernel buffers that will never read again."""
    client = RawClient.__new__(RawClient)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(address)
    from chatproto import ClientConnection

    client.sock, client.conn, client.auto_pong = sock, ClientConnection(), True
    client.received, client._pending, client.eof = [], [], False
    return client


def test_client_that_stops_reading_is_dropped_and_others_keep_receiving(
    tmp_path: Path,
) -> None:
    limit = 256 * 1024
    with running_server(tmp_path / "d", output_buffer_limit=limit, flood_rate=0) as server:
        alice = RawClient.login_as(server, "alice")
        bob = RawClient.login_as(server, "bob")
        stuck = _stuck_socket(server.address)
        stuck.login("stuck")
        text = "가" * 5000  # 15 kB per message
        count = 400  # ~6 MB: far more than the bound plus every kernel buffer
        for i in range(count):
            alice.send(SendChat(text, client_id=i))
            if i % 20 == 19:  # alice and bob keep reading while the flood goes on
                for client in (alice, bob):
                    client.wait_for(lambda e, i=i: isinstance(e, ChatMessage) and e.client_id == i)
        for client in (alice, bob):  # the loop above waited for the last one too
            received = [e.client_id for e in client.received if isinstance(e, ChatMessage)]
            assert received == list(range(count))
        alice.wait_for(presence_of("stuck", "deactivated"))
        assert server.participants()["stuck"] == "deactivated"
        # The stuck connection was dropped: its buffered output is gone with it.
        server.wait_until(
            lambda: all(
                c.transport is None or c.transport.get_write_buffer_size() <= limit
                for c in server.server.ctx.registry.clients  # type: ignore[union-attr]
            )
        )


def test_fetch_interleaves_cleanly_with_chat(tmp_path: Path) -> None:
    """One writer per socket: file chunks and chat frames never interleave badly."""
    with running_server(tmp_path / "d", flood_rate=0) as server:
        alice = RawClient.login_as(server, "alice")
        bob = RawClient.login_as(server, "bob")
        data = os.urandom(3 * 1024 * 1024)
        announced = upload(alice, data, "big.bin")
        assert isinstance(announced, FileAvailable)
        for i in range(100):
            alice.send(SendChat(f"during fetch {i}", client_id=i))
        assert fetch(bob, announced.file_id) == data  # parsed frame by frame
        texts = [bob.wait_for(ChatMessage).text for _ in range(100)]
        assert texts == [f"during fetch {i}" for i in range(100)]


def test_slow_reader_of_a_fetch_is_not_dropped(tmp_path: Path) -> None:
    """Fetches wait for the reader (backpressure) instead of filling the buffer."""
    limit = 256 * 1024
    with running_server(tmp_path / "d", output_buffer_limit=limit) as server:
        alice = RawClient.login_as(server, "alice")
        data = os.urandom(4 * 1024 * 1024)
        announced = upload(alice, data, "big.bin")
        assert isinstance(announced, FileAvailable)
        slow = _stuck_socket(server.address)
        slow.login("slow")
        from chatproto import FetchFile, FileChunk, FileEnd

        slow.send(FetchFile(announced.file_id, 0))
        # Read a little at a time; in between, the server must only wait.
        received = bytearray()
        while True:
            event = slow.wait_for((FileChunk, FileEnd))
            if isinstance(event, FileEnd):
                break
            received += event.data
            if len(received) % (1024 * 1024) < 65_536:
                server.wait_until(
                    lambda: all(
                        c.transport is None or c.transport.get_write_buffer_size() <= limit
                        for c in server.server.ctx.registry.clients  # type: ignore[union-attr]
                    )
                )
        assert bytes(received) == data
        assert server.participants()["slow"] == "active"
        try:
            slow.send(SendChat("done"))
            slow.wait_for(ChatMessage)
        except Closed:  # pragma: no cover - would mean it was dropped
            raise AssertionError("the slow fetcher was dropped") from None
