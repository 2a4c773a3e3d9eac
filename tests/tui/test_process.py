"""The real ``chat-tui`` in a real pseudo-terminal: log in, receive, send,
leave, and what the other user sees of each way out."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from cli.clitools import Listener, base_args, cli_env, run_cli
from support import ServerProcess

from .terminal import Terminal


def _start(server: ServerProcess, home: Path, user: str) -> Terminal:
    env = cli_env(home, TERM="xterm-256color", LANG="C.UTF-8", COLUMNS="80", LINES="24")
    env.pop("LANGUAGE", None)
    env.pop("LC_ALL", None)
    args = [*base_args(server, user), "--download-dir", str(home / "downloads"),
            "--state-file", str(home / "state.json")]
    return Terminal(args, env, home)


def test_log_in_receive_send_and_quit(server_proc: ServerProcess, home: Path) -> None:
    with Listener(server_proc, "frog", home=home) as frog, _start(server_proc, home, "toad") as tui:
        frog.wait_line(lambda line: "* frog joined" in line)
        frog.wait_line(lambda line: "* toad joined (2 participants)" in line)
        tui.wait_for("2 participants")
        sent = run_cli(server_proc, "frog", "send", "ping-from-frog", home=home)
        assert sent.returncode == 0, sent.stderr
        tui.wait_for("ping-from-frog")
        tui.type("pong-from-the-terminal\r")
        frog.wait_line(lambda line: "<toad> pong-from-the-terminal" in line)
        tui.type("/quit\r")
        frog.wait_line(lambda line: "* toad left (1 participant)" in line)
        assert tui.wait_exit() == 0


@pytest.mark.parametrize(("how", "seen"), [
    ("ctrl-c", "left"), ("sigterm", "left"), ("sigkill", "deactivated"),
])
def test_each_way_out(server_proc: ServerProcess, home: Path, how: str, seen: str) -> None:
    with Listener(server_proc, "frog", home=home) as frog, _start(server_proc, home, "toad") as tui:
        frog.wait_line(lambda line: "* toad joined" in line)
        tui.wait_for("2 participants")
        if how == "ctrl-c":
            tui.type("\x03")
        else:
            tui.child.kill(signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
        frog.wait_line(lambda line: f"* toad {seen}" in line)
        status = tui.wait_exit()
        assert status == (None if how == "sigkill" else 0)
