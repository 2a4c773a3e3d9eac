"""send / listen round trips through a real server, human and JSON output."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from .clitools import Listener, run_cli

MULTILINE = "첫 줄 🐸\n[12:00:00] <관리자> 가짜 줄\n끝"


def test_json_round_trip_with_unicode_and_multiline(server_proc, home: Path) -> None:
    with Listener(server_proc, "개구리", "--json", home=home) as listener:
        joined = listener.next_json()
        assert joined["type"] == "presence"
        assert joined["user"] == "개구리"
        assert joined["state"] == "joined"
        assert joined["seq"] is None
        assert joined["participants"] == 1
        datetime.fromisoformat(joined["ts"])

        sent = run_cli(server_proc, "frog", "send", MULTILINE, home=home)
        assert sent.returncode == 0, sent.stderr
        assert sent.stderr == ""

        # A send is a transient login: no joined or left around it, so the very next
        # record is the message (a presence of frog would come before it or, for its
        # leaving, before the next message).
        chat = listener.next_json()
        assert chat["type"] == "chat"
        assert chat["from"] == "frog"
        assert chat["to"] is None
        assert chat["text"] == MULTILINE
        assert isinstance(chat["seq"], int) and chat["seq"] >= 1
        datetime.fromisoformat(chat["ts"])

        piped = run_cli(server_proc, "frog", "send", "-", home=home, stdin_text=MULTILINE + "\n")
        assert piped.returncode == 0, piped.stderr
        from_stdin = listener.next_json()
        assert (from_stdin["type"], from_stdin["text"]) == ("chat", MULTILINE)

        direct = run_cli(server_proc, "frog", "send", "--to", "개구리", "비밀 😀", home=home)
        assert direct.returncode == 0, direct.stderr
        dm = listener.next_json()
        assert dm["type"] == "chat"
        assert (dm["from"], dm["to"], dm["text"]) == ("frog", "개구리", "비밀 😀")
        assert dm["seq"] > chat["seq"]

        assert listener.terminate() == 0


def test_human_output_cannot_forge_lines_or_paint_the_terminal(server, home: Path) -> None:
    with Listener(server, "개구리", home=home) as listener:
        own = listener.next_line()
        assert re.fullmatch(r"\[\d\d:\d\d:\d\d\] \* 개구리 joined \(1 participant\)", own)
        hostile = "빨강 \x1b[31mred\x1b[0m \u202eevil\u202c\r"
        assert run_cli(server, "frog", "send", MULTILINE, home=home).returncode == 0
        assert run_cli(server, "frog", "send", hostile, home=home).returncode == 0
        assert run_cli(server, "frog", "send", "--to", "개구리", "psst", home=home).returncode == 0

        first = listener.wait_line(lambda line: "<frog>" in line)
        assert re.fullmatch(r"\[\d\d:\d\d:\d\d\] <frog> 첫 줄 🐸", first)
        # Continuation lines are indented: the forged line does not start a line.
        assert listener.next_line() == " " * 11 + "[12:00:00] <관리자> 가짜 줄"
        assert listener.next_line() == " " * 11 + "끝"

        painted = listener.wait_line(lambda line: "<frog>" in line)
        assert painted.endswith(r"<frog> 빨강 \e[31mred\e[0m \u202eevil\u202c\r")
        assert "\x1b" not in painted and "\u202e" not in painted

        dm = listener.wait_line(lambda line: "psst" in line)
        assert re.fullmatch(r"\[\d\d:\d\d:\d\d\] \(direct\) <frog -> 개구리> psst", dm)
        assert listener.terminate() == 0


def test_presence_lines_and_users_command(server, home: Path) -> None:
    with Listener(server, "watcher", home=home) as listener:
        listener.next_line()
        with Listener(server, "frog", home=home) as frog:
            frog.next_line()
            line = listener.next_line()
            assert line.endswith("* frog joined (2 participants)")
            frog.kill()  # killed: deactivated, still counted
            line = listener.next_line()
            assert line.endswith("* frog deactivated (2 participants)")

        # ``users`` is a transient login: the caller is not counted...
        listed = run_cli(server, "개구리", "users", home=home)
        assert listed.returncode == 0, listed.stderr
        rows = dict(line.split() for line in listed.stdout.splitlines()[:-1])
        assert rows == {"watcher": "active", "frog": "deactivated"}
        assert listed.stdout.splitlines()[-1] == "2 participants"
        # ...unless it is logged in elsewhere too.
        listed = run_cli(server, "watcher", "users", home=home)
        assert listed.returncode == 0, listed.stderr
        rows = dict(line.split() for line in listed.stdout.splitlines()[:-1])
        assert rows == {"watcher": "active", "frog": "deactivated"}

        with Listener(server, "frog", home=home) as frog:
            frog.next_line()
            # Nothing of 개구리 or of watcher's listing came in between.
            line = listener.next_line()
            assert line.endswith("* frog rejoined (2 participants)")
            assert frog.terminate() == 0
            line = listener.next_line()
            assert line.endswith("* frog left (1 participant)")
        assert listener.terminate() == 0
