"""Text a peer chose never forges a line of the server's log, nor reaches the
admin's terminal as escape sequences (issue 11, log forging).

Through a real ``chat-server`` whose stdout goes to a file, read back as
bytes: an Error frame's message, a Hello's software string, an invalid login
name, file names and a protocol error that quotes a peer's value, all with
newlines, carriage returns, terminal escapes, C1 controls, bidi overrides
and line separators. Korean stays readable.
"""

from __future__ import annotations

import logging
import os
import re
import struct
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs

from chatproto import (
    PROTOCOL_VERSION,
    ChatMessage,
    Error,
    FileOffer,
    FileRejected,
    Hello,
    LoginRejected,
    SendChat,
)
from chatserver.log import SafeFormatter, peer_text
from support import RawClient, server_command, upload, wait_until

FORGED = "2026-01-01 00:00:00 INFO forged"
#: Every kind of character that can fake a line or drive a terminal.
NASTY = f"\n{FORGED}\x1b[2J\r{FORGED}\x07\x9b31m\u202eevil\u2028{FORGED}\x85"
#: The same tricks, short enough for a name or a software string.
SHORT = f"\n{FORGED}\x1b[2J\r\x9b\u202e\u2028"
LINE = re.compile(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR) ")


@attrs.define
class LoggingServer:
    address: tuple[str, int]
    log_path: Path

    def log(self) -> bytes:
        return self.log_path.read_bytes()


@contextmanager
def server_logging_to_a_file(tmp_path: Path, *args: str) -> Iterator[LoggingServer]:
    """The real ``chat-server``, its stdout and stderr in a file (raw bytes:
    a pipe read as text would turn a ``\\r`` into a line break of its own)."""
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            server_command("--host", "127.0.0.1", "--port", "0", "--no-tls",
                           "--data-dir", str(tmp_path / "data"), *args),
            stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
    try:
        port: list[int] = []

        def listening() -> bool:
            match = re.search(rb"listening on \S+:(\d+)", log_path.read_bytes())
            if match:
                port.append(int(match.group(1)))
            assert proc.poll() is None, log_path.read_bytes()
            return bool(match)

        wait_until(listening, 30, "the server to listen")
        yield LoggingServer(("127.0.0.1", port[0]), log_path)
    finally:
        proc.terminate()
        proc.wait(10)


def raw_send_chat(recipient: bytes, text: bytes) -> bytes:
    """A SendChat whose recipient the codec would refuse to encode."""
    payload = struct.pack("!QBI", 1, len(recipient), len(text)) + recipient + text
    return struct.pack("!BI", 0x10, len(payload)) + payload


def test_peer_text_is_escaped_in_the_log(tmp_path: Path) -> None:
    with server_logging_to_a_file(tmp_path, "--max-file-size", "10") as server:
        # A Korean user, logged in, closes with an Error frame full of tricks.
        with RawClient.login_as(server, "개구리") as frog:
            frog.send(Error("client-bug", f"보고서{NASTY}"))
            frog.wait_closed()
        # A Hello's software string.
        with RawClient(server.address) as client:
            client.send(Hello(PROTOCOL_VERSION, 1_048_576, f"evil{SHORT}"))
            client.wait_for(Hello)
            # An invalid login name.
            rejected = client.login(f"bad{SHORT}", "pw")
            assert isinstance(rejected, LoginRejected) and rejected.reason == "invalid-name"
        # File names: one refused (too large, logged as sent), one stored.
        with RawClient.login_as(server, "두꺼비") as toad:
            toad.send(FileOffer(1, f"숙제{NASTY}.txt", 11, bytes(32)))
            assert toad.wait_for(FileRejected).reason == "too-large"
            upload(toad, b"ok", f"보고서{NASTY}.txt", 2)
            toad.send(SendChat("still here", client_id=1))
            toad.wait_for(ChatMessage)
            # A protocol error that quotes the peer's value: a bad recipient.
            toad.send_raw(raw_send_chat(f"x{SHORT}".encode(), b"hi"))
            toad.wait_closed()
        wait_until(lambda: "두꺼비 deactivated".encode() in server.log(), 10,
                   "the last deactivation to be logged")
        log = server.log()

    lines = log.split(b"\n")
    forged = [line for line in lines if line.startswith(FORGED.encode())]
    assert not forged, log.decode()
    strangers = [line for line in lines if line and not LINE.match(line)]
    assert not strangers, log.decode()
    for raw in ("\x1b", "\r", "\x07", "\x9b", "\x85", "\u202e", "\u2028"):
        assert raw.encode() not in log, f"{raw!r} in the log:\n{log.decode()}"
    text = log.decode()
    # Escaped where it was, readable where it is printable.
    closed = "<client 개구리 from 127.0.0.1> closed with error client-bug: 보고서\\n2026-01-01"
    assert closed in text
    assert "\\x1b[2J" in text and "\\u202eevil" in text
    assert "개구리 joined" in text and "두꺼비 joined" in text
    assert "upload '숙제\\n2026-01-01 00:00:00 INFO forged\\x1b[2J" in text
    assert "두꺼비 uploaded '보고서" in text
    assert "broke the protocol" in text


def test_the_formatter_escapes_what_a_call_site_forgot() -> None:
    """Defence in depth: a message or an exception that carries peer text raw
    still makes one escaped line; a traceback keeps its lines, indented."""
    formatter = SafeFormatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
    record = logging.LogRecord("chatserver", logging.INFO, __file__, 1,
                               "%s said %s", ("개구리", NASTY), None)
    line = formatter.format(record)
    assert "\n" not in line and "\x1b" not in line and "\u202e" not in line
    assert line.endswith("개구리 said " + peer_text(NASTY))
    try:
        raise ValueError(f"bad value{NASTY}")
    except ValueError:
        record = logging.LogRecord("chatserver", logging.ERROR, __file__, 1, "failed", (),
                                   sys.exc_info())
    lines = formatter.format(record).split("\n")
    assert LINE.match(lines[0].encode()) and lines[0].endswith("failed")
    assert lines[1] == "  Traceback (most recent call last):"
    assert all(line.startswith("  ") for line in lines[1:])
    assert not any(raw in "\n".join(lines) for raw in ("\x1b", "\r", "\x9b", "\u202e"))
