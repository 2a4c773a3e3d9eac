"""Files between Chromium and chat-cli, SHA-256 equal both ways; images
inline only when their bytes are of an allowed type."""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path

from playwright.sync_api import Locator

from chatproto import ChatMessage, FileAvailable
from cli.clitools import Listener, run_cli
from support import RawClient, ServerProcess, upload

from .browser import WebUser, poll, sha256_file
from .conftest import url_of


def png_bytes(width: int = 8, height: int = 6) -> bytes:
    """A real PNG, made here: red pixels, 8-bit RGB."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">'
       b'<script>window.__svg_ran = true</script><rect width="8" height="8"/></svg>')


def test_a_file_goes_from_the_browser_to_the_cli_and_back(
    web_server: ServerProcess, browser_user: Callable[..., WebUser], home: Path, tmp_path: Path,
) -> None:
    url = url_of(web_server)
    cli_downloads = tmp_path / "cli-downloads"
    cli_downloads.mkdir()
    browser_downloads = tmp_path / "browser-downloads"
    browser_downloads.mkdir()
    source = tmp_path / "report.bin"
    # Several of the TCP path's 64 KiB chunks, and not a multiple of them.
    source.write_bytes(os.urandom(700_001))
    with Listener(web_server, "carol", "--json", "--download-dir", str(cli_downloads),
                  home=home) as carol:
        # Logged in before anyone else: their joining is news to it.
        carol.wait_json(lambda r: r["type"] == "presence" and r["user"] == "carol")
        alice = browser_user(url)
        alice.login("alice")
        carol.wait_json(lambda r: r["type"] == "presence" and r["user"] == "alice")
        assert alice.upload(source) == "done"
        assert alice.page.locator('.upload[data-name="report.bin"] progress').count() == 1
        record = carol.wait_json(lambda r: r["type"] == "file")
        assert (record["from"], record["name"], record["size"]) == ("alice", "report.bin",
                                                                    700_001)
        assert record["sha256"] == sha256_file(source)
        assert record["path"] is not None and sha256_file(Path(record["path"])) == record["sha256"]

        # The other way: chat-cli uploads over TCP, the browser downloads over HTTP.
        reply = tmp_path / "답장 reply.bin"
        reply.write_bytes(os.urandom(300_000))
        sent = run_cli(web_server, "carol", "send-file", str(reply), home=home)
        assert sent.returncode == 0, sent.stderr
        got = alice.download(reply.name, browser_downloads)
        assert sha256_file(got) == sha256_file(reply)

        # Another browser user, another session: a file a TCP user sends now.
        bob = browser_user(url)
        bob.login("bob")
        with RawClient.login_as(web_server, "dave", "pw") as dave:
            upload(dave, b"late file", name="late.txt")
        got = bob.download("late.txt", browser_downloads)
        assert got.read_bytes() == b"late file"
        # alice's own upload is offered to her for download too.
        mine = alice.download("report.bin", browser_downloads)
        assert sha256_file(mine) == sha256_file(source)


def test_direct_file_from_the_browser_reaches_only_its_recipient(
    web_server: ServerProcess, browser_user: Callable[..., WebUser], tmp_path: Path,
) -> None:
    url = url_of(web_server)
    with RawClient.login_as(web_server, "carol", "pw") as carol, \
         RawClient.login_as(web_server, "dave", "pw") as dave:
        alice = browser_user(url)
        alice.login("alice")
        alice.wait_participants({"alice": "active", "carol": "active", "dave": "active"})
        alice.choose("carol")
        source = tmp_path / "secret.txt"
        source.write_bytes(b"for carol only")
        assert alice.upload(source) == "done"
        event = carol.wait_for(FileAvailable)
        assert (event.sender, event.recipient, event.name) == ("alice", "carol", "secret.txt")
        assert event.sha256 == hashlib.sha256(b"for carol only").digest()
        # dave's next event is a chat sent after the file: the file never came.
        alice.send("after the file", to="")
        dave.wait_for(ChatMessage)
        assert not any(isinstance(e, FileAvailable) for e in dave.received)


def test_only_real_images_of_the_allow_list_are_shown_inline(
    web_server: ServerProcess, browser_user: Callable[..., WebUser],
) -> None:
    alice = browser_user(url_of(web_server))
    alice.login("alice")
    with RawClient.login_as(web_server, "bob", "pw") as bob:
        # The ones that must not show first, the ones that must after: once
        # the later ones are shown, the earlier had every chance to be.
        upload(bob, SVG, name="drawing.svg", upload_id=1)
        upload(bob, os.urandom(2_000), name="fake.png", upload_id=2)
        upload(bob, b"<svg xmlns='http://www.w3.org/2000/svg'/>", name="svg-named.png",
               upload_id=3)
        upload(bob, png_bytes(), name="photo.png", upload_id=4)
        upload(bob, png_bytes(5, 3), name="no-extension", upload_id=5)
    for name, size in (("photo.png", (8, 6)), ("no-extension", (5, 3))):
        image = alice.file_line(name).locator("img.inline")
        image.wait_for(state="visible")
        assert (image.get_attribute("src") or "").startswith("blob:")
        assert tuple(poll(partial(decoded_size, image), what=f"{name} decoded")) == size
    for name in ("drawing.svg", "fake.png", "svg-named.png"):
        line = alice.file_line(name)
        assert line.locator("img").count() == 0, name
        assert (line.locator("a.download").get_attribute("href") or "").startswith("/files/")
    assert alice.page.evaluate("window.__svg_ran === undefined")
    embedded = alice.page.locator("#transcript object, #transcript embed, #transcript iframe")
    assert embedded.count() == 0


def decoded_size(image: Locator) -> list[int] | None:
    size: list[int] | None = image.evaluate(
        "img => img.complete && img.naturalWidth > 0 ? [img.naturalWidth, img.naturalHeight] : null"
    )
    return size
