"""Every failure of chat-cli: its own exit code and one line on stderr."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from frontends.cli import ExitCode
from support import running_server

from .clitools import Listener, cli_command, cli_env, run_cli


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: ExitCode,
                          *words: str) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Nowhere:
    host = "127.0.0.1"
    port = free_port()


def test_server_unreachable(home: Path) -> None:
    result = run_cli(Nowhere(), "frog", "send", "hi", home=home)
    assert_one_line_error(result, ExitCode.UNREACHABLE, "cannot reach", "refused")


def test_bad_password_and_already_active(server, home: Path) -> None:
    assert run_cli(server, "frog", "send", "first", home=home).returncode == 0
    result = run_cli(server, "frog", "send", "hi", home=home, password="wrong")
    assert_one_line_error(result, ExitCode.BAD_PASSWORD, "bad-password")
    with Listener(server, "frog", home=home) as listener:
        listener.next_line()
        # A send is a transient login: it works while the same user listens...
        assert run_cli(server, "frog", "send", "hi", home=home).returncode == 0
        # ...but a second listener is a second presence of that user.
        with Listener(server, "frog", home=home) as second:
            assert second.proc.wait(20) == ExitCode.ALREADY_ACTIVE
            assert any("already-active" in line for line in second.stderr_after_exit())


def test_rate_limited(tmp_path: Path, home: Path) -> None:
    with running_server(tmp_path / "data", max_failed_logins_per_user=2) as server:
        assert run_cli(server, "frog", "send", "first", home=home).returncode == 0
        codes = [
            run_cli(server, "frog", "send", "x", home=home, password="wrong").returncode
            for _ in range(3)
        ]
        assert codes[:2] == [ExitCode.BAD_PASSWORD] * 2
        result = run_cli(server, "frog", "send", "x", home=home, password="wrong")
        assert_one_line_error(result, ExitCode.RATE_LIMITED, "rate-limited")


def test_other_login_refusals(tmp_path: Path, home: Path) -> None:
    with running_server(tmp_path / "data", max_connections=1) as server:
        result = run_cli(server, "bad name!", "send", "x", home=home)
        assert_one_line_error(result, ExitCode.LOGIN_REFUSED, "invalid user name")
        with Listener(server, "frog", home=home) as listener:
            listener.next_line()
            result = run_cli(server, "toad", "send", "x", home=home)
            assert_one_line_error(result, ExitCode.LOGIN_REFUSED, "too-many-connections")


def test_files_refused(tmp_path: Path, home: Path) -> None:
    big = home / "big.bin"
    big.write_bytes(os.urandom(5000))
    with running_server(tmp_path / "data", max_file_size=1000) as server:
        result = run_cli(server, "frog", "send-file", str(big), home=home)
        assert_one_line_error(result, ExitCode.FILE_REFUSED, "too-large")
        result = run_cli(server, "frog", "send-file", str(home / "missing.txt"), home=home)
        assert_one_line_error(result, ExitCode.FILE_REFUSED, "missing.txt", "does not exist")
        result = run_cli(server, "frog", "send-file", str(home), home=home)
        assert_one_line_error(result, ExitCode.FILE_REFUSED, "is a directory")
        # The server is still fine for the next user.
        assert run_cli(server, "toad", "send", "still here", home=home).returncode == 0


def test_message_refused_for_unknown_recipient(server, home: Path) -> None:
    result = run_cli(server, "frog", "send", "--to", "nobody", "hi", home=home)
    assert_one_line_error(result, ExitCode.MESSAGE_REFUSED, "unknown-user")


def test_connection_lost_when_the_server_dies(server_proc, home: Path) -> None:
    """``listen --once`` keeps the behaviour of before reconnecting (issue 14)."""
    with Listener(server_proc, "frog", "--once", home=home) as listener:
        listener.next_line()
        server_proc.proc.kill()
        assert listener.proc.wait(20) == ExitCode.CONNECTION_LOST
        errors = listener.stderr_after_exit()
        assert len(errors) == 1, errors
        assert "connection" in errors[0]


def test_once_exits_9_when_the_server_says_goodbye(server_proc, home: Path) -> None:
    with Listener(server_proc, "frog", "--once", "--json", home=home) as listener:
        listener.next_json()
        server_proc.signal(signal.SIGTERM)
        assert listener.proc.wait(20) == ExitCode.CONNECTION_LOST
        assert listener.remaining_lines() == []  # no JSON notice: the old behaviour
        assert listener.stderr_after_exit() == [
            "chat-cli: the server said goodbye: the server is shutting down"
        ]


@pytest.mark.parametrize(
    "args",
    [
        ["send", "hi"],  # no user
        ["--user", "frog", "send", "hi"],  # no password and stdin is not a terminal
        ["--user", "frog", "--password", "pw", "send"],  # no text
        ["--port", "notaport", "--user", "frog", "--password", "pw", "send", "hi"],
    ],
)
def test_usage_errors(args: list[str], home: Path) -> None:
    result = subprocess.run(
        [*cli_command(), *args], capture_output=True, text=True, env=cli_env(home),
        stdin=subprocess.DEVNULL, timeout=20,
    )
    assert result.returncode == ExitCode.USAGE
    assert "Traceback" not in result.stderr
    assert "Error" in result.stderr


def test_environment_variables_are_read(server, home: Path) -> None:
    env = cli_env(home, CHAT_HOST=server.host, CHAT_PORT=str(server.port), CHAT_USER="frog",
                  CHAT_PASSWORD="pw", CHAT_NO_TLS="1")
    result = subprocess.run([*cli_command(), "send", "from env"], capture_output=True, text=True,
                            env=env, stdin=subprocess.DEVNULL, timeout=20)
    assert result.returncode == 0, result.stderr
