"""Issue 14, item 7: the real ``chat-gui`` program as a process.

SIGTERM (a logout, a shutdown) and Ctrl-C leave with a goodbye, so the
others see *left*, not *deactivated*; ``--help`` prints help without
opening a window; without Tkinter, one line naming the package to install."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from frontends.gui import TK_MISSING
from frontends.gui.settings import CONFIG_DIR_ENV, SETTINGS_FILE

from .driver import GuiClient, wait_until, xdotool

SLOW = 30.0  # generous: a loaded two-core machine starts a Tk process slowly

#: A ``sitecustomize`` that makes this Python look like one without Tkinter
#: (no python3-tk package): importing tkinter fails as it would there.
NO_TKINTER = '''
import sys


class _NoTkinter:
    def find_spec(self, name, path=None, target=None):
        if name in ("tkinter", "_tkinter") or name.startswith("tkinter."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NoTkinter())
'''


def gui_command() -> list[str]:
    script = shutil.which("chat-gui", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "frontends.gui"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("LANGUAGE", "LC_ALL", "LANG", "LC_MESSAGES") and not k.startswith("CHAT_")}
    env.update(extra)
    return env


def _window_id(title_regex: str) -> str:
    found = [w for w in xdotool("search", "--onlyvisible", "--name", title_regex) if w]
    return found[0] if found else ""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_leaves_with_a_goodbye(
    gui: Callable[[str], GuiClient], chat_server, tmp_path: Path, signum: signal.Signals
) -> None:
    alice = gui("alice")
    alice.login(chat_server.host, chat_server.port, "alice", "pw-a")

    config = tmp_path / "erin-config"
    config.mkdir()
    (config / SETTINGS_FILE).write_text(json.dumps({
        "server": chat_server.host, "port": chat_server.port, "username": "erin",
        "download_dir": str(tmp_path / "erin-downloads"), "tls": False}), encoding="utf-8")
    erin = subprocess.Popen(gui_command(), env=clean_env(**{CONFIG_DIR_ENV: str(config)}),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # The form remembers server, port and ID: the password and Enter.
        wait_until(lambda: _window_id("^LAN chat"), SLOW, what="erin's login window")
        xdotool("windowfocus", "--sync", _window_id("^LAN chat"))
        xdotool("type", "--delay", "5", "secret")
        xdotool("key", "Return")
        alice.wait_for_text("erin has entered (2 participants)", SLOW)
        wait_until(lambda: _window_id("^erin$"), SLOW, what="erin's chat window")

        erin.send_signal(signum)
        alice.wait_for_text("erin has left (1 participant)", SLOW)
        wait_until(lambda: erin.poll() is not None, SLOW, what="chat-gui to exit")
        _out, errors = erin.communicate(timeout=SLOW)
    finally:
        if erin.poll() is None:
            erin.kill()
            erin.communicate(timeout=SLOW)
    assert erin.returncode == 0, (erin.returncode, errors)
    assert "Traceback" not in errors and "KeyboardInterrupt" not in errors, errors
    assert "erin was deactivated" not in alice.transcript()
    assert all(name != "erin" for name, _state in alice.chat.participants.rows())


def test_help_prints_help_and_opens_no_window(tmp_path: Path) -> None:
    # No DISPLAY at all: a window attempted would fail ("cannot open a window").
    env = clean_env(**{CONFIG_DIR_ENV: str(tmp_path / "config")})
    env.pop("DISPLAY", None)
    result = subprocess.run([*gui_command(), "--help"], capture_output=True, text=True,
                            env=env, timeout=SLOW, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: chat-gui"), result.stdout
    assert "CHAT_CONFIG_DIR" in result.stdout and "SIGTERM" in result.stdout
    assert result.stderr == ""
    assert not (tmp_path / "config").exists(), "help must not start the app"

    wrong = subprocess.run([*gui_command(), "--colour", "red"], capture_output=True,
                           text=True, env=env, timeout=SLOW, stdin=subprocess.DEVNULL)
    assert wrong.returncode == 2, wrong.stderr
    assert "Traceback" not in wrong.stderr
    assert wrong.stderr.splitlines()[-1] == (
        "chat-gui: error: unrecognized arguments: --colour red"), wrong.stderr


def test_without_tkinter_one_line_names_the_package(display: str, tmp_path: Path) -> None:
    hook = tmp_path / "no-tkinter"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(NO_TKINTER, encoding="utf-8")
    pythonpath = os.pathsep.join(p for p in (str(hook), os.environ.get("PYTHONPATH")) if p)
    env = clean_env(PYTHONPATH=pythonpath, **{CONFIG_DIR_ENV: str(tmp_path / "config")})
    probe = subprocess.run([sys.executable, "-c", "import tkinter"], capture_output=True,
                           text=True, env=env, timeout=SLOW)
    assert probe.returncode != 0 and "No module named 'tkinter'" in probe.stderr, probe.stderr

    for command in (gui_command(), [sys.executable, "-m", "frontends.gui"]):
        result = subprocess.run(command, capture_output=True, text=True, env=env,
                                timeout=SLOW, stdin=subprocess.DEVNULL)
        assert result.returncode == 1, (command, result.returncode, result.stderr)
        assert result.stderr.splitlines() == [TK_MISSING], result.stderr
        assert "python3-tk" in result.stderr and result.stdout == ""
    # Help needs no Tkinter either.
    helped = subprocess.run([*gui_command(), "--help"], capture_output=True, text=True,
                            env=env, timeout=SLOW, stdin=subprocess.DEVNULL)
    assert helped.returncode == 0 and "usage: chat-gui" in helped.stdout, helped.stderr
