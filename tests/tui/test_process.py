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


def _sees(frog: Listener, tui: Terminal, text: str) -> None:
    """Wait until the other user's listener prints ``text``; a failure shows
    what the terminal showed meanwhile."""
    try:
        frog.wait_line(lambda line: text in line)
    except (TimeoutError, EOFError) as exc:
        raise AssertionError(f"{exc}\nchat-tui showed:\n{tui.text()[-3000:]}") from None


def test_log_in_receive_send_and_quit(server_proc: ServerProcess, home: Path) -> None:
    with Listener(server_proc, "frog", home=home) as frog:
        frog.wait_line(lambda line: "* frog joined" in line)  # before toad: it sees toad join
        with _start(server_proc, home, "toad") as tui:
            _converse(frog, tui, server_proc, home)


def _converse(frog: Listener, tui: Terminal, server_proc: ServerProcess, home: Path) -> None:
    """Receive, send, /quit; the other user sees each step."""
    _sees(frog, tui, "* toad joined (2 participants)")
    tui.wait_for("2 participants")
    sent = run_cli(server_proc, "frog", "send", "ping-from-frog", home=home)
    assert sent.returncode == 0, sent.stderr
    tui.wait_for("ping-from-frog")
    tui.type("pong-from-the-terminal\r")
    _sees(frog, tui, "<toad> pong-from-the-terminal")
    tui.type("/quit\r")
    _sees(frog, tui, "* toad left (1 participant)")
    assert tui.wait_exit() == 0


@pytest.mark.parametrize(("how", "seen"), [
    ("ctrl-c", "left"), ("sigterm", "left"), ("sigkill", "deactivated"),
])
def test_each_way_out(server_proc: ServerProcess, home: Path, how: str, seen: str) -> None:
    with Listener(server_proc, "frog", home=home) as frog:
        frog.wait_line(lambda line: "* frog joined" in line)
        with _start(server_proc, home, "toad") as tui:
            _leave(frog, tui, how, seen)


def _leave(frog: Listener, tui: Terminal, how: str, seen: str) -> None:
    """Leave ``how``; the other user sees ``seen``."""
    _sees(frog, tui, "* toad joined")
    tui.wait_for("2 participants")
    if how == "ctrl-c":
        tui.type("\x03")
    else:
        tui.child.kill(signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
    _sees(frog, tui, f"* toad {seen}")
    status = tui.wait_exit()
    assert status == (None if how == "sigkill" else 0)
