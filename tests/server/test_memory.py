"""Relaying a large file to several receivers at once keeps the server's
memory bounded by its buffers, not by the file's size (measured on the real
``chat-server`` process through /proc)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from chatproto import FetchFile, FileAvailable, FileChunk, FileEnd
from support import RawClient, server_process, upload

MIB = 1024 * 1024
FILE_SIZE = 96 * MIB
RECEIVERS = 4
ALLOWED_GROWTH = 40 * MIB  # "tens of MB", well under the file size


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _pattern(size: int) -> bytes:
    block = hashlib.sha256(b"seed").digest() * (MIB // 32)
    return (block * (size // len(block) + 1))[:size]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_large_file_to_many_receivers_keeps_memory_bounded(tmp_path: Path) -> None:
    with server_process(tmp_path / "d") as server:
        uploader = RawClient.login_as(server, "uploader")
        receivers = [RawClient.login_as(server, f"r{i}") for i in range(RECEIVERS)]
        baseline = memory_kib(server.proc.pid, "VmRSS") * 1024
        data = _pattern(FILE_SIZE)
        announced = upload(uploader, data, "big.iso")
        assert isinstance(announced, FileAvailable)
        del data
        digests: dict[int, bytes] = {}

        def receive(index: int, client: RawClient) -> None:
            client.send(FetchFile(announced.file_id, 0))
            digest = hashlib.sha256()
            while True:
                event = client.wait_for((FileChunk, FileEnd), timeout=60)
                if isinstance(event, FileEnd):
                    break
                digest.update(event.data)
                client.received.clear()  # the test client must stay bounded too
            digests[index] = digest.digest()

        threads = [
            threading.Thread(target=receive, args=(i, c)) for i, c in enumerate(receivers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        assert digests == {i: announced.sha256 for i in range(RECEIVERS)}
        peak = memory_kib(server.proc.pid, "VmHWM") * 1024
        assert peak - baseline < ALLOWED_GROWTH, (
            f"server memory grew by {(peak - baseline) / MIB:.1f} MiB while relaying "
            f"{FILE_SIZE // MIB} MiB to {RECEIVERS} receivers"
        )


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_stopped_reader_during_a_flood_keeps_memory_bounded(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import textwrap

    from chatproto import ChatMessage, SendChat
    from support import presence_of

    with server_process(
        tmp_path / "d", "--flood-rate", "0", "--output-buffer-limit", str(MIB)
    ) as server:
        script = textwrap.dedent(f"""
            import sys
            sys.path.insert(0, {str(Path(__file__).parent.parent)!r})
            from support import RawClient
            client = RawClient(("127.0.0.1", {server.port}))
            client.login("stopped", "pw")
            print("ready", flush=True)
            while True:
                client.next_event(timeout=3600)
                client.received.clear()
        """)
        reader = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                  text=True)
        try:
            assert reader.stdout is not None and reader.stdout.readline().strip() == "ready"
            alice = RawClient.login_as(server, "alice")
            bob = RawClient.login_as(server, "bob")
            baseline = memory_kib(server.proc.pid, "VmRSS") * 1024
            os.kill(reader.pid, signal.SIGSTOP)
            text = "x" * 16_000
            count = 2_500  # 40 MB of chat: ten times the bound plus every kernel buffer
            for i in range(count):
                alice.send(SendChat(text, client_id=i))
                if i % 25 == 24:
                    for client in (alice, bob):  # both read everything, in order
                        while client.wait_for(ChatMessage).client_id != i:
                            pass
                        client.received.clear()
            bob.wait_for(presence_of("stopped", "deactivated"))
            peak = memory_kib(server.proc.pid, "VmHWM") * 1024
            assert peak - baseline < ALLOWED_GROWTH, (
                f"server memory grew by {(peak - baseline) / MIB:.1f} MiB"
            )
        finally:
            reader.kill()
            reader.wait()
