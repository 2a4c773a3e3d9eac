"""The real ``chat-gui`` program in its own process, typed into with xdotool."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from frontends.gui.settings import CONFIG_DIR_ENV, SETTINGS_FILE

from .driver import GuiClient, wait_until, xdotool


def _window_id(title_regex: str) -> str:
    found = [w for w in xdotool("search", "--onlyvisible", "--name", title_regex) if w]
    return found[0] if found else ""


def test_killed_gui_is_deactivated_then_reenters(
    gui: Callable[[str], GuiClient], chat_server, tmp_path: Path
) -> None:
    alice = gui("alice")
    alice.login(chat_server.host, chat_server.port, "alice", "pw-a")

    config = tmp_path / "dave-config"
    config.mkdir()
    (config / SETTINGS_FILE).write_text(json.dumps({
        "server": chat_server.host, "port": chat_server.port, "username": "dave",
        "download_dir": str(tmp_path / "dave-downloads"), "tls": False}), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LANG")}
    env[CONFIG_DIR_ENV] = str(config)
    dave = subprocess.Popen([sys.executable, "-m", "frontends.gui"], env=env,
                            stderr=subprocess.PIPE, text=True)
    try:
        # The login form remembers server, port and ID: type the password, Enter.
        wait_until(lambda: _window_id("^LAN chat"), what="dave's login window")
        window = _window_id("^LAN chat")
        xdotool("windowfocus", "--sync", window)
        xdotool("type", "--delay", "5", "secret")
        xdotool("key", "Return")
        alice.wait_for_text("dave has entered (2 participants)")
        wait_until(lambda: _window_id("^dave$"), what="dave's chat window titled with the ID")

        dave.send_signal(signal.SIGKILL)  # no goodbye
        dave.wait(10)
        alice.wait_for_text("dave was deactivated (2 participants)")
        assert ("dave", "deactivated") in alice.chat.participants.rows()
        assert "deactivated" in alice.chat.transcript.text.tag_names(
            alice.chat.transcript.text.search("dave was deactivated", "1.0"))
    finally:
        if dave.poll() is None:
            dave.kill()
            dave.wait(10)
        errors = dave.stderr.read() if dave.stderr else ""
        if dave.stderr:
            dave.stderr.close()
    assert "Traceback" not in errors, errors

    # The same ID with the right password comes back: re-entered, count unchanged.
    again = gui("dave-again")
    again.login(chat_server.host, chat_server.port, "dave", "secret")
    alice.wait_for_text("dave has re-entered (2 participants)")
    assert ("dave", "active") in alice.chat.participants.rows()
