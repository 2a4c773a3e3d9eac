"""Pieces without a window: safe display text, transcript lines, settings."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatproto import ChatMessage, FileAvailable, Presence, PresenceState
from frontends.gui import settings as settings_module
from frontends.gui.lines import (
    CONTINUATION,
    chat_line,
    file_line,
    presence_line,
    shown_path,
    size_text,
)
from frontends.gui.safetext import clean
from frontends.gui.settings import (
    CONFIG_DIR_ENV,
    SETTINGS_FILE,
    Settings,
    config_dir,
    load_settings,
    save_settings,
)
from frontends.text import escape

FORBIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
UNSAFE = {"\x1b", "\r", "\x00", "\x07", "\x08", "\u202e", "\u202d", "\u2066", "\u2067",
          "\u2068", "\u2069", "\u200e", "\u200f", "\u061c", "\x85", "\x9b"}


def _text(segments: list[tuple[str, tuple[str, ...]]]) -> str:
    return "".join(chunk for chunk, _tags in segments)


@pytest.mark.parametrize(("raw", "shown"), [
    # The marks chat-cli prints (frontends.text.escape): nothing is dropped.
    ("plain 한국어 text", "plain 한국어 text"),
    ("\x1b[31mred\x1b[0m", "\\e[31mred\\e[0m"),
    ("\x1b[2J", "\\e[2J"),
    ("title\x1b]0;pwned\x07!", "title\\e]0;pwned\\x07!"),
    ("abc\u202edcba", "abc\\u202edcba"),
    ("bell\x07 nul\x00", "bell\\x07 nul\\x00"),
    ("a\r\nb", "a\nb"),
    ("over\rwrite", "over\\rwrite"),
    ("tab\there", "tab\\there"),
    ("line\u2028sep", "line\\u2028sep"),
    ("unassigned \U000e0080", "unassigned \\U000e0080"),
    ("emoji \U0001f600 zwj \u200d", "emoji \U0001f600 zwj \u200d"),
])
def test_clean(raw: str, shown: str) -> None:
    assert clean(raw) == shown


@given(st.text())
def test_clean_matches_the_cli_line_by_line(text: str) -> None:
    """Apart from the joiners the GUI can draw and unassigned code points it
    escapes too, every line shows exactly as chat-cli shows it."""
    text = text.replace("\r\n", "\n")
    if set(text) & {"\u200c", "\u200d"} or any(unicodedata.category(c) == "Cn" for c in text):
        return
    assert clean(text).split("\n") == [escape(line) for line in text.split("\n")]
    assert clean(text, single_line=True) == escape(text)


@given(st.text())
def test_clean_never_lets_a_control_through(text: str) -> None:
    shown = clean(text, single_line=True)
    assert not UNSAFE & set(shown)
    assert "\n" not in shown
    assert all(ch in "\u200c\u200d" or unicodedata.category(ch) not in FORBIDDEN
               for ch in shown)


@given(st.text(min_size=1))
def test_a_message_never_starts_a_line_of_its_own(text: str) -> None:
    message = ChatMessage(1, 0, 0, "mallory", None, text)
    lines = _text(chat_line(message, "alice")).split("\n")
    assert lines[0].startswith("[")
    assert "] mallory: " in lines[0]
    assert all(line.startswith(CONTINUATION) for line in lines[1:])


def test_lines_for_files_presence_and_direct_messages() -> None:
    direct = ChatMessage(7, 0, 0, "bob", "alice", "hi")
    assert _text(chat_line(direct, "alice")).endswith("bob \u2192 alice (direct): hi")
    assert all("direct" in tags for _c, tags in chat_line(direct, "alice"))
    assert all("own" in tags for _c, tags in chat_line(direct, "bob"))
    evil = FileAvailable(8, 0, 1, "bob", None, "../../x\u202egpj.exe", 2048, b"\0" * 32)
    assert _text(file_line(evil, "alice")).endswith(
        "bob: sent the file ../../x\\u202egpj.exe (2.0 KiB)")
    gone = Presence("carol", PresenceState.DEACTIVATED, 3)
    line = presence_line(gone)
    assert _text(line).endswith("*** carol was deactivated (3 participants)")
    assert "deactivated" in line[1][1]


def test_settings_folder_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "explicit"))
    assert config_dir() == tmp_path / "explicit"
    monkeypatch.delenv(CONFIG_DIR_ENV)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_dir() == tmp_path / "xdg" / "lanchat"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert config_dir() == tmp_path / "home" / ".config" / "lanchat"


def test_settings_round_trip_and_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    fresh = load_settings(tmp_path / "none")
    assert (fresh.server, fresh.port, fresh.username) == ("localhost", 9000, "")
    assert fresh.download_folder() == tmp_path / "home"  # no Downloads folder: home
    (tmp_path / "home" / "Downloads").mkdir()
    assert fresh.download_folder() == tmp_path / "home" / "Downloads"

    saved = Settings(server="10.0.0.5", port=9001, username="개구리", download_dir="/x")
    save_settings(saved, tmp_path / "cfg")
    assert load_settings(tmp_path / "cfg") == saved
    assert not list((tmp_path / "cfg").glob("*.tmp"))


@pytest.mark.parametrize("content", [
    "{not json", "[1, 2]", json.dumps({"port": "9000", "server": 5}),
    json.dumps({"port": 70000, "username": "x" * 10_000}), json.dumps({"port": True}),
])
def test_damaged_settings_give_defaults(tmp_path: Path, content: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / SETTINGS_FILE).write_text(content, encoding="utf-8")
    loaded = load_settings(tmp_path)
    assert (loaded.server, loaded.port, loaded.username) == ("localhost", 9000, "")
    assert "Traceback" not in capsys.readouterr().err


def test_unwritable_settings_folder_is_one_line_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    settings_module.save_settings(Settings(), blocker / "sub")
    err = capsys.readouterr().err
    assert err.startswith("chat-gui: could not save settings") and err.count("\n") == 1


def test_paths_under_home_are_shown_with_a_tilde(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert shown_path(tmp_path / "home" / "Downloads" / "a.txt") == "~/Downloads/a.txt"
    assert shown_path(tmp_path / "elsewhere") == str(tmp_path / "elsewhere")


def test_sizes_are_words_of_the_window(english: None) -> None:
    assert size_text(1) == "1 byte"
    assert size_text(17) == "17 bytes"
    assert size_text(2048) == "2.0 KiB"
