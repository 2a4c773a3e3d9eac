"""A killed listener comes back and prints exactly what it missed; a
terminated one leaves normally."""

from __future__ import annotations

import json
import select
import signal
import socket
import subprocess
from pathlib import Path

from support import server_process, wait_until

from .clitools import Listener, base_args, cli_command, cli_env, run_cli


def test_killed_listener_gets_what_it_missed_without_duplicates(server_proc, home: Path) -> None:
    with Listener(server_proc, "개구리", "--json", home=home) as listener:
        listener.next_json()
        assert run_cli(server_proc, "frog", "send", "before 1", home=home).returncode == 0
        assert run_cli(server_proc, "frog", "send", "before 2", home=home).returncode == 0
        listener.wait_json(lambda r: r.get("text") == "before 2")
        listener.kill()  # SIGKILL: no goodbye

    with Listener(server_proc, "watcher", "--json", home=home) as watcher:
        watcher.next_json()
        for text in ("missed 1", "missed 2\n둘째 줄", "missed 3"):
            assert run_cli(server_proc, "frog", "send", text, home=home).returncode == 0
        assert watcher.terminate() == 0
    with Listener(server_proc, "개구리", "--json", home=home) as listener:
        rejoined = listener.next_json()
        assert (rejoined["user"], rejoined["state"]) == ("개구리", "rejoined")
        assert run_cli(server_proc, "frog", "send", "live", home=home).returncode == 0
        texts = []
        while not texts or texts[-1] != "live":
            record = listener.next_json()
            if record["type"] == "chat":
                texts.append(record["text"])
        assert texts == ["missed 1", "missed 2\n둘째 줄", "missed 3", "live"]
        assert listener.terminate() == 0


def test_sigterm_and_ctrl_c_are_a_normal_leave(server, home: Path) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        with Listener(server, "개구리", home=home) as listener:
            listener.next_line()
            assert server.participants()["개구리"] == "active"
            assert listener.terminate(signum) == 0
            wait_until(lambda: "개구리" not in server.participants(), what="개구리 left")
            assert listener.stderr_after_exit() == []


def test_killed_listener_is_deactivated(server, home: Path) -> None:
    with Listener(server, "개구리", home=home) as listener:
        listener.next_line()
        listener.kill()
    wait_until(lambda: server.participants().get("개구리") == "deactivated",
               what="개구리 deactivated")


def test_a_closed_output_pipe_is_a_normal_leave(server, home: Path) -> None:
    proc = subprocess.Popen(
        [*cli_command(), *base_args(server, "개구리"), "listen"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        env=cli_env(home), cwd=home,
    )
    assert proc.stdout is not None
    assert select.select([proc.stdout], [], [], 20)[0], "no join line"
    assert b"joined" in proc.stdout.readline()
    proc.stdout.close()  # like `chat-cli listen | head -1`
    assert run_cli(server, "frog", "send", "into the void", home=home).returncode == 0
    _, errors = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert b"Traceback" not in errors and b"BrokenPipe" not in errors
    wait_until(lambda: "개구리" not in server.participants(), what="개구리 left")


def test_a_listener_meets_a_reset_server_and_prints_its_whole_history(
    tmp_path: Path, home: Path
) -> None:
    """Issue 11: the server's data folder is replaced on the same address. Its seqs
    start again below what the listener printed; the stored epoch tells them apart."""
    port = free_port()
    with (server_process(tmp_path / "old", "--port", str(port), "--flood-rate", "0") as old,
          Listener(old, "개구리", "--json", home=home) as listener):
        listener.next_json()
        for number in range(1, 4):
            assert run_cli(old, "frog", "send", f"old {number}", home=home).returncode == 0
        listener.wait_json(lambda r: r.get("text") == "old 3")
        assert listener.terminate() == 0
    with server_process(tmp_path / "new", "--port", str(port), "--flood-rate", "0") as new:
        with Listener(new, "개구리", "--json", home=home) as listener:  # registers on it
            listener.next_json()
            assert listener.terminate() == 0
            assert any("history" in line and "from the start" in line
                       for line in listener.stderr_after_exit())
        marks = json.loads((home / "state" / "lanchat" / "last_seq.json").read_text())
        assert marks[f"개구리@{new.host}:{port}"]["epoch"] != 0
        for number in range(1, 3):
            assert run_cli(new, "frog", "send", f"new {number}", home=home).returncode == 0
        with Listener(new, "개구리", "--json", home=home) as listener:
            texts: list[str] = []
            while not texts or texts[-1] != "new 2":
                texts.append(listener.wait_json(lambda r: r.get("type") == "chat")["text"])
            assert texts == ["new 1", "new 2"]  # was: nothing (seqs 1 and 2 looked old)
            assert listener.terminate() == 0
            assert not any("from the start" in line for line in listener.stderr_after_exit())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
