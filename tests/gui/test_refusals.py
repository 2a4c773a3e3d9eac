"""What the server or the protocol refuses is reported, and nothing typed is lost."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from chatproto import FileAccepted, FileAvailable, FileChunk, FileEnd, FileOffer
from support import RawClient

from .driver import GuiClient


def test_a_refused_message_is_given_back(
    gui: Callable[[str], GuiClient], chat_server
) -> None:
    frog = gui("frog")
    frog.login(chat_server.host, chat_server.port, "frog", "pw")
    too_long = "가" * 10_000  # 30 000 bytes of UTF-8: over the protocol's limit
    frog.say(too_long)
    frog.wait_for_text("*** Message not sent: ")
    assert frog.chat.draft() == too_long  # nothing typed is lost
    assert frog.transcript().count("\n") < 10


def test_a_hostile_file_name_lands_safely_in_the_download_folder(
    gui: Callable[[str], GuiClient], chat_server, tmp_path: Path
) -> None:
    frog = gui("frog")
    frog.login(chat_server.host, chat_server.port, "frog", "pw")
    data = b"not what it claims to be"
    hostile = "../../x\u202etxt.exe"
    with RawClient.login_as(chat_server, "mallory", "pw-m") as mallory:
        mallory.send(FileOffer(1, hostile, len(data), hashlib.sha256(data).digest()))
        mallory.wait_for(FileAccepted)
        mallory.send(FileChunk(1, 0, data))
        mallory.send(FileEnd(1))
        mallory.wait_for(FileAvailable)
    frog.wait_for_text(" saved as ")
    saved = [p for p in frog.downloads.iterdir()]
    assert len(saved) == 1 and saved[0].read_bytes() == data
    assert "/" not in saved[0].name and "\u202e" not in saved[0].name
    for outside in (frog.downloads.parent, frog.downloads.parent.parent):
        assert not list(outside.glob("x*"))  # nothing written outside the folder
    line = next(x for x in frog.transcript().splitlines() if "sent the file" in x)
    assert "\u202e" not in line
