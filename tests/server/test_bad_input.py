"""Bad input of every class: an Error frame with its code, then the connection
closes, and the server keeps serving everyone else (the defects list of the
original: framing, crashing logins, silent clients, oversize uploads)."""

from __future__ import annotations

import hashlib
import socket
import struct
from pathlib import Path

import pytest

from chatproto import (
    PROTOCOL_VERSION,
    ChatMessage,
    ClientConnection,
    Error,
    FileAccepted,
    FileChunk,
    FileOffer,
    Hello,
    SendChat,
    encode_event,
)
from support import Closed, RawClient, RunningServer, presence_of, running_server


def assert_server_still_serves(server: RunningServer, name: str = "healthy") -> None:
    """A fresh user logs in and chats: nothing earlier broke the server."""
    with RawClient.login_as(server, name) as client:
        client.send(SendChat("still alive", client_id=1))
        assert client.wait_for(ChatMessage).text == "still alive"


def error_then_close(client: RawClient) -> Error:
    events = client.wait_closed()
    errors = [e for e in events if isinstance(e, Error)]
    assert errors, events
    return errors[-1]


def raw_login_frame(
    name: bytes, password: bytes, last_seen: int = 0, epoch: int = 0, resume_token: bytes = b""
) -> bytes:
    payload = struct.pack(
        "!QQBHB", last_seen, epoch, len(name), len(password), len(resume_token)
    ) + name + password + resume_token
    return struct.pack("!BI", 0x02, len(payload)) + payload


def raw_hello_frame(version: int, max_frame_size: int, software: bytes = b"raw") -> bytes:
    """A Hello built by hand: the codec refuses to encode out-of-range values."""
    payload = struct.pack("!HIB", version, max_frame_size, len(software)) + software
    return struct.pack("!BI", 0x01, len(payload)) + payload


HELLO = encode_event(Hello(PROTOCOL_VERSION, 1_048_576, "raw"))


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "unknown-type"),
        (b"\x00" * 64, "unknown-type"),
        (struct.pack("!BI", 0x10, 2**31) + b"x", "frame-too-large"),
        (struct.pack("!BI", 0x01, 3) + b"abc", "malformed"),
        (HELLO + encode_event(SendChat("chat before login")), "unexpected-message"),
        (HELLO + raw_login_frame(b"x" * 129, b"pw"), "invalid-field"),
        (HELLO + raw_login_frame(b"frog", b""), "invalid-field"),
        (HELLO + raw_login_frame(b"\xff\xfe", b"pw"), "bad-utf8"),
        (HELLO + raw_login_frame(b"frog", b"pw", resume_token=bytes(32)), "invalid-field"),
        (HELLO + raw_login_frame(b"frog", b"", resume_token=bytes(31)), "invalid-field"),
        (raw_hello_frame(0, 1_048_576), "unsupported-version"),
        (raw_hello_frame(1, 1_048_576), "unsupported-version"),
        (raw_hello_frame(PROTOCOL_VERSION, 65_599), "invalid-field"),
    ],
    ids=["http", "zeros", "oversize-length", "short-hello", "chat-before-login",
         "name-over-128-bytes", "empty-password", "bad-utf8-name",
         "password-and-resume-token", "short-resume-token", "version-0",
         "version-1-before-resume-tokens", "frame-limit-below-minimum"],
)
def test_bad_input_gets_an_error_and_others_go_on(
    server: RunningServer, data: bytes, code: str
) -> None:
    bystander = RawClient.login_as(server, "bystander")
    attacker = RawClient(server.address)
    if data.startswith(HELLO):
        attacker.conn.send(Hello(PROTOCOL_VERSION, 1_048_576, "raw"))  # the parser expects a reply
    attacker.send_raw(data)
    assert error_then_close(attacker).code == code
    assert_server_still_serves(server)
    bystander.send(SendChat("me too"))
    bystander.wait_for(lambda e: isinstance(e, ChatMessage) and e.text == "me too")


def test_frames_split_byte_by_byte_and_merged_are_all_understood(
    server: RunningServer,
) -> None:
    alice = RawClient.login_as(server, "alice")
    splitter = RawClient(server.address)
    conn: ClientConnection = splitter.conn
    data = conn.send(conn.hello("splitter"))
    for byte in data:  # the header and the body each in many reads
        splitter.send_raw(bytes([byte]))
    splitter.wait_for(Hello)
    splitter.send_raw(raw_login_frame("분할".encode(), b"pw"))
    # many frames in one write, the last one cut in two writes
    merged = b"".join(encode_event(SendChat(f"m{i}", client_id=i)) for i in range(50))
    from chatproto import Login

    conn.send(Login("분할", "pw"))  # keep the local state machine in step
    splitter.wait_for(lambda e: type(e).__name__ == "LoginAccepted")
    for i in range(50):
        conn.send(SendChat(f"m{i}", client_id=i))
    splitter.send_raw(merged[:-3])
    splitter.send_raw(merged[-3:])
    got = [alice.wait_for(ChatMessage).text for _ in range(50)]
    assert got == [f"m{i}" for i in range(50)]


def test_upload_longer_than_announced(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    cheat = RawClient.login_as(server, "cheat")
    data = b"0123456789" * 3
    cheat.send(FileOffer(1, "short.txt", 10, hashlib.sha256(data[:10]).digest()))
    cheat.wait_for(FileAccepted)
    cheat.conn = ClientConnection()  # bypass our own checks: send the bad chunk raw
    cheat.send_raw(encode_event(FileChunk(1, 0, data)))
    assert error_then_close(cheat).code == "invalid-field"
    alice.wait_for(presence_of("cheat", "deactivated"))
    server.wait_until(lambda: not any((server.data_dir / "partial").iterdir()))
    assert_server_still_serves(server)


@pytest.mark.parametrize("name", ["../../x", "/etc/passwd", "C:\\x", "con"])
def test_hostile_file_names_do_not_escape(server: RunningServer, name: str) -> None:
    from chatproto import FileAvailable
    from support import upload

    alice = RawClient.login_as(server, "alice")
    announced = upload(alice, b"data", name)
    assert isinstance(announced, FileAvailable)
    assert "/" not in announced.name and "\\" not in announced.name
    assert announced.name.lower() != "con"
    assert not Path("/x").exists() or Path("/x").read_bytes() != b"data"
    assert_server_still_serves(server)


def test_truncated_frame_then_close(server: RunningServer) -> None:
    client = RawClient.login_as(server, "cut")
    watcher = RawClient.login_as(server, "watcher")
    client.send_raw(encode_event(SendChat("never finished"))[:-4])
    client.sock.shutdown(socket.SHUT_WR)
    watcher.wait_for(presence_of("cut", "deactivated"))
    assert_server_still_serves(server)


def test_silent_connections_do_not_block_logins(tmp_path: Path) -> None:
    with running_server(tmp_path / "d", login_timeout=60) as server:
        silent = [socket.create_connection(server.address) for _ in range(5)]
        assert_server_still_serves(server)  # long before any silent one timed out
        for sock in silent:  # ...and they are all still waiting, untouched
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(1)
            sock.close()


def test_silent_connection_is_timed_out(tmp_path: Path) -> None:
    with running_server(tmp_path / "d", login_timeout=0.3) as server:
        silent = RawClient(server.address)
        assert error_then_close(silent).code == "timeout"
        greeted = RawClient(server.address)
        greeted.hello()  # a Hello alone is not a login
        assert error_then_close(greeted).code == "timeout"


def test_connection_limit_per_address(tmp_path: Path) -> None:
    with running_server(tmp_path / "d", max_connections_per_address=3) as server:
        kept = [RawClient.login_as(server, f"user{i}") for i in range(3)]
        extra = RawClient(server.address)
        assert error_then_close(extra).code == "too-many-connections"
        kept[0].goodbye()
        server.wait_until(lambda: len(server.server.ctx.registry) == 2)  # type: ignore[union-attr]
        assert_server_still_serves(server)


def test_connection_limit_in_total(tmp_path: Path) -> None:
    with running_server(tmp_path / "d", max_connections=2) as server:
        kept = [RawClient.login_as(server, f"user{i}") for i in range(2)]
        extra = RawClient(server.address)
        assert error_then_close(extra).code == "too-many-connections"
        del kept


def test_client_error_frame_deactivates(server: RunningServer) -> None:
    watcher = RawClient.login_as(server, "watcher")
    broken = RawClient.login_as(server, "broken")
    broken.send(Error("malformed", "I could not parse you"))
    with pytest.raises(Closed):
        broken.wait_for(ChatMessage)
    watcher.wait_for(presence_of("broken", "deactivated"))


def test_closed_peers_are_released_and_their_ids_freed(server: RunningServer) -> None:
    """The original spun at 100% CPU on a closed peer and kept its ID taken."""
    watcher = RawClient.login_as(server, "watcher")
    for round_ in range(5):
        RawClient.login_as(server, f"polite{round_}").goodbye()
        RawClient.login_as(server, f"killed{round_}").close()
        RawClient.login_as(server, f"reset{round_}").reset()
        RawClient(server.address).close()  # never said anything
    server.wait_until(lambda: len(server.server.ctx.registry) == 1)  # type: ignore[union-attr]
    states = server.participants()
    assert all(f"polite{i}" not in states for i in range(5))
    assert all(states[f"killed{i}"] == states[f"reset{i}"] == "deactivated" for i in range(5))
    # Every ID can be used again at once (left ones join, deactivated ones rejoin).
    for name in ("polite0", "killed0", "reset0"):
        RawClient.login_as(server, name).goodbye()
    watcher.send(SendChat("all fine"))
    watcher.wait_for(lambda e: isinstance(e, ChatMessage) and e.text == "all fine")


def test_upload_shorter_than_announced(server: RunningServer) -> None:
    from chatproto import FileEnd

    watcher = RawClient.login_as(server, "watcher")
    cheat = RawClient.login_as(server, "cheat")
    cheat.send(FileOffer(1, "long.txt", 1000, hashlib.sha256(b"x" * 1000).digest()))
    cheat.wait_for(FileAccepted)
    cheat.send(FileChunk(1, 0, b"x" * 10))
    cheat.conn = ClientConnection()  # bypass our own checks: end the upload early
    cheat.send_raw(encode_event(FileEnd(1)))
    assert error_then_close(cheat).code == "unexpected-message"
    watcher.wait_for(presence_of("cheat", "deactivated"))
    server.wait_until(lambda: not any((server.data_dir / "partial").iterdir()))
    assert not any((server.data_dir / "files").iterdir())
    assert_server_still_serves(server)


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
def test_a_frame_too_large_sent_whole_gets_its_error_and_no_reset(
    tmp_path: Path, tls: bool
) -> None:
    # The server refuses at the header, then reads and drops the 8 MiB body
    # until the client closes: the sender gets no broken pipe, and the Error
    # (then the end of the stream) arrives in front of any reset.
    from security.tls_clients import tls_raw_client

    with running_server(tmp_path / "data", tls=tls) as server:
        attacker = tls_raw_client(server.address) if tls else RawClient(server.address)
        attacker.hello()
        attacker.send_raw(struct.pack("!BI", 0x23, 8 << 20) + bytes(8 << 20))
        assert error_then_close(attacker).code == "frame-too-large"
        assert attacker.eof  # the end of the stream, not a timeout
        attacker.close()
        healthy = tls_raw_client(server.address, "healthy") if tls else RawClient.login_as(
            server, "healthy")
        healthy.send(SendChat("still alive", client_id=1))
        assert healthy.wait_for(ChatMessage).text == "still alive"
        healthy.close()
