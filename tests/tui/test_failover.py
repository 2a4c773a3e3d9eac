"""Issue 18, client failover in chat-tui: a list of servers in ``--host``.

The second address serves the first's data folder once the first is
SIGKILLed (one history, one token table: a cluster's other node as the
client sees it). The title bar names the server the app moved to."""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path

import attrs
from textual.widgets import Static

from frontends.tui.screens import LoginScreen
from support import server_process

from .tuitools import chat, cli, logged_in, make_app, shows, until


@attrs.frozen
class ServerList:
    """What ``make_app`` and ``cli`` read off a server; ``host`` is the whole list."""

    host: str
    port: int = 9000
    tls: bool = False


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_app_fails_over_to_the_next_server_and_says_where(
    tmp_path: Path, tui_dir: Path, home: Path
) -> None:
    data, a_port, b_port = tmp_path / "data", closed_port(), closed_port()
    servers = ServerList(f"127.0.0.1:{a_port},127.0.0.1:{b_port}")
    app = make_app(servers, "개구리", tui_dir)

    async def scenario() -> None:
        with server_process(data, "--port", str(a_port)) as a:
            async with app.run_test() as pilot:
                screen = await logged_in(pilot, app)
                assert screen.where == f"127.0.0.1:{a_port}"
                await cli(servers, "frog", "send", "before", home=home)
                await until(pilot, shows(app, "frog: before"), "the first message")
                a.signal(signal.SIGKILL)
                a.wait()
                await until(pilot, shows(app, "Connection to the server lost"), "the loss")
                with server_process(data, "--port", str(b_port)):
                    await cli(servers, "frog", "send", "missed", home=home)
                    await until(pilot, shows(app, "Reconnected."), "the failover")
                    await until(pilot, shows(app, "frog: missed"), "the replay")
                    assert chat(app).where == f"127.0.0.1:{b_port}"
                    await app.action_leave()

    asyncio.run(scenario())


def test_a_bad_list_is_one_sentence_under_the_form(tui_dir: Path) -> None:
    app = make_app(ServerList("a,,b"), "개구리", tui_dir)

    async def scenario() -> None:
        async with app.run_test() as pilot:
            def status() -> str:
                screen = app.screen
                if not isinstance(screen, LoginScreen):
                    return ""
                return str(screen.query_one("#login-status", Static).render())

            await until(pilot, lambda: "not valid" in status(), "the refusal")
            assert "empty server" in status()

    asyncio.run(scenario())
