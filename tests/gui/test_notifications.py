"""Issue 14, item 10: an unseen message shows in the title and asks for
attention; a message naming the user is highlighted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from frontends.gui.mentions import mentions
from frontends.gui.settings import SETTINGS_FILE

from .driver import GuiClient, pump, wait_until, xdotool

SEND_TIMEOUT = 60.0


def chat_cli_send(server, user: str, text: str, home: Path) -> None:  # type: ignore[no-untyped-def]
    """``chat-cli send``, as a script on another machine would run it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    env.update(CHAT_PASSWORD="pw-" + user, CHAT_CONFIG_DIR=str(home / "config"),
               XDG_STATE_HOME=str(home / "state"), HOME=str(home), PYTHONIOENCODING="utf-8")
    home.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "frontends.cli", "--host", server.host, "--port",
         str(server.port), "--no-tls", "--user", user, "send", text],
        capture_output=True, text=True, env=env, timeout=SEND_TIMEOUT)
    assert done.returncode == 0, done.stdout + done.stderr


def managed_window(title: str) -> str:
    """The X window titled ``title``: the one a window manager manages."""
    pattern = "^" + "".join(c if c.isalnum() else f"[{c}]" for c in title) + "$"
    found = [w.strip() for w in xdotool("search", "--name", pattern) if w.strip()]
    assert len(found) == 1, (title, found)
    return found[0]


def focus_elsewhere(thief: GuiClient, client: GuiClient) -> None:
    """Give the X focus to another program's window, as a click on it would."""
    thief.root.title("another program")  # a plain title xdotool can look for
    pump()
    xdotool("windowfocus", "--sync", managed_window(thief.root.title()))
    wait_until(lambda: not str(client.root.tk.call("focus")), what="the focus to leave")


def focus_back(client: GuiClient) -> None:
    xdotool("windowfocus", "--sync", managed_window(client.root.title()))
    wait_until(lambda: str(client.root.tk.call("focus")), what="the focus to come back")


def window_hints(title: str) -> str:
    """``xprop``'s reading of WM_HINTS of the window titled ``title``: what
    the window manager sees."""
    out = subprocess.run(["xprop", "-id", managed_window(title), "WM_HINTS"],
                         capture_output=True, text=True, timeout=10)
    return out.stdout


URGENT = "urgency hint bit is set"


def test_unseen_messages_are_counted_in_the_title_and_ask_for_attention(
    gui: Callable[[str], GuiClient], chat_server, tmp_path: Path
) -> None:
    alice = gui("alice")
    alice.login(chat_server.host, chat_server.port, "alice", "pw")
    assert alice.chat.attention_box.instate(["selected"])  # on by default
    thief = gui("thief")
    focus_elsewhere(thief, alice)

    for number in (1, 2, 3):
        chat_cli_send(chat_server, "bob", f"note {number}", tmp_path / "bob")
    alice.wait_for_text("bob: note 3")
    wait_until(lambda: alice.root.title() == "(3) alice",
               what=f"the unread count in the title, not {alice.root.title()!r}")
    assert URGENT in window_hints("(3) alice")

    # Back at the window: the count and the request for attention go.
    focus_back(alice)
    wait_until(lambda: alice.root.title() == "alice", what="the count to clear")
    assert URGENT not in window_hints("alice")
    assert "Client accepts input" in window_hints("alice")  # Tk's own hints kept

    # Read while looking at it: nothing to count.
    chat_cli_send(chat_server, "bob", "seen at once", tmp_path / "bob")
    alice.wait_for_text("bob: seen at once")
    pump(0.1)
    assert alice.root.title() == "alice"
    # Nor does what alice sends herself.
    alice.say("my own words")
    alice.wait_for_text("alice: my own words")
    focus_elsewhere(thief, alice)
    pump(0.1)
    assert alice.root.title() == "alice"


def test_the_alert_can_be_turned_off_and_stays_off(
    gui: Callable[[str], GuiClient], chat_server, tmp_path: Path
) -> None:
    alice = gui("alice")
    alice.login(chat_server.host, chat_server.port, "alice", "pw")
    alice.chat.attention_box.invoke()  # untick "Alert on new messages"
    saved = json.loads((alice.config_dir / SETTINGS_FILE).read_text(encoding="utf-8"))
    assert saved["attention"] is False
    thief = gui("thief")
    focus_elsewhere(thief, alice)
    chat_cli_send(chat_server, "bob", "quietly", tmp_path / "bob")
    alice.wait_for_text("bob: quietly")
    # The count still shows; no urgency is asked for.
    wait_until(lambda: alice.root.title() == "(1) alice", what="the unread count")
    assert URGENT not in window_hints("(1) alice")
    alice.destroy()

    again = GuiClient(alice.config_dir, alice.downloads)
    try:
        again.login(chat_server.host, chat_server.port, "alice", "pw")
        assert not again.chat.attention_box.instate(["selected"])
    finally:
        again.destroy()


def _tags_of_line(client: GuiClient, needle: str, part: str | None = None) -> set[str]:
    """The tags at ``part`` (default: ``needle``) of the one line showing ``needle``."""
    lines = client.chat.transcript.lines()
    (number,) = [i + 1 for i, line in enumerate(lines) if needle in line]
    text = client.chat.transcript.text
    start = lines[number - 1].index(part or needle)
    return {str(tag) for tag in text.tag_names(f"{number}.{start}")}


def test_a_message_naming_me_is_highlighted(
    gui: Callable[[str], GuiClient], chat_server, tmp_path: Path
) -> None:
    frog = gui("frog")
    frog.login(chat_server.host, chat_server.port, "frog", "pw")
    for text in ("look here @Frog, please", "mail me at toad@frog", "@frogger is someone else",
                 "\uff20\uff26\uff32\uff2f\uff27 typed fullwidth"):
        chat_cli_send(chat_server, "toad", text, tmp_path / "toad")
    frog.wait_for_text("typed fullwidth")
    assert "mention" in _tags_of_line(frog, "look here @Frog")
    assert "mention" in _tags_of_line(frog, "typed fullwidth")
    assert "mention" not in _tags_of_line(frog, "mail me at toad@frog")
    assert "mention" not in _tags_of_line(frog, "@frogger is someone else")
    # The highlight is a colour of its own, over the whole line.
    text = frog.chat.transcript.text
    assert str(text.tag_cget("mention", "background"))
    assert "mention" in _tags_of_line(frog, "look here @Frog", "toad: ")
    assert "mention" in _tags_of_line(frog, "look here @Frog", "[")
    # Naming oneself is no news.
    frog.say("I am @frog")
    frog.wait_for_text("frog: I am @frog")
    assert "mention" not in _tags_of_line(frog, "I am @frog")


@pytest.mark.parametrize(("text", "named"), [
    ("@frog", True),
    ("hi @FROG!", True),
    ("(@frog)", True),
    ("@frog's turn", True),
    ("@frog\n", True),
    ("\uff20frog", True),
    ("frog", False),
    ("me@frog", False),
    ("@frogs", False),
    ("@fro", False),
    ("@ frog", False),
    ("@@frog", True),
    ("@frog_2", False),
])
def test_mentions(text: str, named: bool) -> None:
    assert mentions(text, "frog") is named


def test_mentions_of_names_beyond_ascii() -> None:
    assert mentions("@개구리 봐", "개구리")
    assert mentions("@Straße", "STRASSE")
    assert not mentions("@개구리님", "개구리")  # a longer name, not this one
    assert not mentions("@", "frog") and not mentions("@frog", "")
