"""``send``, ``send-file`` and ``users`` log in transiently (issue 14): no presence of their
own, and they work while the same user listens in another terminal.

Absence is shown by order: the listener prints what it receives in the server's order, so
a joined or left of the command's user would come before the next record checked here.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from frontends.cli import ExitCode

from .clitools import Listener, run_cli


def test_send_file_while_the_same_user_listens(server_proc, home: Path, tmp_path: Path) -> None:
    source = tmp_path / "보고서.bin"
    source.write_bytes(os.urandom(200_000))
    downloads = tmp_path / "downloads"
    with Listener(server_proc, "frog", "--json", "--download-dir", str(downloads),
                  home=home) as listener:
        own = listener.next_json()
        assert (own["type"], own["user"], own["state"]) == ("presence", "frog", "joined")
        sent = run_cli(server_proc, "frog", "send-file", str(source), home=home)
        assert sent.returncode == 0, sent.stderr
        record = listener.next_json()  # the file itself, no presence before it
        assert (record["type"], record["from"], record["name"]) == ("file", "frog", source.name)
        assert record["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
        said = run_cli(server_proc, "frog", "send", "and a word", home=home)
        assert said.returncode == 0, said.stderr
        nxt = listener.next_json()  # no "frog left" after the upload either
        assert (nxt["type"], nxt["from"], nxt["text"]) == ("chat", "frog", "and a word")
        listed = run_cli(server_proc, "frog", "users", "--json", home=home)
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout) == [{"user": "frog", "state": "active"}]
        assert listener.terminate() == 0


def test_users_does_not_count_the_caller(server_proc, home: Path) -> None:
    listed = run_cli(server_proc, "nobody-here", "users", home=home)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == ["0 participants"]
    wrong = run_cli(server_proc, "nobody-here", "users", home=home, password="wrong")
    assert wrong.returncode == ExitCode.BAD_PASSWORD  # the first call registered the name
