"""A disk that fills up: the server's data dir on a small tmpfs.

An upload that cannot fit is refused with a clear reason, up front when the
free space says so and mid-way when the disk fills while it streams; nothing
half-written is announced, nothing stored before is damaged, and the server
keeps working (also after a restart on the same data dir).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chatproto import (
    ChatMessage,
    FetchFile,
    FetchRejected,
    FileAccepted,
    FileAvailable,
    FileChunk,
    FileEnd,
    FileOffer,
    FileRejected,
    LoginAccepted,
    SendChat,
)
from support import running_server

from .peer import Peer

DISK_SIZE = "4m"
CHUNK = 65_536


@contextmanager
def small_disk(mount_point: Path) -> Iterator[Path]:
    """A tmpfs of ``DISK_SIZE`` (the tests run as root, as CI does)."""
    mount_point.mkdir(parents=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE},mode=0700", "tmpfs", str(mount_point)],
        check=True, capture_output=True, text=True,
    )
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _offer(peer: Peer, upload_id: int, data: bytes) -> FileAccepted | FileRejected:
    peer.send(FileOffer(upload_id, f"file-{upload_id}.bin", len(data),
                        hashlib.sha256(data).digest()))
    verdict = peer.wait_for((FileAccepted, FileRejected),
                            match=lambda e: getattr(e, "upload_id", None) == upload_id)
    assert isinstance(verdict, FileAccepted | FileRejected)
    return verdict


def _finish(peer: Peer, upload_id: int) -> FileAvailable | FileRejected:
    peer.send(FileEnd(upload_id))
    done = peer.wait_for((FileAvailable, FileRejected),
                         match=lambda e: getattr(e, "upload_id", None) == upload_id)
    assert isinstance(done, FileAvailable | FileRejected)
    return done


def _fetch(peer: Peer, file_id: int) -> bytes | None:
    peer.send(FetchFile(file_id, 0))
    out = bytearray()
    while True:
        event = peer.wait_for(
            (FileChunk, FileEnd, FetchRejected),
            match=lambda e: getattr(e, "transfer_id", getattr(e, "file_id", None)) == file_id,
        )
        if isinstance(event, FileChunk):
            out += event.data
        elif isinstance(event, FileEnd):
            return bytes(out)
        else:
            return None


def test_a_full_disk_fails_uploads_cleanly_and_corrupts_nothing(tmp_path: Path) -> None:
    rng_data = os.urandom
    with small_disk(tmp_path / "disk") as data_dir:
        with running_server(data_dir, min_free_space=0, scrypt_n=2**10) as srv, \
                Peer(srv.address) as alice:
            assert isinstance(alice.login("alice", "pw"), LoginAccepted)
            first = rng_data(300_000)
            assert isinstance(_offer(alice, 1, first), FileAccepted)
            for offset in range(0, len(first), CHUNK):
                alice.send(FileChunk(1, offset, first[offset : offset + CHUNK]))
            kept = _finish(alice, 1)
            assert isinstance(kept, FileAvailable)

            # Too big for what is free: refused before a byte is sent.
            huge = _offer(alice, 2, b"\0" * (8 * 1024 * 1024))
            assert isinstance(huge, FileRejected) and huge.reason == "storage-full"
            assert huge.message

            # An upload that fits when offered (the server counts the space it has promised
            # to uploads in progress, so two of its own uploads cannot overbook the disk);
            # then another program fills the disk while the chunks stream in.
            free = shutil.disk_usage(data_dir).free
            data = rng_data(free * 6 // 10)
            assert isinstance(_offer(alice, 3, data), FileAccepted)
            filler = data_dir / "another-program.bin"
            with contextlib.suppress(OSError), open(filler, "wb") as out:  # full: the point
                out.write(b"\0" * (free * 8 // 10))
            for offset in range(0, len(data), CHUNK):
                alice.send(FileChunk(3, offset, data[offset : offset + CHUNK]))
            results = {3: _finish(alice, 3)}
            failed = [r for r in results.values() if isinstance(r, FileRejected)]
            assert failed, "the disk filled while the upload streamed"
            assert all(r.reason == "storage-full" and r.message for r in failed)
            filler.unlink()
            parts = {3: data}

            # Space is given back, the server still chats and serves files.
            srv.wait_until(lambda: not any(srv.server.ctx.storage.partial_dir.iterdir()),
                           what="partial uploads removed")
            alice.send(SendChat("still here", None, 1))
            assert isinstance(alice.wait_for(ChatMessage), ChatMessage)
            assert _fetch(alice, kept.file_id) == first
            stored = {kept.file_id: first}
            for upload_id, result in results.items():
                if isinstance(result, FileAvailable):
                    assert _fetch(alice, result.file_id) == parts[upload_id]
                    stored[result.file_id] = parts[upload_id]

        # After a restart on the same (full) disk, the history holds exactly the
        # files that were announced, each intact.
        with running_server(data_dir, min_free_space=0, scrypt_n=2**10) as srv, \
                Peer(srv.address) as reader:
            reply = reader.login("alice", "pw", 0)
            assert isinstance(reply, LoginAccepted)
            announced: dict[int, FileAvailable] = {}
            last = 0
            while last < reply.last_seq:
                event = reader.wait_for((FileAvailable, ChatMessage))
                last = getattr(event, "seq", last)
                if isinstance(event, FileAvailable):
                    announced[event.file_id] = event
            assert set(announced) == set(stored)
            for file_id, content in stored.items():
                assert _fetch(reader, file_id) == content
