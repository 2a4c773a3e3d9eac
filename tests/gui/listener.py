"""A ``chat-cli listen`` subprocess whose output lines the test can wait for."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from .driver import TIMEOUT, wait_until


class Listener:
    def __init__(self, host: str, port: int, user: str, password: str, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, CHAT_PASSWORD=password, PYTHONUNBUFFERED="1")
        self.folder = folder
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "frontends.cli",
             "--host", host, "--port", str(port), "--user", user, "--no-tls", "listen",
             "--download-dir", str(folder), "--state-file", str(folder / "state.json")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float = TIMEOUT) -> None:
        """Wait (pumping the GUI windows meanwhile) for ``text`` in the output."""
        wait_until(lambda: text in self.output(), timeout,
                   what=f"{text!r} from chat-cli listen; got:\n{self.output()}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(TIMEOUT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(TIMEOUT)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
