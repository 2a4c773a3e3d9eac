"""Rooms in chat-tui (/create, /join, /to #room, /rooms, /leave) against a real server,
with another member through the real ``chat-cli``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cli.clitools import Listener
from support import ServerProcess

from .tuitools import cli, contains, logged_in, make_app, next_line, shows, type_line, until


def test_a_room_from_the_terminal(server_proc: ServerProcess, tui_dir: Path,
                                  home: Path) -> None:
    async def scenario() -> None:
        app = make_app(server_proc, "개구리", tui_dir)
        with Listener(server_proc, "frog", home=home) as frog:
            await next_line(frog, contains("* frog joined"))
            async with app.run_test() as pilot:
                screen = await logged_in(pilot, app)
                await type_line(pilot, "/create dev")
                await until(pilot, shows(app, "Now writing to #dev."), "the room made")
                assert screen.recipient == "#dev"

                await cli(server_proc, "frog", "join", "dev", home=home)
                await until(pilot, shows(app, "frog joined #dev (2 members)"), "frog in dev")
                await type_line(pilot, "hello room")
                await next_line(frog, contains("#dev <개구리> hello room"))
                await cli(server_proc, "frog", "send", "--room", "dev", "hi back", home=home)
                await until(pilot, shows(app, "#dev frog: hi back"), "frog's room line")

                await type_line(pilot, "/rooms")
                await until(pilot, shows(app, "#dev (2 members, member)"), "the room list")
                await type_line(pilot, "/leave general")
                await until(pilot, shows(app, "cannot-leave-general"), "general is for good")
                # Room names are compared as the server compares them.
                await type_line(pilot, "/leave DEV")
                await until(pilot, shows(app, "You left #DEV."), "left dev, spelled DEV")
                assert screen.recipient is None
                await type_line(pilot, "/join dev")
                await until(pilot, lambda: screen.recipient == "#dev", "back in dev")
                await type_line(pilot, "/leave")
                await until(pilot, shows(app, "You left #dev."), "left dev")
                assert screen.recipient is None
                await type_line(pilot, "/join nowhere")
                await until(pilot, shows(app, "not-found"), "no such room")
                await type_line(pilot, "/quit")

    asyncio.run(scenario())
