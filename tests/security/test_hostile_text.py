"""Hostile text: control characters, ANSI escapes and bidi overrides in
messages and file names never reach a terminal raw from ``chat-cli listen``;
``--json`` keeps the text intact; a hostile user name never gets in at all."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable
from pathlib import Path

from chatproto import (
    FileAccepted,
    FileAvailable,
    FileChunk,
    FileEnd,
    FileOffer,
    LoginAccepted,
    LoginRejected,
    SendChat,
)
from cli.clitools import Listener
from support import running_server

from .peer import Peer

HOSTILE_MESSAGES = [
    "M0 \x1b[2J\x1b[31mFAKE ALERT\x1b[0m",
    "M1 hi\n[12:00] <admin> please send me your password",
    "M2 \r[12:00] <admin> overwritten",
    "M3 evil\u202eexe.txt",
    "M4 \x07bell\x08\x08\x08",
    "M5 \x1b]0;pwned title\x07",
    "M6 \u2066isolate\u2069 \u200fRTL mark",
    "M7 \x9b31m C1 CSI \x85 NEL",
    "M8 zero\u200bwidth \ufeffbom \u2028line sep",
    "M9 \x00nul \x7fdel",
]
HOSTILE_FILES = [
    "F0 \x1b[31mred\x1b[0m.txt",
    "F1 ../../etc/passwd",
    "F2 invoice\u202efdp.exe",
    "F3 two\nlines.txt",
]
UNSAFE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co"}


def _unsafe(line: str) -> list[str]:
    return [f"U+{ord(ch):04X}" for ch in line if unicodedata.category(ch) in UNSAFE_CATEGORIES]


def _send_all(peer: Peer) -> list[str]:
    """Send every hostile message and file; the file names as the server announced them."""
    announced = []
    for i, text in enumerate(HOSTILE_MESSAGES, start=1):
        peer.send(SendChat(text, None, i))
    for upload_id, name in enumerate(HOSTILE_FILES, start=1):
        data = f"content of file {upload_id}\n".encode()
        peer.send(FileOffer(upload_id, name, len(data), hashlib.sha256(data).digest()))
        peer.wait_for(FileAccepted, match=lambda e, u=upload_id: getattr(e, "upload_id", 0) == u)
        peer.send(FileChunk(upload_id, 0, data))
        peer.send(FileEnd(upload_id))
        done = peer.wait_for(
            FileAvailable, match=lambda e, u=upload_id: getattr(e, "upload_id", 0) == u
        )
        assert isinstance(done, FileAvailable)
        announced.append(done.name)
    return announced


def test_listen_escapes_hostile_text_and_json_keeps_it(tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"
    for home in ("h1", "h2"):
        (tmp_path / home).mkdir()
    with running_server(tmp_path / "data", scrypt_n=2**10) as srv:
        human = Listener(srv, "watcher", "--download-dir", str(downloads), home=tmp_path / "h1")
        as_json = Listener(srv, "auditor", "--json", "--no-download", home=tmp_path / "h2")
        try:
            srv.wait_until(lambda: {"watcher", "auditor"} <= set(srv.server.hub.sessions),
                           what="both listeners logged in")
            with Peer(srv.address) as mallory:
                mallory.login("mallory", "pw")
                announced = _send_all(mallory)

            lines = _lines_until(human, lambda line: "F3" in line)
            raw_json = _lines_until(as_json, lambda line: "F3" in line)
            records = [json.loads(line) for line in raw_json]
        finally:
            human.close()
            as_json.close()

    for line in lines:
        assert not _unsafe(line), f"raw control characters {_unsafe(line)} in {line!r}"
        # A line is an event ("[hh:mm]...") or the indented rest of one: a
        # newline in a message can never start a line that looks like a user's.
        assert line.startswith("[") or line.startswith(" "), line
    text = "\n".join(lines)
    for marker in [f"M{i}" for i in range(10)]:
        assert marker in text, f"{marker} was not shown at all"
    # The server already cleans peer file names (no path, no controls).
    for name in announced:
        assert "/" not in name and "\\" not in name and not _unsafe(name), name
    assert "\\e[31m" in text or "\\x1b" in text, "escapes are shown visibly"

    chats = {r["text"] for r in records if r.get("type") == "chat"}
    assert set(HOSTILE_MESSAGES) <= chats, "JSON output must keep the text intact"
    names = {r["name"] for r in records if r.get("type") == "file"}
    assert set(announced) <= names

    saved = [p for p in downloads.rglob("*") if p.is_file()]
    assert len(saved) == len(HOSTILE_FILES)
    for path in saved:
        assert path.parent == downloads, f"{path} escaped the download folder"
        assert not _unsafe(path.name) and "/" not in path.name and "\\" not in path.name


def _lines_until(listener: Listener, last: Callable[[str], bool]) -> list[str]:
    """Every line printed, up to the one ``last`` accepts."""
    out: list[str] = []
    while not out or not last(out[-1]):
        out.append(listener.next_line())
    return out


def test_a_hostile_user_name_is_refused_at_the_door(tmp_path: Path) -> None:
    with running_server(tmp_path / "data", scrypt_n=2**10) as srv, Peer(srv.address) as peer:
        reply = peer.login("\x1b[31madmin\u202e", "pw")
        assert isinstance(reply, LoginRejected) and reply.reason == "invalid-name"
        assert not any("\x1b" in user or "\u202e" in user for user in srv.participants())
    with running_server(tmp_path / "data", scrypt_n=2**10) as srv, Peer(srv.address) as peer:
        assert isinstance(peer.login("mallory", "pw"), LoginAccepted)  # the door stays open
