"""What a typed line means (``frontends.tui.commands``): pure parsing."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontends.tui.commands import (
    DirectMessage,
    Help,
    Problem,
    Quit,
    RoomCommand,
    Say,
    SendFile,
    SetRecipient,
    parse,
)


@given(st.text().filter(lambda t: t.strip() and not t.startswith("/")))
def test_a_line_without_a_slash_is_sent_exactly_as_typed(text: str) -> None:
    assert parse(text) == Say(text)


@given(st.text().filter(lambda t: not t.strip()))
def test_a_blank_line_does_nothing(text: str) -> None:
    assert parse(text) is None


@given(st.text())
def test_every_line_parses_to_something_or_nothing(text: str) -> None:
    parse("/" + text)  # never raises, whatever follows the slash
    parse(text)


@pytest.mark.parametrize(("line", "command"), [
    ("//quit is a command", Say("/quit is a command")),
    ("/msg frog hello there", DirectMessage("frog", "hello there")),
    ("/m 두꺼비 안녕\n둘째 줄", DirectMessage("두꺼비", "안녕\n둘째 줄")),
    ("/to frog", SetRecipient("frog")),
    ("/to", SetRecipient(None)),
    ("/to *", SetRecipient(None)),
    ("/send report.pdf", SendFile(Path("report.pdf"))),
    ("/send my report.pdf", SendFile(Path("my report.pdf"))),
    ('/send "quoted name.txt"', SendFile(Path("quoted name.txt"))),
    ("/send ~/x.txt", SendFile(Path("~/x.txt").expanduser())),
    ("/QUIT", Quit()),
    ("/exit", Quit()),
    ("/help", Help()),
    ("/join lobby", RoomCommand("join", "lobby")),
    ("/leave", RoomCommand("leave", None)),
    ("/rooms", RoomCommand("rooms", None)),
])
def test_commands(line: str, command: object) -> None:
    assert parse(line) == command


@pytest.mark.parametrize(("line", "says"), [
    ("/msg frog", "Usage: /msg USER TEXT"),
    ("/msg", "Usage: /msg USER TEXT"),
    ("/msg bad!name hi", "bad!name cannot be a user ID"),
    ("/to a b", "Usage: /to USER"),
    ("/send", "Usage: /send PATH"),
    ('/send "unclosed', "Usage: /send PATH"),
    ("/frobnicate", "Unknown command: /frobnicate"),
    ("/\x1b[31m", "Unknown command: /\\e[31m"),
])
def test_mistakes_are_one_safe_sentence(line: str, says: str) -> None:
    problem = parse(line)
    assert isinstance(problem, Problem)
    assert says in problem.message
    assert "\x1b" not in problem.message
