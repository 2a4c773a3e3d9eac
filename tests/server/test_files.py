"""Behaviours 13-14 on the server: uploads streamed to disk, verified, announced
to everyone or to one user, fetched from any offset; names never trusted."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import attrs
import pytest

from chatproto import (
    ChatMessage,
    FetchRejected,
    FileAvailable,
    FileRejected,
    SendChat,
)
from support import RawClient, RunningServer, fetch, running_server, upload


def test_upload_is_announced_to_everyone_and_fetched_intact(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    data = os.urandom(300_000)  # several chunks, last one partial
    mine = upload(alice, data, "report, final.pdf", upload_id=7)
    assert isinstance(mine, FileAvailable)
    theirs = bob.wait_for(FileAvailable)
    # The same announcement for everyone, but the upload id is alice's alone:
    # bob gets 0, so it cannot close an upload of his own with the same id.
    assert mine.upload_id == 7 and theirs.upload_id == 0
    assert theirs == attrs.evolve(mine, upload_id=0)
    assert (mine.name, mine.size, mine.sender, mine.recipient) == (
        "report, final.pdf", len(data), "alice", None,
    )
    assert mine.sha256 == hashlib.sha256(data).digest()
    assert fetch(bob, mine.file_id) == data
    assert fetch(alice, mine.file_id) == data
    alice.goodbye()
    again = RawClient.login_as(server, "alice")  # replays from the start of her history
    assert again.wait_for(FileAvailable) == theirs  # a replay carries upload id 0 too


def test_interrupted_download_resumes_from_an_offset(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    data = os.urandom(200_000)
    announced = upload(alice, data)
    assert isinstance(announced, FileAvailable)
    assert fetch(alice, announced.file_id, offset=123_457) == data[123_457:]
    assert fetch(alice, announced.file_id, offset=len(data)) == b""
    rejected = fetch(alice, announced.file_id, offset=len(data) + 1)
    assert isinstance(rejected, FetchRejected) and rejected.reason == "bad-offset"


def test_empty_file(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    announced = upload(alice, b"", "empty.txt")
    assert isinstance(announced, FileAvailable) and announced.size == 0
    assert fetch(alice, announced.file_id) == b""


def test_file_for_one_user_only(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    carol = RawClient.login_as(server, "carol")
    mine = upload(alice, b"secret plans", "plans.txt", recipient="bob")
    assert isinstance(mine, FileAvailable) and mine.recipient == "bob"
    assert bob.wait_for(FileAvailable) == attrs.evolve(mine, upload_id=0)
    assert fetch(bob, mine.file_id) == b"secret plans"
    rejected = fetch(carol, mine.file_id)
    assert isinstance(rejected, FetchRejected) and rejected.reason == "not-found"
    alice.send(SendChat("after"))
    carol.wait_for(ChatMessage)
    assert not [e for e in carol.received if isinstance(e, FileAvailable)]


def test_unknown_file_id_is_not_found(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    rejected = fetch(alice, 999)
    assert isinstance(rejected, FetchRejected) and rejected.reason == "not-found"


def test_checksum_mismatch_is_rejected_and_not_announced(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    reply = upload(alice, b"the real bytes", sha256=hashlib.sha256(b"other").digest())
    assert isinstance(reply, FileRejected) and reply.reason == "checksum-mismatch"
    assert list((server.data_dir / "files").iterdir()) == []
    assert list((server.data_dir / "partial").iterdir()) == []
    alice.send(SendChat("next"))
    bob.wait_for(ChatMessage)
    assert not [e for e in bob.received if isinstance(e, FileAvailable)]


def test_too_large_is_rejected_before_any_byte(tmp_path: Path) -> None:
    with running_server(tmp_path / "d", max_file_size=1000) as server:
        alice = RawClient.login_as(server, "alice")
        reply = upload(alice, b"x" * 1001)
        assert isinstance(reply, FileRejected) and reply.reason == "too-large"
        assert isinstance(upload(alice, b"x" * 1000, upload_id=2), FileAvailable)


def test_storage_full_is_rejected(tmp_path: Path) -> None:
    with running_server(tmp_path / "d", min_free_space=2**62) as server:
        alice = RawClient.login_as(server, "alice")
        reply = upload(alice, b"data")
        assert isinstance(reply, FileRejected) and reply.reason == "storage-full"


def test_file_to_unknown_user_is_rejected(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    reply = upload(alice, b"data", recipient="nobody")
    assert isinstance(reply, FileRejected) and reply.reason == "unknown-user"


@pytest.mark.parametrize(
    ("offered", "shown"),
    [
        ("../../x", "x"),
        ("/etc/passwd", "passwd"),
        ("C:\\x", "x"),
        ("con", "_con"),
        ("..\\..\\evil.bat", "evil.bat"),
        ("a,b,c.txt", "a,b,c.txt"),
        ("보고서.hwp", "보고서.hwp"),
        (".bashrc", "bashrc"),
    ],
)
def test_peer_file_names_are_never_paths(
    server: RunningServer, offered: str, shown: str
) -> None:
    alice = RawClient.login_as(server, "alice")
    announced = upload(alice, b"payload", offered)
    assert isinstance(announced, FileAvailable)
    assert announced.name == shown
    stored = list((server.data_dir / "files").iterdir())
    assert len(stored) == 1 and stored[0].name != shown
    # Nothing was written outside the data dir's files folder.
    assert not (server.data_dir.parent / "x").exists()
    assert sorted(p.name for p in server.data_dir.iterdir() if p.is_dir()) == [
        "files", "partial",
    ]


def test_name_with_nothing_usable_is_bad_name(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    reply = upload(alice, b"payload", "../..")
    assert isinstance(reply, FileRejected) and reply.reason == "bad-name"


def test_file_announcement_is_replayed_to_a_returning_user(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    RawClient.login_as(server, "bob").close()
    announced = upload(alice, b"while you were away", "note.txt")
    assert isinstance(announced, FileAvailable)
    bob = RawClient.login_as(server, "bob")
    replayed = bob.wait_for(FileAvailable)
    assert (replayed.seq, replayed.file_id, replayed.name) == (
        announced.seq, announced.file_id, "note.txt",
    )
    assert fetch(bob, replayed.file_id) == b"while you were away"


def test_several_uploads_and_fetches_at_once_on_one_connection(
    server: RunningServer,
) -> None:
    alice = RawClient.login_as(server, "alice")
    blobs = [os.urandom(100_000 + i) for i in range(3)]
    ids = []
    for i, blob in enumerate(blobs):
        announced = upload(alice, blob, f"f{i}", upload_id=i + 1)
        assert isinstance(announced, FileAvailable)
        ids.append(announced.file_id)
    assert [fetch(alice, file_id) for file_id in ids] == blobs


def test_parallel_uploads_cannot_together_overfill_the_disk(tmp_path: Path) -> None:
    import shutil

    from chatproto import FileAccepted, FileOffer

    data_dir = tmp_path / "d"
    data_dir.mkdir()
    free = shutil.disk_usage(data_dir).free
    size = free // 3  # one fits; two would leave less than the minimum
    with running_server(
        data_dir, max_file_size=2**62, min_free_space=free - size - size // 2
    ) as server:
        alice = RawClient.login_as(server, "alice")
        alice.send(FileOffer(1, "first.iso", size, b"\0" * 32))
        assert alice.wait_for((FileAccepted, FileRejected)) == FileAccepted(1)
        alice.send(FileOffer(2, "second.iso", size, b"\0" * 32))
        second = alice.wait_for((FileAccepted, FileRejected))
        assert isinstance(second, FileRejected) and second.reason == "storage-full"
        alice.close()  # the first upload is abandoned: its reservation goes with it
        server.wait_until(lambda: server.server.ctx.storage.reserved == 0)  # type: ignore[union-attr]
        bob = RawClient.login_as(server, "bob")
        bob.send(FileOffer(1, "third.iso", size, b"\0" * 32))
        assert bob.wait_for((FileAccepted, FileRejected)) == FileAccepted(1)
