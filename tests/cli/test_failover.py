"""Issue 18, client failover through ``chat-cli --host a:9000,b:9000``.

Real ``chat-server`` and ``chat-cli`` processes. The second address serves
the first's data folder once the first is SIGKILLed: one history, one token
table, as a cluster's other node is to the client."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any

import attrs

from frontends.cli import ExitCode
from support import ServerProcess, server_process

from .clitools import Listener, cli_command, cli_env, run_cli

RECOVERY = 60.0


@attrs.frozen
class ServerList:
    """What ``run_cli`` and ``Listener`` read off a server: ``host`` is the
    whole ``--host`` list here."""

    host: str
    port: int = 9000


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(data: Path, port: int) -> contextlib.AbstractContextManager[ServerProcess]:
    return server_process(data, "--port", str(port), "--flood-rate", "0")


def test_send_goes_to_the_second_server_when_the_first_is_down(
    tmp_path: Path, home: Path
) -> None:
    with start(tmp_path / "b", 0) as b:
        servers = ServerList(f"127.0.0.1:{closed_port()},127.0.0.1:{b.port}")
        sent = run_cli(servers, "frog", "send", "hello", home=home)
        assert sent.returncode == 0, sent.stderr
        b.wait_for_line(r"frog")  # it reached b


def test_every_server_down_is_one_line_and_the_unreachable_code(
    tmp_path: Path, home: Path
) -> None:
    first, second = closed_port(), closed_port()
    servers = ServerList(f"127.0.0.1:{first},[::1]:{second}")
    sent = run_cli(servers, "frog", "send", "hello", home=home)
    assert sent.returncode == ExitCode.UNREACHABLE, sent.stderr
    lines = sent.stderr.strip().splitlines()
    assert len(lines) == 1 and str(first) in lines[0] and str(second) in lines[0]


def test_a_bad_list_is_a_usage_error_in_one_line(home: Path) -> None:
    for bad in ("a,,b", "a:99999", "[::1"):
        result = run_cli(ServerList(bad), "frog", "send", "x", home=home)
        assert result.returncode == ExitCode.USAGE, (bad, result.stderr)
        assert "Traceback" not in result.stderr and "--host" in result.stderr


def test_chat_host_takes_the_list_too(tmp_path: Path, home: Path) -> None:
    with start(tmp_path / "b", 0) as b:
        env = cli_env(home, CHAT_HOST=f"127.0.0.1:{closed_port()},127.0.0.1:{b.port}")
        sent = subprocess.run(
            [*cli_command(), "--no-tls", "--user", "frog", "--password", "pw", "send", "hi"],
            capture_output=True, text=True, env=env, cwd=home, stdin=subprocess.DEVNULL,
            timeout=60,
        )
        assert sent.returncode == 0, sent.stderr
        b.wait_for_line(r"frog")


def test_the_listener_fails_over_to_the_next_server_and_misses_nothing(
    tmp_path: Path, home: Path
) -> None:
    data, a_port, b_port = tmp_path / "data", closed_port(), closed_port()
    servers = ServerList(f"127.0.0.1:{a_port},127.0.0.1:{b_port}")
    records: list[dict[str, Any]] = []

    def until(matches: Any) -> dict[str, Any]:
        while True:
            records.append(listener.next_json(RECOVERY))
            if matches(records[-1]):
                return records[-1]

    with contextlib.ExitStack() as stack:
        a = stack.enter_context(start(data, a_port))
        listener = stack.enter_context(Listener(servers, "lis", "--json", home=home))
        until(lambda r: r.get("state") == "joined")
        assert run_cli(servers, "frog", "send", "before", home=home).returncode == 0
        until(lambda r: r.get("text") == "before")
        a.signal(signal.SIGKILL)
        a.wait()
        lost = until(lambda r: r["type"] == "connection")
        assert lost["state"] == "lost"
        b = stack.enter_context(start(data, b_port))
        assert run_cli(servers, "frog", "send", "missed", home=home).returncode == 0
        restored = until(lambda r: r["type"] == "connection")
        assert restored["state"] == "restored"
        assert restored["server"] == f"127.0.0.1:{b_port}"
        assert run_cli(servers, "frog", "send", "after", home=home).returncode == 0
        until(lambda r: r.get("text") == "after")
        assert listener.terminate(signal.SIGINT) == 0
        b.wait_for_line(r"lis left")

    chats = [r for r in records if r["type"] == "chat"]
    assert [r["text"] for r in chats] == ["before", "missed", "after"]
    seqs = [r["seq"] for r in chats]
    assert seqs == sorted(set(seqs))
    assert not any("Traceback" in line for line in listener.stderr_after_exit())


def test_a_server_with_another_history_is_a_reset_and_its_lines_are_printed(
    tmp_path: Path, home: Path
) -> None:
    """Two independent servers: the second's seqs restart low, and the
    listener must print them anyway, after saying the history was reset."""
    records: list[dict[str, Any]] = []

    def until(matches: Any) -> dict[str, Any]:
        while True:
            records.append(listener.next_json(RECOVERY))
            if matches(records[-1]):
                return records[-1]

    with contextlib.ExitStack() as stack:
        a = stack.enter_context(start(tmp_path / "a", 0))
        b = stack.enter_context(start(tmp_path / "b", 0))
        servers = ServerList(f"127.0.0.1:{a.port},127.0.0.1:{b.port}")
        listener = stack.enter_context(Listener(servers, "lis", "--json", home=home))
        until(lambda r: r.get("state") == "joined")
        for n in range(3):
            assert run_cli(a, "frog", "send", f"on a {n}", home=home).returncode == 0
        last_on_a = until(lambda r: r.get("text") == "on a 2")["seq"]
        a.signal(signal.SIGKILL)
        a.wait()
        restored = until(lambda r: r.get("state") == "restored")
        assert restored["server"] == f"127.0.0.1:{b.port}"
        assert run_cli(b, "frog", "send", "on b", home=home).returncode == 0
        on_b = until(lambda r: r.get("text") == "on b")
        assert on_b["seq"] < last_on_a
        assert listener.terminate(signal.SIGINT) == 0
    assert any("history is not the one seen before" in line
               for line in listener.stderr_after_exit())
