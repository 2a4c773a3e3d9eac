"""The download folder: changed through a dialog, opened in the file manager."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from frontends.gui.opener import OPEN_COMMAND_ENV
from frontends.gui.settings import SETTINGS_FILE

from .driver import CHOOSE_DIR_DIALOG, GuiClient, answer_tk_dialog, wait_until


def test_change_download_folder_is_saved_and_used(
    gui: Callable[[str], GuiClient], chat_server, tmp_path: Path
) -> None:
    frog = gui("frog")
    frog.login(chat_server.host, chat_server.port, "frog", "pw")
    target = tmp_path / "elsewhere"
    target.mkdir()
    seen = answer_tk_dialog(frog, CHOOSE_DIR_DIALOG, target,
                            frog.chat.choose_folder_button.invoke)
    assert seen["transient_for"] == "."
    assert frog.chat.folder_label.cget("text") == str(target)
    saved = json.loads((frog.config_dir / SETTINGS_FILE).read_text(encoding="utf-8"))
    assert saved["download_dir"] == str(target)


def test_open_folder_runs_the_file_manager(
    gui: Callable[[str], GuiClient], chat_server, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = tmp_path / "opened.txt"
    script = tmp_path / "fake_file_manager.py"
    script.write_text(
        "import sys, pathlib\n"  # written then renamed: exists() means complete
        f"tmp = pathlib.Path({str(record)!r} + '.tmp')\n"
        "tmp.write_text(sys.argv[1], encoding='utf-8')\n"
        f"tmp.rename({str(record)!r})\n",
        encoding="utf-8")
    monkeypatch.setenv(OPEN_COMMAND_ENV, f"{sys.executable} {script}")
    frog = gui("frog")
    frog.login(chat_server.host, chat_server.port, "frog", "pw")
    frog.chat.open_folder_button.invoke()
    wait_until(record.exists, what="the file manager to be started")
    assert record.read_text(encoding="utf-8") == str(frog.downloads)

    monkeypatch.setenv(OPEN_COMMAND_ENV, str(tmp_path / "no-such-program"))
    frog.chat.open_folder_button.invoke()
    (dialog,) = frog.dialogs()
    assert dialog.message.startswith(f"Could not open {frog.downloads}: ")
    assert "\n" not in dialog.message
