"""How the windows look: shading, spacing, clipping, wrapping, escapes, theme."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from tkinter import font as tkfont
from tkinter import ttk

import pytest

from chatproto import SendChat
from chatproto.session.tls import PIN_FILE_NAME
from frontends.gui import theme
from frontends.gui.app import CHAT_MIN_SIZE
from frontends.gui.settings import SETTINGS_FILE
from frontends.text import escape
from support import RawClient, running_server

from .driver import GuiClient, pump, wait_until

LONG = "a message long enough to wrap over several lines of the transcript " * 4


def _with_settings(config: Path, downloads: Path, **settings: object) -> None:
    config.mkdir(parents=True, exist_ok=True)
    (config / SETTINGS_FILE).write_text(
        json.dumps({"download_dir": str(downloads), **settings}), encoding="utf-8")


def _line_of(client: GuiClient, needle: str) -> int:
    index = client.chat.transcript.text.search(needle, "1.0")
    assert index, needle
    return int(str(index).split(".")[0])


def test_own_messages_are_shaded_edge_to_edge_on_every_line(gui, chat_server) -> None:
    alice = gui("alice")
    alice.login(chat_server.host, chat_server.port, "alice", "pw")
    alice.say("one line")
    alice.say("first of two\nsecond of two")
    alice.say(LONG)
    alice.wait_for_text("second of two")
    alice.wait_for_text(LONG.strip())
    text = alice.chat.transcript.text
    first = _line_of(alice, "one line")
    last = _line_of(alice, LONG.strip()[:40])
    assert last - first == 3  # four text lines: one, two, one (wrapped on screen)
    for line in range(first, last + 1):
        # The background of a tag that covers a line's newline reaches the
        # right edge, on every display line of a wrapped line too; the margin
        # colours shade the sides.
        assert "own" in text.tag_names(f"{line}.0"), line
        assert "own" in text.tag_names(f"{line}.end"), line
    wait_until(lambda: text.count(f"{last}.0", f"{last}.end", "displaylines")[0] >= 1,
               what="the long message to wrap")
    own = text.tag_cget("own", "background")
    assert own
    assert text.tag_cget("own", "lmargincolor") == own
    assert text.tag_cget("own", "rmargincolor") == own
    # A peer's line after ours is not shaded.
    alice.chat.transcript.append([("[00:00] bob: hi", ("sender",))])
    assert "own" not in text.tag_names(f"{last + 1}.end")
    assert alice.chat.transcript.content().endswith("bob: hi")


@pytest.mark.parametrize("language", ["en", "ko"])
def test_labels_of_the_login_form_do_not_touch_their_fields(
    display: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    from frontends.gui import i18n

    i18n.use_languages([language])
    try:
        client = GuiClient(tmp_path / "cfg", tmp_path / "dl")
        try:
            view = client.app.login_view
            assert view is not None
            pump()
            for row, key in enumerate(("server", "port", "username", "password")):
                (label,) = view.grid_slaves(row=row, column=0)
                entry = view.entries[key]
                gap = entry.winfo_x() - (label.winfo_x() + label.winfo_width())
                assert gap >= 8, (key, gap)
        finally:
            client.destroy()
    finally:
        i18n.use_languages(["en"])


def test_participant_names_fit_in_the_smallest_window(gui, chat_server) -> None:
    names = ["bartholomew_smith", "개구리_친구들"]
    with RawClient.login_as(chat_server, names[0], "pw"), \
            RawClient.login_as(chat_server, names[1], "pw"):
        frog = gui("frog")
        frog.login(chat_server.host, chat_server.port, "frog", "pw")
        wait_until(lambda: len(frog.chat.participants.rows()) == 3, what="three participants")
        frog.root.geometry("{}x{}".format(*CHAT_MIN_SIZE))  # the window's minimum size
        wait_until(lambda: frog.root.winfo_width() == CHAT_MIN_SIZE[0], what="the small window")
        pump(0.1)
        tree = frog.chat.participants.tree
        font = tkfont.Font(root=tree, font=ttk.Style(tree).lookup("Treeview", "font"))
        columns = ["#0", *tree["columns"]]
        used = sum(int(tree.column(c, "width")) for c in columns)
        assert used <= tree.winfo_width()
        # The tree ends inside the window, and every name fits its column.
        right = tree.winfo_rootx() + tree.winfo_width()
        assert right <= frog.root.winfo_rootx() + frog.root.winfo_width()
        for name in [*names, "frog"]:
            assert font.measure(name) < int(tree.column("#0", "width")), name
            state = str(tree.item(name, "values")[0])
            assert font.measure(state) < int(tree.column("state", "width")), state


def test_the_changed_certificate_banner_shows_whole(gui, tmp_path: Path) -> None:
    frog = gui("frog")
    with running_server(tmp_path / "first", scrypt_n=2**10, tls=True) as first:
        port = first.port
        frog.fill_login(first.host, port, "frog", "pw", tls=True)
        frog.app.login_view.login_button.invoke()  # type: ignore[union-attr]
        wait_until(frog.dialogs, what="the first-contact question")
        frog.dialogs()[0].buttons["Trust"].invoke()
        wait_until(lambda: frog.app.chat_view is not None, what="the chat window")
    wait_until(lambda: frog.chat.banner.winfo_ismapped(), what="the disconnected banner")
    for dialog in frog.dialogs():
        dialog.buttons["Not now"].invoke()
    frog.root.geometry("{}x{}".format(*CHAT_MIN_SIZE))
    # Another server (another certificate) at the same address.
    with running_server(tmp_path / "second", scrypt_n=2**10, tls=True, port=port):
        frog.chat.reconnect_button.invoke()
        label = frog.chat.banner_label
        wait_until(lambda: "has changed" in str(label.cget("text")),
                   what="the changed-certificate banner")
        wait_until(lambda: frog.root.winfo_width() == CHAT_MIN_SIZE[0], what="the small window")
        pump(0.1)
        message = str(label.cget("text"))
        assert str(frog.config_dir / PIN_FILE_NAME) in message
        # Wrapped to the room beside the button, the whole text is on screen
        # and so is the button.
        banner = frog.chat.banner
        wrap = int(label.cget("wraplength"))
        button = frog.chat.reconnect_button
        assert 0 < wrap <= banner.winfo_width() - button.winfo_width()
        assert label.winfo_reqwidth() <= banner.winfo_width() - button.winfo_width()
        assert label.winfo_height() >= label.winfo_reqheight()
        assert button.winfo_x() + button.winfo_width() <= banner.winfo_width()
        assert button.winfo_ismapped()


def test_escapes_show_as_the_cli_shows_them(gui, chat_server) -> None:
    frog = gui("frog")
    frog.login(chat_server.host, chat_server.port, "frog", "pw")
    evil = "\x1b[2Jwiped \x1b]0;title\x07 bell\x07 \u202eflip"
    with RawClient.login_as(chat_server, "mallory", "pw") as mallory:
        mallory.send(SendChat(evil, client_id=1))
        frog.wait_for_text("flip")
    line = next(x for x in frog.transcript().splitlines() if "mallory:" in x)
    # Exactly the marks chat-cli prints: \e[2J, \x07, \u202e; no text dropped.
    assert line.endswith("mallory: " + escape(evil))
    assert line.endswith("mallory: \\e[2Jwiped \\e]0;title\\x07 bell\\x07 \\u202eflip")
    assert "\ufffd" not in line


def _gui_with(tmp_path: Path, label: str, **settings: object) -> GuiClient:
    _with_settings(tmp_path / f"{label}-cfg", tmp_path / f"{label}-dl", **settings)
    return GuiClient(tmp_path / f"{label}-cfg", tmp_path / f"{label}-dl")


def _fake_gsettings(folder: Path, scheme: str) -> None:
    """A ``gsettings`` that answers like GNOME's for the one key we ask."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "gsettings"
    script.write_text(f"#!/bin/sh\necho \"'{scheme}'\"\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.mark.parametrize(("setting", "environ", "scheme", "expected"), [
    ("system", {}, None, "sun-valley-light"),
    ("system", {"GTK_THEME": "Adwaita:dark"}, None, "sun-valley-dark"),
    ("system", {}, "prefer-dark", "sun-valley-dark"),
    ("system", {}, "default", "sun-valley-light"),
    ("light", {"GTK_THEME": "Adwaita:dark"}, None, "sun-valley-light"),
    ("dark", {}, None, "sun-valley-dark"),
])
def test_the_theme_follows_the_setting_and_the_desktop(
    display: str, english: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    setting: str, environ: dict[str, str], scheme: str | None, expected: str,
) -> None:
    monkeypatch.delenv("GTK_THEME", raising=False)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if scheme is not None:
        _fake_gsettings(bin_dir, scheme)
    # Only our folder: no real gsettings of this machine answers.
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/nonexistent")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    client = _gui_with(tmp_path, "frog", theme=setting)
    try:
        assert ttk.Style(client.root).theme_use() == expected
        colours = theme.DARK if expected.endswith("dark") else theme.LIGHT
        assert theme.palette(client.root) == colours
    finally:
        client.destroy()


def test_dark_transcript_and_classic_theme(
    display: str, english: None, chat_server, tmp_path: Path
) -> None:
    dark = _gui_with(tmp_path, "dark", theme="dark")
    classic = _gui_with(tmp_path, "classic", theme="classic")
    try:
        assert not ttk.Style(classic.root).theme_use().startswith("sun-valley")
        dark.login(chat_server.host, chat_server.port, "dark", "pw")
        text = dark.chat.transcript.text
        assert text.cget("background") == theme.DARK.base
        assert text.tag_cget("own", "background") == theme.DARK.own
    finally:
        dark.destroy()
        classic.destroy()


def test_system_preference_without_a_desktop_is_light(tmp_path: Path) -> None:
    assert theme.resolve("system", {"PATH": str(tmp_path)}) == "light"
    assert theme.resolve("nonsense", {"GTK_THEME": "Yaru-dark"}) == "dark"
    assert theme.resolve("classic", {"GTK_THEME": "Yaru-dark"}) == "classic"
