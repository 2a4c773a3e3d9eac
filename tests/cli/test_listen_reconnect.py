"""Issue 14, item 3: ``chat-cli listen`` survives a server restart.

A real ``chat-server`` process is killed (or stopped) and started again on
the same port and data folder while a real ``chat-cli listen`` runs. The
listener says so once per loss and once per recovery, logs in again by its
resume token, and the replay brings what it missed: nothing twice, nothing
lost, in seq order, each line stamped with the server's time. Refusals that
another attempt would only repeat end it with their exit code."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chatproto import ChatMessage, SendChat
from chatproto.limits import SKIP_REPLAY
from chatserver.tls import CERT_FILE, KEY_FILE
from frontends.cli import ExitCode
from support import RawClient, ServerProcess, server_process, wait_until

from .clitools import Listener, run_cli

#: A listener that lost its server waits at most 15 s between attempts.
RECOVERY = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def restartable(data: Path, port: int, tls: bool = False) -> contextlib.AbstractContextManager[
    ServerProcess
]:
    return server_process(data, "--port", str(port), "--flood-rate", "0", tls=tls)


def say(server: ServerProcess, text: str) -> ChatMessage:
    """``frog`` says ``text``; the server's delivery of it (its seq and stamp)."""
    with RawClient.login_as(server, "frog", "pw", last_seen_seq=SKIP_REPLAY) as frog:
        frog.send(SendChat(text, client_id=1))
        delivered = frog.wait_for(lambda e: isinstance(e, ChatMessage) and e.client_id == 1)
        frog.goodbye()
    assert isinstance(delivered, ChatMessage) and delivered.text == text
    return delivered


def stamp(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(record["ts"])


def wait_stderr(listener: Listener, pattern: str, count: int = 1) -> list[str]:
    wait_until(lambda: sum(bool(re.search(pattern, line)) for line in listener.stderr_lines)
               >= count, RECOVERY, f"{pattern!r} on stderr: {listener.stderr_lines}")
    return [line for line in listener.stderr_lines if re.search(pattern, line)]


def test_a_killed_server_comes_back_and_the_listener_gets_everything_once(
    tmp_path: Path, home: Path
) -> None:
    port, data, downloads = free_port(), tmp_path / "data", tmp_path / "downloads"
    payload = os.urandom(300_000)
    source = tmp_path / "during.bin"
    source.write_bytes(payload)
    records: list[dict[str, Any]] = []

    def until(matches: Any) -> dict[str, Any]:
        while True:
            records.append(listener.next_json(RECOVERY))
            if matches(records[-1]):
                return records[-1]

    with contextlib.ExitStack() as stack:
        first = stack.enter_context(restartable(data, port))
        listener = stack.enter_context(
            Listener(first, "lis", "--json", "--download-dir", str(downloads), home=home)
        )
        until(lambda r: r.get("state") == "joined")
        before = say(first, "before")
        until(lambda r: r.get("text") == "before")
        # Frozen, the listener cannot act on what follows before its server dies:
        # a file announced (its download will be cut short) and a chat after it.
        listener.proc.send_signal(signal.SIGSTOP)
        try:
            sent = run_cli(first, "frog", "send-file", str(source), home=home)
            assert sent.returncode == 0, sent.stderr
            queued = say(first, "queued")
            first.proc.kill()
            first.wait()
            second = stack.enter_context(restartable(data, port))
            away = [say(second, f"away {number}") for number in (1, 2)]
        finally:
            listener.proc.send_signal(signal.SIGCONT)
        lost = until(lambda r: r["type"] == "connection")
        restored = until(lambda r: r["type"] == "connection")
        assert (lost["state"], restored["state"]) == ("lost", "restored")
        assert lost["code"] == "connection-lost" and lost["seq"] is None
        after = say(second, "after")
        until(lambda r: r.get("text") == "after")
        assert listener.terminate(signal.SIGINT) == 0
        second.wait_for_line(r"lis left")  # Ctrl-C after a reconnect: still a goodbye

    lines = [r for r in records if r["type"] in ("chat", "file")]
    assert [r.get("text", r.get("name")) for r in lines] == [
        "before", "during.bin", "queued", "away 1", "away 2", "after"
    ]
    seqs = [r["seq"] for r in lines]
    assert seqs == sorted(set(seqs)), "in seq order, none twice"
    assert [before.seq, queued.seq, away[0].seq, away[1].seq, after.seq] == [
        seqs[0], seqs[2], seqs[3], seqs[4], seqs[5]
    ]
    # What was never printed before the loss comes after the recovery.
    assert records.index(restored) < records.index(lines[1])
    assert [r["state"] for r in records if r["type"] == "connection"] == ["lost", "restored"]
    # The server's stamps, replayed or live, not the time the line was printed.
    for record, delivered in zip(lines[2:], [queued, *away, after], strict=True):
        assert stamp(record) == datetime.fromtimestamp(delivered.timestamp_ms / 1000, UTC)
    assert stamp(lines[1]) < stamp(restored)  # announced before the first server died
    saved = Path(lines[1]["path"])
    assert hashlib.sha256(saved.read_bytes()).digest() == hashlib.sha256(payload).digest()
    assert [p.name for p in downloads.iterdir()] == ["during.bin"]
    assert not any("Traceback" in line for line in listener.stderr_after_exit())


def test_text_mode_says_lost_and_restored_once_each_on_stderr(
    tmp_path: Path, home: Path
) -> None:
    port, data = free_port(), tmp_path / "data"
    with contextlib.ExitStack() as stack:
        first = stack.enter_context(restartable(data, port))
        listener = stack.enter_context(Listener(first, "lis", home=home))
        assert listener.next_line().endswith("* lis joined (1 participant)")
        first.signal(signal.SIGTERM)  # a clean restart: the server says goodbye
        assert first.wait() == 0
        wait_stderr(listener, "connection lost")
        second = stack.enter_context(restartable(data, port))
        wait_stderr(listener, "connection restored")
        listener.wait_line(lambda line: "* lis " in line, RECOVERY)
        say(second, "after the restart")
        assert listener.wait_line(lambda line: "<frog>" in line).endswith("after the restart")
        assert listener.terminate() == 0
        second.wait_for_line(r"lis left")
    errors = listener.stderr_after_exit()
    assert len(errors) == 2, errors
    assert errors[0] == ("chat-cli: connection lost (the server said goodbye: the server is "
                         "shutting down); reconnecting")
    assert re.fullmatch(r"chat-cli: connection restored \(after \d+ attempts?\)", errors[1])


def test_a_wrong_password_after_the_restart_ends_the_listener_with_exit_4(
    tmp_path: Path, home: Path
) -> None:
    """The restarted server knows ``lis`` by another password (another data
    folder): the lost session's token is refused, then the password; no loop."""
    port, other = free_port(), tmp_path / "other"
    with server_process(other) as preparing:
        RawClient.login_as(preparing, "lis", "another password").goodbye()
    with contextlib.ExitStack() as stack:
        first = stack.enter_context(restartable(tmp_path / "data", port))
        listener = stack.enter_context(Listener(first, "lis", "--json", home=home))
        listener.next_json()
        first.proc.kill()
        first.wait()
        assert listener.next_json(RECOVERY)["state"] == "lost"
        stack.enter_context(restartable(other, port))
        assert listener.proc.wait(RECOVERY) == ExitCode.BAD_PASSWORD
        assert listener.remaining_lines() == []
    errors = listener.stderr_after_exit()
    assert len(errors) == 1 and "bad-password" in errors[0], errors


def test_a_changed_certificate_after_the_restart_ends_the_listener_with_exit_11(
    tmp_path: Path, home: Path
) -> None:
    port, data = free_port(), tmp_path / "data"
    with contextlib.ExitStack() as stack:
        first = stack.enter_context(restartable(data, port, tls=True))
        listener = stack.enter_context(Listener(first, "lis", "--json", home=home, tls=()))
        listener.next_json()
        first.signal(signal.SIGTERM)
        first.wait()
        assert listener.next_json(RECOVERY)["state"] == "lost"
        (data / CERT_FILE).unlink()  # a reinstalled server: a new certificate
        (data / KEY_FILE).unlink()
        stack.enter_context(restartable(data, port, tls=True))
        assert listener.proc.wait(RECOVERY) == ExitCode.CERTIFICATE_REFUSED
    errors = listener.stderr_after_exit()
    assert len(errors) == 2, errors
    assert "pinned the certificate" in errors[0] and "has changed" in errors[1]


def test_ctrl_c_while_the_server_is_away_leaves_at_once(tmp_path: Path, home: Path) -> None:
    with (restartable(tmp_path / "data", free_port()) as server,
          Listener(server, "lis", home=home) as listener):
        listener.next_line()
        server.proc.kill()
        server.wait()
        wait_stderr(listener, "connection lost")
        assert listener.terminate(signal.SIGINT) == 0
        assert len(listener.stderr_after_exit()) == 1
