"""The bot from docs/client.md (examples/time_bot.py) answers !time for real,
over TLS: the session's default (trust on first use) with no option given."""

from __future__ import annotations

import asyncio
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from chatproto import ChatMessage
from chatproto.session import AsyncSession, ClientTLS, PinStore
from support import server_process

from .clitools import TIMEOUT, Listener, cli_env, config_dir, run_cli

BOT = Path(__file__).resolve().parents[2] / "examples" / "time_bot.py"


async def ask_privately(server: Any, home: Path) -> str | None:
    pins = PinStore(config_dir(home) / "known_servers")  # pinned by the bot and chat-cli
    async with await AsyncSession.connect(server.host, server.port, "toad", "pw",
                                          tls=ClientTLS(pins=pins)) as toad:
        await toad.send_chat("!time", to="timebot")
        while True:
            event = await asyncio.wait_for(toad.next_event(), 10)
            if isinstance(event, ChatMessage) and event.sender == "timebot":
                return event.recipient


#: Starts the bot the way a background job (`bash .ci/run &`) does: SIGINT ignored.
SIGINT_IGNORED = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


@pytest.mark.parametrize(
    ("signum", "sigint_ignored"),
    [(signal.SIGTERM, False), (signal.SIGINT, False), (signal.SIGINT, True)],
    ids=["SIGTERM", "SIGINT", "SIGINT-ignored-at-start"],
)
def test_time_bot_answers(
    tmp_path: Path, home: Path, signum: signal.Signals, sigint_ignored: bool
) -> None:
    with server_process(tmp_path / "data", "--flood-rate", "0", tls=True) as server:
        _time_bot_answers(server, home, signum, sigint_ignored)


def _first_line(proc: subprocess.Popen[str], timeout: float = TIMEOUT) -> str:
    """The first stdout line of ``proc``, or a clear failure instead of a hang."""
    stdout = proc.stdout
    assert stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(f"the bot printed nothing within {timeout} s") from None


def _time_bot_answers(
    server_proc: Any, home: Path, signum: signal.Signals, sigint_ignored: bool
) -> None:
    # stdin closed, as for a bot under systemd or in a CI job.
    launcher = [sys.executable, "-c", SIGINT_IGNORED] if sigint_ignored else [sys.executable]
    bot = subprocess.Popen(
        [*launcher, str(BOT), server_proc.host, str(server_proc.port), "timebot", "pw"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=cli_env(home),
    )
    try:
        assert _first_line(bot).strip() == "timebot is answering !time"
        with Listener(server_proc, "watcher", "--json", home=home, tls=()) as watcher:
            watcher.next_json()
            sent = run_cli(server_proc, "frog", "send", "!time", home=home, tls=())
            assert sent.returncode == 0 and "pinned" not in sent.stderr  # the bot pinned it
            reply = watcher.wait_json(lambda r: r["type"] == "chat" and r["from"] == "timebot")
            assert re.fullmatch(r"It is \d\d:\d\d:\d\d\.", reply["text"])
            assert reply["to"] is None
            assert asyncio.run(ask_privately(server_proc, home)) == "toad"

            bot.send_signal(signum)
            _, errors = bot.communicate(timeout=TIMEOUT)
            assert bot.returncode == 0, errors
            assert "Traceback" not in errors
            # A goodbye, not a dropped connection: "left", never "deactivated".
            gone = watcher.wait_json(lambda r: r["type"] == "presence" and r["user"] == "timebot")
            assert gone["state"] == "left", gone
            assert watcher.terminate() == 0
    finally:
        if bot.poll() is None:
            bot.kill()
        bot.communicate(timeout=TIMEOUT)  # reaps it and closes its pipes


def test_the_documented_bot_is_the_tested_bot() -> None:
    code = BOT.read_text(encoding="utf-8")
    body = code.split("\n", 2)[2].lstrip("\n")  # without the docstring line
    guide = (BOT.parents[1] / "docs" / "client.md").read_text(encoding="utf-8")
    assert f"```python\n{body}```" in guide


def test_the_bot_reports_an_unreachable_server_in_one_line(home: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = subprocess.run([sys.executable, str(BOT), "127.0.0.1", str(port), "timebot", "pw"],
                            capture_output=True, text=True, env=cli_env(home), timeout=20)
    assert result.returncode == 1
    assert result.stderr.startswith("time bot: cannot reach") and result.stderr.count("\n") == 1
