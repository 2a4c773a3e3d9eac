"""The real ``chat-tui`` process in a real pseudo-terminal (pexpect).

A thread reads everything the program writes, all the time: a terminal
program blocks when nobody reads its terminal, and a test waiting on
something else (another user's output) must not stall it. Waits are on
what the screen shows, with the escape sequences taken out.
"""

from __future__ import annotations

import re
import shutil
import sys
import threading
import time
from pathlib import Path

import pexpect

from .tuitools import TIMEOUT

#: CSI, OSC and two-byte escape sequences: colours and cursor moves.
_ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")


def tui_command() -> list[str]:
    script = shutil.which("chat-tui", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "frontends.tui"]


class Terminal:
    def __init__(self, args: list[str], env: dict[str, str], cwd: Path,
                 size: tuple[int, int] = (24, 80)) -> None:
        command, *rest = [*tui_command(), *args]
        self.child = pexpect.spawn(command, rest, env=env, cwd=str(cwd), dimensions=size,
                                   encoding=None, timeout=TIMEOUT)
        self._output = bytearray()
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = self.child.read_nonblocking(65536, timeout=0.5)
            except pexpect.TIMEOUT:
                continue
            except (pexpect.EOF, OSError, ValueError):
                break
            with self._changed:
                self._output += data
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def text(self) -> str:
        """Everything shown so far, without escape sequences."""
        with self._changed:
            raw = bytes(self._output)
        return _ESCAPES.sub(b"", raw).decode("utf-8", "replace")

    def wait_for(self, needle: str, timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while needle not in self.text():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not (self._reader.is_alive() or self.child.isalive()):
                    tail = self.text()[-2000:]
                    raise TimeoutError(f"{needle!r} not on the screen; it shows:\n{tail}")
                self._changed.wait(min(remaining, 0.5))

    def type(self, text: str) -> None:
        self.child.send(text.encode("utf-8"))

    def wait_exit(self, timeout: float = TIMEOUT) -> int | None:
        """The exit status (None when killed by a signal)."""
        deadline = time.monotonic() + timeout
        while self.child.isalive():
            if time.monotonic() > deadline:
                raise TimeoutError(f"chat-tui still running; it shows:\n{self.text()[-2000:]}")
            self._reader.join(0.2)
        self._reader.join(TIMEOUT)
        self.child.close()
        return self.child.exitstatus

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close(force=True)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Terminal", "tui_command"]
