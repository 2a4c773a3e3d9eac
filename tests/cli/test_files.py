"""Files through chat-cli: upload, automatic download, resume, safe names."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from chatproto.session import partial_path

from .clitools import Listener, run_cli


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_file_round_trip_is_byte_identical(server_proc, home: Path, tmp_path: Path) -> None:
    source = tmp_path / "보고서 final.bin"
    source.write_bytes(os.urandom(300_000))
    downloads = tmp_path / "downloads"
    (downloads).mkdir()
    (downloads / source.name).write_bytes(b"already here: must not be overwritten")
    with Listener(server_proc, "개구리", "--json", "--download-dir", str(downloads),
                  home=home) as listener:
        listener.next_json()
        sent = run_cli(server_proc, "frog", "send-file", str(source), home=home)
        assert sent.returncode == 0, sent.stderr
        assert sent.stderr == ""  # no progress bar when stderr is not a terminal
        record = listener.wait_json(lambda r: r["type"] == "file")
        assert record["from"] == "frog"
        assert record["to"] is None
        assert record["name"] == source.name
        assert record["size"] == 300_000
        assert record["sha256"] == sha256(source)
        assert isinstance(record["seq"], int)
        saved = Path(record["path"])
        assert saved.parent.resolve() == downloads.resolve()
        assert saved.name == "보고서 final (2).bin"
        assert sha256(saved) == sha256(source)
        assert (downloads / source.name).read_bytes() == b"already here: must not be overwritten"
        assert not list(downloads.glob("*.part"))
        assert listener.terminate() == 0


def test_direct_file_and_no_download(server, home: Path, tmp_path: Path) -> None:
    source = tmp_path / "note.txt"
    source.write_text("비밀 노트\n", encoding="utf-8")
    work = tmp_path / "cwd"
    work.mkdir()
    with Listener(server, "개구리", "--no-download", home=home, cwd=work) as quiet, \
         Listener(server, "toad", "--json", home=home, cwd=work) as toad:
        quiet.next_line()
        toad.next_json()
        sent = run_cli(server, "frog", "send-file", "--to", "개구리", str(source), home=home)
        assert sent.returncode == 0, sent.stderr
        line = quiet.wait_line(lambda line: "note.txt" in line)
        assert line.endswith("* frog sent the file note.txt (14 bytes) (direct to 개구리)")
        # toad is not the recipient: it sees only presence, then a chat sent after.
        assert run_cli(server, "frog", "send", "after", home=home).returncode == 0
        chat = toad.wait_json(lambda r: r["type"] != "presence")
        assert chat["type"] == "chat" and chat["text"] == "after"
        assert not list(work.iterdir())  # nothing downloaded anywhere (cwd is the default dir)
        assert quiet.terminate() == 0
        assert toad.terminate() == 0


def test_default_download_dir_is_the_working_directory(server, home: Path, tmp_path: Path) -> None:
    source = tmp_path / "plain.txt"
    source.write_bytes(b"hello")
    work = tmp_path / "cwd"
    work.mkdir()
    with Listener(server, "개구리", home=home, cwd=work) as listener:
        listener.next_line()
        assert run_cli(server, "frog", "send-file", str(source), home=home).returncode == 0
        line = listener.wait_line(lambda line: "plain.txt" in line)
        assert "saved as" in line
        assert (work / "plain.txt").read_bytes() == b"hello"
        assert listener.terminate() == 0


def test_partial_download_is_resumed_from_its_offset(server, home: Path, tmp_path: Path) -> None:
    content = os.urandom(500_000)
    source = tmp_path / "big.bin"
    source.write_bytes(content)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    # What an interrupted earlier download left behind: the first 200 000 bytes.
    part = partial_path(downloads, source.name, hashlib.sha256(content).digest())
    part.write_bytes(content[:200_000])
    inode = part.stat().st_ino
    with Listener(server, "개구리", "--json", "--download-dir", str(downloads),
                  home=home) as listener:
        listener.next_json()
        assert run_cli(server, "frog", "send-file", str(source), home=home).returncode == 0
        record = listener.wait_json(lambda r: r["type"] == "file")
        saved = Path(record["path"])
        assert saved.read_bytes() == content
        assert saved.stat().st_ino == inode  # the very file that was started, completed
        assert not part.exists()
        assert listener.terminate() == 0
        assert any("resuming big.bin from byte 200000" in line
                   for line in listener.stderr_after_exit())


def test_a_failed_download_is_reported_and_listening_goes_on(server, home: Path,
                                                              tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the download folder should be")
    source = tmp_path / "doc.txt"
    source.write_bytes(b"content")
    with Listener(server, "개구리", "--json", "--download-dir", str(blocker / "sub"),
                  home=home) as listener:
        listener.next_json()
        assert run_cli(server, "frog", "send-file", str(source), home=home).returncode == 0
        record = listener.wait_json(lambda r: r["type"] == "file")
        assert record["path"] is None and record["name"] == "doc.txt"
        assert run_cli(server, "frog", "send", "next", home=home).returncode == 0
        assert listener.wait_json(lambda r: r["type"] == "chat")["text"] == "next"
        assert listener.terminate() == 0
        errors = listener.stderr_after_exit()
        assert len(errors) == 1 and "download of doc.txt failed" in errors[0]


def test_hostile_file_names_reach_neither_disk_nor_terminal_raw(server, home: Path,
                                                                 tmp_path: Path) -> None:
    from chatproto import FileAccepted, FileAvailable, FileChunk, FileEnd, FileOffer
    from support import RawClient

    downloads = tmp_path / "downloads"
    body = b"#!/bin/sh\necho pwned\n"
    name = "../../\x1b[2J\u202eevil.sh"
    with Listener(server, "개구리", "--download-dir", str(downloads), home=home) as listener:
        listener.next_line()
        with RawClient.login_as(server, "mallory", "pw") as raw:
            raw.send(FileOffer(1, name, len(body), hashlib.sha256(body).digest()))
            raw.wait_for(FileAccepted)
            raw.send(FileChunk(1, 0, body))
            raw.send(FileEnd(1))
            raw.wait_for(FileAvailable)
        line = listener.wait_line(lambda line: "mallory sent" in line)
        assert "\x1b" not in line and "\u202e" not in line
        # Directories and control characters dropped; the harmless rest kept.
        assert [p.name for p in downloads.iterdir()] == ["[2Jevil.sh"]
        assert (downloads / "[2Jevil.sh").read_bytes() == body
        assert not (tmp_path / "evil.sh").exists() and not (home / "evil.sh").exists()
        assert listener.terminate() == 0
