"""The real ``chat-server`` process: start-up, one-line errors, signals, the
log, and persistence across a SIGKILL and a restart."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from chatproto import ChatMessage, FileAvailable, Goodbye, LoginAccepted, LoginRejected, SendChat
from support import (
    RawClient,
    ServerProcess,
    fetch,
    presence_of,
    server_command,
    server_process,
    upload,
)


def run_briefly(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        server_command(*args), capture_output=True, text=True, timeout=30,
        env=dict(os.environ, **(env or {})),
    )


def test_logs_listening_on_the_real_port(server_proc: ServerProcess) -> None:
    assert server_proc.port > 0
    assert f"listening on 127.0.0.1:{server_proc.port}" in server_proc.lines[0]
    # a timestamp first
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", server_proc.lines[0])
    RawClient.login_as(server_proc, "frog").goodbye()


def test_a_new_data_dir_is_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "new" / "data"
    with server_process(data_dir) as server:
        RawClient.login_as(server, "frog").goodbye()
    assert data_dir.stat().st_mode & 0o777 == 0o700  # password hashes and history live here


def test_environment_variables_configure_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "from-env"
    env = {"CHAT_SERVER_DATA_DIR": str(data_dir), "CHAT_SERVER_LOG_LEVEL": "DEBUG",
           "CHAT_SERVER_LOGIN_TIMEOUT": "7"}
    with server_process(tmp_path / "ignored", env=env) as server:
        # command-line options win over the environment; the data dir came from --data-dir
        RawClient.login_as(server, "frog").goodbye()
    assert (tmp_path / "ignored" / "chat.sqlite3").exists()
    env = {"CHAT_SERVER_HOST": "127.0.0.1", "CHAT_SERVER_PORT": "0",
           "CHAT_SERVER_DATA_DIR": str(data_dir), "CHAT_SERVER_NO_TLS": "1"}
    proc = subprocess.Popen(server_command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=dict(os.environ, PYTHONUNBUFFERED="1", **env))
    server = ServerProcess(proc)
    try:
        server.port = int(server.wait_for_line(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        RawClient.login_as(server, "toad").goodbye()
        assert (data_dir / "chat.sqlite3").exists()
    finally:
        proc.terminate()
        assert server.wait() == 0


def test_port_in_use_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_briefly("--host", "127.0.0.1", "--port", str(port),
                             "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"127.0.0.1:{port}" in result.stderr and "in use" in result.stderr


def test_unwritable_data_dir_is_one_line_and_exit_1(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_briefly("--host", "127.0.0.1", "--port", "0", "--data-dir", str(blocker / "d"))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "data dir" in result.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_says_goodbye_to_clients_and_exits_0(tmp_path: Path, signum: int) -> None:
    with server_process(tmp_path / "d") as server:
        alice = RawClient.login_as(server, "alice")
        alice.send(SendChat("last words"))
        alice.wait_for(ChatMessage)
        server.signal(signum)
        goodbye = alice.wait_for(Goodbye)
        assert "shutting down" in goodbye.message
        assert server.wait() == 0
        assert "Traceback" not in server.output()


def test_log_lines_follow_the_original(server_proc: ServerProcess) -> None:
    alice = RawClient.login_as(server_proc, "alice", "alice-secret-pw")
    bob = RawClient.login_as(server_proc, "bob", "bob-secret-pw")
    bob.close()
    alice.wait_for(presence_of("bob", "deactivated"))
    bob = RawClient.login_as(server_proc, "bob", "bob-secret-pw")
    carol = RawClient.login_as(server_proc, "carol")
    carol.reset()
    alice.wait_for(presence_of("carol", "deactivated"))
    assert isinstance(RawClient(server_proc.address).login("bob", "wrong-guess-pw"), LoginRejected)
    upload(alice, b"top secret file content", "f.txt")
    bob.goodbye()
    alice.wait_for(presence_of("bob", "left"))
    server_proc.wait_for_line(r"bob left \(2 participants\)")
    for pattern in [
        r"alice joined \(1 participant\)",
        r"bob joined \(2 participants\)",
        r"bob deactivated: connection closed without goodbye \(2 participants\)",
        r"bob rejoined \(2 participants\)",
        r"carol deactivated: connection reset \(3 participants\)",
        r"login refused for bob from 127\.0\.0\.1: already-active",
        r"alice uploaded 'f\.txt' \(23 bytes\)",
    ]:
        server_proc.wait_for_line(pattern)
    log = server_proc.output()
    for secret in ("alice-secret-pw", "bob-secret-pw", "wrong-guess-pw", "top secret"):
        assert secret not in log


def test_wrong_password_is_logged(server_proc: ServerProcess) -> None:
    RawClient.login_as(server_proc, "frog", "pw").goodbye()
    assert isinstance(RawClient(server_proc.address).login("frog", "nope"), LoginRejected)
    server_proc.wait_for_line(r"login refused for frog from 127\.0\.0\.1: bad-password")


def test_an_invalid_name_cannot_forge_a_log_line(server_proc: ServerProcess) -> None:
    forged = "x\n2026-01-01 00:00:00 admin joined (1 participants)\x1b[2J"
    reply = RawClient(server_proc.address).login(forged, "pw")
    assert isinstance(reply, LoginRejected) and reply.reason == "invalid-name"
    server_proc.wait_for_line(r"login refused for 'x\\n2026.*\\x1b\[2J' from .*: invalid-name")
    assert "admin joined" not in "".join(
        line for line in server_proc.output().splitlines(keepends=True)
        if not line.rstrip().endswith("invalid-name")
    )
    assert "\x1b" not in server_proc.output()


def test_everything_survives_sigkill_and_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    with server_process(data_dir, "--flood-rate", "0") as server:
        alice = RawClient.login_as(server, "alice", "pw-a")
        RawClient.login_as(server, "bob", "pw-b").goodbye()
        for i in range(200):
            alice.send(SendChat(f"before the crash {i}"))
        delivered = [alice.wait_for(ChatMessage) for _ in range(200)]
        data = os.urandom(150_000)
        announced = upload(alice, data, "kept.bin", recipient="bob")
        assert isinstance(announced, FileAvailable)
        server.signal(signal.SIGKILL)
        server.wait()
    with server_process(data_dir) as server:
        # accounts persist: a returning user must give the same password
        wrong = RawClient(server.address).login("bob", "pw-a")
        assert isinstance(wrong, LoginRejected) and wrong.reason == "bad-password"
        bob = RawClient(server.address)
        reply = bob.login("bob", "pw-b", last_seen_seq=0)
        assert isinstance(reply, LoginAccepted) and not reply.new_account
        assert reply.last_seq == announced.seq
        texts = [bob.wait_for(ChatMessage).text for _ in range(200)]
        assert texts == [m.text for m in delivered]
        replayed = bob.wait_for(FileAvailable)
        assert replayed.file_id == announced.file_id
        assert fetch(bob, replayed.file_id) == data
        # and the sequence goes on from where it was
        bob.send(SendChat("after the restart"))
        assert bob.wait_for(ChatMessage).seq == announced.seq + 1


def test_help_lists_the_options() -> None:
    result = run_briefly("--help")
    assert result.returncode == 0
    for option in ("--host", "--port", "--data-dir", "--log-level", "--max-file-size",
                   "--heartbeat-timeout", "--deactivated-grace"):
        assert option in result.stdout


def test_tls_is_on_by_default_and_speaks_the_protocol(tmp_path: Path) -> None:
    import ssl

    with server_process(tmp_path / "d", tls=True) as server:
        server.wait_for_line(r"TLS on: self-signed certificate created in .*fingerprint SHA256:")
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # pinning is tested in tests/security
        client = RawClient.__new__(RawClient)
        RawClient.__init__(client, server.address)
        client.sock = context.wrap_socket(client.sock, server_hostname="127.0.0.1")
        assert isinstance(client.login("frog", "pw"), LoginAccepted)
        client.send(SendChat("over TLS"))
        assert client.wait_for(ChatMessage).text == "over TLS"
    with server_process(tmp_path / "d", tls=True) as server:  # the same pair again
        server.wait_for_line(r"TLS on: self-signed certificate loaded from")


def test_inconsistent_options_are_a_usage_error(tmp_path: Path) -> None:
    result = run_briefly("--heartbeat-interval", "50", "--heartbeat-timeout", "10",
                         "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "heartbeat_interval must be shorter than heartbeat_timeout" in result.stderr


def test_tls_without_the_cryptography_package_is_one_clear_line(tmp_path: Path) -> None:
    import sys

    code = (
        "import sys; sys.modules['cryptography'] = None; "
        "sys.argv[0] = 'chat-server'; from chatserver.cli import main; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "--host", "127.0.0.1", "--port", "0",
         "--data-dir", str(tmp_path / "d")],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert "cryptography" in result.stderr and "--no-tls" in result.stderr
