"""The listener's line formats: escaping, indentation, JSON lines."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from chatproto import ChatMessage, FileAvailable, Presence, PresenceState
from frontends.cli.render import (
    escape,
    event_time,
    human_chat,
    human_file,
    human_presence,
    json_line,
    json_record,
)

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def chat(text: str, sender: str = "frog", to: str | None = None) -> ChatMessage:
    return ChatMessage(7, 1_700_000_000_000, 1, sender, to, text)


def test_escape_makes_controls_visible() -> None:
    assert escape("a\x1b[2Jb") == "a\\e[2Jb"
    assert escape("\u202eabc\u2066") == "\\u202eabc\\u2066"
    assert escape("tab\there\r\x00") == "tab\\there\\r\\x00"
    assert escape("line\u2028sep") == "line\\u2028sep"
    assert escape("개구리 🐸 é") == "개구리 🐸 é"


@given(st.text())
def test_human_lines_never_carry_raw_controls(text: str) -> None:
    rendered = human_chat(chat(text), WHEN)
    lines = rendered.split("\n")
    assert len(lines) == text.count("\n") + 1
    assert lines[0].startswith("[") and "<frog> " in lines[0]
    for line in lines[1:]:
        assert line.startswith(" " * 11)  # a continuation can never look like a new message
    for ch in rendered:
        assert ch == "\n" or unicodedata.category(ch) not in {"Cc", "Cf", "Zl", "Zp", "Cs", "Co"}


@given(st.text())
def test_json_lines_are_one_line_and_round_trip(text: str) -> None:
    line = json_line(json_record(chat(text), WHEN))
    assert len(line.splitlines()) == 1
    assert "\u202e" not in line and "\x1b" not in line
    assert json.loads(line)["text"] == text


def test_json_records_carry_the_fields() -> None:
    record = json.loads(json_line(json_record(chat("hi", to="개구리"), WHEN)))
    assert record == {"type": "chat", "seq": 7, "ts": record["ts"], "from": "frog",
                      "to": "개구리", "room": None, "text": "hi"}
    assert datetime.fromisoformat(record["ts"]) == WHEN
    presence = json_record(Presence("frog", PresenceState.DEACTIVATED, 3), WHEN)
    assert presence["seq"] is None and presence["state"] == "deactivated"
    assert presence["participants"] == 3
    announced = FileAvailable(9, 0, 4, "frog", None, "a.txt", 5, bytes(range(32)), 0)
    record = json_record(announced, WHEN, None)
    assert record["sha256"] == bytes(range(32)).hex() and record["path"] is None


def test_human_formats() -> None:
    assert human_presence(Presence("frog", PresenceState.LEFT, 1), WHEN).endswith(
        "] * frog left (1 participant)"
    )
    announced = FileAvailable(9, 0, 4, "frog", "개구리", "x\x1b.txt", 2048, b"\0" * 32, 0)
    assert human_file(announced, WHEN, None).endswith(
        "* frog sent the file x\\e.txt (2.0 KiB) (direct to 개구리)"
    )
    message = chat("hi")
    assert event_time(message) == datetime.fromtimestamp(1_700_000_000, tz=UTC)
