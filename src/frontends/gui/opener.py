"""Open a folder in the desktop's file manager."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import threading
from pathlib import Path

#: A command to run instead of the platform's (the folder is appended);
#: for desktops without xdg-open, and for tests.
OPEN_COMMAND_ENV = "CHAT_OPEN_COMMAND"


def open_folder(folder: Path) -> str:
    """Start the file manager on ``folder``; returns "" or why it failed."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        custom = os.environ.get(OPEN_COMMAND_ENV)
        if custom:
            command = [*shlex.split(custom), str(folder)]
        elif sys.platform == "win32":
            os.startfile(folder)  # type: ignore[attr-defined]
            return ""
        elif sys.platform == "darwin":
            command = ["open", str(folder)]
        else:
            command = ["xdg-open", str(folder)]
        child = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )
        # Reap it when it exits, so that no zombie stays behind.
        threading.Thread(target=child.wait, daemon=True).start()
    except (OSError, ValueError) as exc:
        return getattr(exc, "strerror", None) or str(exc)
    return ""
