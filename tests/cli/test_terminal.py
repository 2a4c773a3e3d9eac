"""Terminal behaviour: a hidden password prompt, a progress bar on stderr."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from pathlib import Path

from .clitools import Listener, base_args, cli_command, cli_env


def read_until(fd: int, marker: bytes, timeout: float = 20.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {marker!r} within {timeout}s: {seen!r}"
        if select.select([fd], [], [], remaining)[0]:
            chunk = os.read(fd, 1024)
            assert chunk, f"stream ended before {marker!r}: {seen!r}"
            seen += chunk
    return seen


def test_password_is_prompted_without_echo(server, home: Path) -> None:
    master, slave = pty.openpty()
    try:
        with Listener(server, "watcher", "--json", home=home) as watcher:
            watcher.next_json()
            proc = subprocess.Popen(
                [*cli_command(), *base_args(server, "frog", password=None), "send", "typed"],
                stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=cli_env(home), start_new_session=True,  # no controlling terminal but the pty
            )
            # getpass flushes pending input when it turns echo off, then writes
            # the final " " of the prompt: type only once that has appeared.
            assert proc.stderr is not None
            prompt = read_until(proc.stderr.fileno(), b"Password: ")
            os.write(master, b"s3cret-pw\n")
            out, err = proc.communicate(timeout=20)
            err = prompt + err
            assert proc.returncode == 0, err
            assert b"Password" in err
            chat = watcher.wait_json(lambda r: r["type"] == "chat")
            assert (chat["from"], chat["text"]) == ("frog", "typed")
            assert watcher.terminate() == 0
        echoed = b""
        while select.select([master], [], [], 0)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            echoed += chunk
        assert b"s3cret-pw" not in echoed + out + err
    finally:
        os.close(master)
        os.close(slave)


def test_send_file_shows_a_progress_bar_on_a_terminal(server, home: Path, tmp_path: Path) -> None:
    source = tmp_path / "movie.bin"
    source.write_bytes(os.urandom(400_000))
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [*cli_command(), *base_args(server, "frog"), "send-file", str(source)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
            env=cli_env(home), start_new_session=True,
        )
        os.close(slave)
        slave = -1
        shown = b""
        while True:  # read the terminal until the program closes its side
            if not select.select([master], [], [], 20)[0]:
                raise TimeoutError(f"no terminal output; so far {shown!r}")
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every writer has closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        proc.communicate(timeout=20)  # also closes its stdout pipe
        assert proc.returncode == 0
        assert b"movie.bin" in shown and b"100%" in shown
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
