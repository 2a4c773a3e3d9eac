"""Running the real ``chat-cli`` as a subprocess, and reading its lines with timeouts."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TIMEOUT = 20.0


def cli_command() -> list[str]:
    script = shutil.which("chat-cli", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "frontends.cli"]


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no CHAT_* from the developer's shell, private
    state and config folders (pinned certificates land there), UTF-8 output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    env.update(
        CHAT_CONFIG_DIR=str(config_dir(home)),
        XDG_STATE_HOME=str(home / "state"),
        HOME=str(home),
        PYTHONIOENCODING="utf-8",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def config_dir(home: Path) -> Path:
    """Where the chat-cli processes of a test keep their pins (``known_servers``)."""
    return home / "config"


#: Most test servers serve plain TCP; the TLS tests pass their own options.
PLAIN = ("--no-tls",)


def base_args(server: Any, user: str | None, password: str | None = "pw",
              tls: tuple[str, ...] = PLAIN) -> list[str]:
    args = ["--host", server.host, "--port", str(server.port), *tls]
    if user is not None:
        args += ["--user", user]
    if password is not None:
        args += ["--password", password]
    return args


def run_cli(
    server: Any,
    user: str | None,
    *args: str,
    home: Path,
    password: str | None = "pw",
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdin_text: str | None = None,
    tls: tuple[str, ...] = PLAIN,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cli_command(), *base_args(server, user, password, tls), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env or cli_env(home),
        cwd=cwd or home,
        input=stdin_text,
        stdin=subprocess.DEVNULL if stdin_text is None else None,
        timeout=TIMEOUT,
    )


class Listener:
    """A running ``chat-cli listen`` whose stdout lines are read with timeouts."""

    def __init__(self, server: Any, user: str, *args: str, home: Path,
                 password: str = "pw", cwd: Path | None = None,
                 tls: tuple[str, ...] = PLAIN) -> None:
        self.proc = subprocess.Popen(
            [*cli_command(), *base_args(server, user, password, tls), "listen", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            env=cli_env(home),
            cwd=cwd or home,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr_lines: list[str] = []
        reader = threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines))
        reader.daemon = True
        reader.start()
        self._err_thread = threading.Thread(target=self._pump_err, daemon=True)
        self._err_thread.start()

    @staticmethod
    def _pump(stream: Any, sink: queue.Queue[str | None]) -> None:
        for line in stream:
            sink.put(line.rstrip("\n"))
        sink.put(None)

    def _pump_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line.rstrip("\n"))

    def next_line(self, timeout: float = TIMEOUT) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            message = f"no output line within {timeout}s; stderr: {self.stderr_lines}"
            raise TimeoutError(message) from None
        if line is None:
            self.lines.put(None)
            raise EOFError(f"listener exited ({self.proc.poll()}); stderr: {self.stderr_lines}")
        return line

    def wait_line(self, matches: Callable[[str], bool], timeout: float = TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while True:
            line = self.next_line(max(deadline - time.monotonic(), 0.001))
            if matches(line):
                return line

    def next_json(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        record = json.loads(self.next_line(timeout))
        assert isinstance(record, dict)
        return record

    def wait_json(self, matches: Callable[[dict[str, Any]], bool],
                  timeout: float = TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            record = self.next_json(max(deadline - time.monotonic(), 0.001))
            if matches(record):
                return record

    def remaining_lines(self, timeout: float = TIMEOUT) -> list[str]:
        """Every line up to the end of output (the process must be ending)."""
        out: list[str] = []
        while True:
            try:
                out.append(self.next_line(timeout))
            except EOFError:
                return out

    def stderr_after_exit(self) -> list[str]:
        """All of stderr, once the process has exited."""
        self.proc.wait(TIMEOUT)
        self._err_thread.join(TIMEOUT)
        return self.stderr_lines

    def terminate(self, signum: int = signal.SIGTERM) -> int:
        self.proc.send_signal(signum)
        return self.proc.wait(TIMEOUT)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(TIMEOUT)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
