"""The room commands and search: their help, and the mistakes refused before
connecting (the port has nothing listening: a connection attempt would be
exit 3, so every code here proves nothing was tried)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from frontends.cli import ExitCode

from .clitools import TIMEOUT, cli_command, cli_env
from .test_local_checks import run

COMMANDS = ("send", "send-file", "rooms", "create", "join", "leave", "invite", "search",
            "listen", "users")


def one_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return lines[-1]


def test_help_lists_every_command_and_the_room_exit_codes(home: Path) -> None:
    shown = subprocess.run([*cli_command(), "--help"], capture_output=True, text=True,
                           env=cli_env(home), timeout=TIMEOUT)
    assert shown.returncode == 0
    commands = shown.stdout.split("Commands:")[1]
    for name in COMMANDS:
        assert f"\n  {name} " in commands, name
    listed = {int(m) for m in re.findall(r"^\s+(\d+)\s+\S", shown.stdout, re.MULTILINE)}
    assert {int(code) for code in ExitCode} <= listed
    for name, option in (("send", "--room ROOM"), ("send-file", "--room ROOM"),
                         ("rooms", "--json"), ("create", "--private"), ("search", "--from USER"),
                         ("search", "--limit"), ("search", "--json")):
        sub = subprocess.run([*cli_command(), name, "--help"], capture_output=True, text=True,
                             env=cli_env(home), timeout=TIMEOUT)
        assert sub.returncode == 0 and option in sub.stdout, (name, option)


def test_room_and_to_are_one_or_the_other(home: Path) -> None:
    line = one_line(run(home, "send", "--room", "dev", "--to", "toad", "hi"), ExitCode.USAGE)
    assert "--room and --to cannot be combined" in line
    (home / "a.txt").write_text("x")
    result = run(home, "send-file", "--room", "dev", "--to", "toad", "a.txt")
    assert "cannot be combined" in one_line(result, ExitCode.USAGE)


def test_names_no_room_can_have_are_refused_before_connecting(home: Path) -> None:
    line = one_line(run(home, "send", "--room", "bad name", "hi"), ExitCode.MESSAGE_REFUSED)
    assert line.startswith("chat-cli: invalid room name 'bad name'"), line
    (home / "a.txt").write_text("x")
    one_line(run(home, "send-file", "--room", "#dev", "a.txt"), ExitCode.FILE_REFUSED)
    for args in (("create", "a b"), ("join", "x" * 40), ("leave", "a/b"),
                 ("invite", "a b", "toad"), ("invite", "dev", "no body"),
                 ("search", "hi", "--room", "a b"), ("search", "hi", "--from", "a b")):
        line = one_line(run(home, *args), ExitCode.REQUEST_REFUSED)
        assert "invalid room name" in line or "cannot send to" in line, (args, line)


def test_a_blank_query_or_a_bad_limit_is_a_usage_error(home: Path) -> None:
    assert "the query is blank" in one_line(run(home, "search", "  "), ExitCode.USAGE)
    one_line(run(home, "search", "hi", "--limit", "0"), ExitCode.USAGE)
