"""The app under Textual's pilot against a real ``chat-server`` process, with
other users through the real ``chat-cli`` (and a raw client where a test
needs a connection to break without a goodbye)."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from textual.widgets import OptionList, Select

from cli.clitools import Listener
from support import RawClient, ServerProcess

from .tuitools import (
    chat,
    cli,
    contains,
    lines,
    logged_in,
    make_app,
    next_line,
    shows,
    text_on_screen,
    type_line,
    until,
)


def test_converse_with_chat_cli_users(server_proc: ServerProcess, tui_dir: Path,
                                      home: Path) -> None:
    async def scenario() -> None:
        app = make_app(server_proc, "개구리", tui_dir)
        with Listener(server_proc, "frog", home=home) as frog:
            await next_line(frog, contains("* frog joined"))
            async with app.run_test() as pilot:  # 80x24, the smallest screen it promises
                screen = await logged_in(pilot, app)
                await next_line(frog, contains("* 개구리 joined (2 participants)"))
                await until(pilot, lambda: screen.participants.rows() == [
                    ("개구리", "active"), ("frog", "active")], "both in the list")

                # Receiving: hostile text arrives marked, its second line indented.
                await cli(server_proc, "toad", "send", "hi \x1b[31mred\x1b[0m\nline two",
                          home=home)
                await until(pilot, shows(app, "toad: hi \\e[31mred\\e[0m"), "toad's message")
                (row,) = [n for n, line in enumerate(lines(app)) if "toad:" in line]
                assert lines(app)[row + 1].startswith(" " * 6) and "line two" in lines(app)[row + 1]

                # Sending, one line and two lines.
                await type_line(pilot, "안녕 from the terminal")
                await next_line(frog, contains("<개구리> 안녕 from the terminal"))
                await type_line(pilot, "first\nsecond")
                await next_line(frog, contains("<개구리> first"))
                assert "second" in await next_line(frog, lambda line: True)

                # Direct messages: /msg, then To: for what follows.
                await type_line(pilot, "/msg frog just for you")
                await next_line(frog, contains("(direct) <개구리 -> frog> just for you"))
                await type_line(pilot, "/to frog")
                assert screen.recipient == "frog"
                await type_line(pilot, "psst")
                await next_line(frog, contains("(direct) <개구리 -> frog> psst"))
                await type_line(pilot, "/to *")
                assert screen.recipient is None

                # Up recalls what was sent, Down comes back to the draft.
                await pilot.press(*"draft")
                await pilot.press("up")
                assert screen.composer.text == "/to *"
                await pilot.press("up")
                assert screen.composer.text == "psst"
                await pilot.press("down", "down")
                assert screen.composer.text == "draft"
                screen.composer.load_text("")

                # Picking a name in the list addresses it; /quit leaves.
                await type_line(pilot, "/nonsense")
                await until(pilot, shows(app, "Unknown command: /nonsense"), "the refusal")
                await type_line(pilot, "/quit")
                await next_line(frog, contains("* 개구리 left (1 participant)"))
                await until(pilot, lambda: app.return_code is not None, "the exit")
            assert app.return_code == 0

    asyncio.run(scenario())


def test_participants_presence_and_ctrl_c(server_proc: ServerProcess, tui_dir: Path,
                                          home: Path) -> None:
    async def scenario() -> None:
        app = make_app(server_proc, "개구리", tui_dir)
        with Listener(server_proc, "frog", home=home) as frog:
            await next_line(frog, contains("* frog joined"))
            async with app.run_test(size=(100, 30)) as pilot:
                screen = await logged_in(pilot, app)
                toad = await asyncio.to_thread(RawClient.login_as, server_proc, "toad", "pw")
                await until(pilot, lambda: ("toad", "active") in screen.participants.rows(),
                            "toad in the list")
                toad.close()  # no goodbye: a broken connection
                await until(pilot, lambda: ("toad", "deactivated") in screen.participants.rows(),
                            "toad deactivated")
                await until(pilot, shows(app, "toad was deactivated (3 participants)"),
                            "the deactivation line")
                assert "3 participants" in str(screen.query_one("#count").render())
                # Ctrl+T opens To: (Everyone, frog, toad); the next one is frog.
                await pilot.press("ctrl+t")
                to = screen.query_one("#to", Select)
                await until(pilot, lambda: to.expanded, "To: open")
                await pilot.press("down", "enter")
                await until(pilot, lambda: screen.recipient == "frog", "frog chosen")
                assert screen.composer.has_focus
                # Picking a name in the list addresses the next message to it.
                names = screen.participants.query_one("#names", OptionList)
                names.focus()
                names.highlighted = screen.participants.names.index("toad")
                await pilot.press("enter")
                assert screen.recipient == "toad"
                assert screen.composer.has_focus
                await pilot.press("ctrl+c")
                await next_line(frog, contains("* 개구리 left"))
                await until(pilot, lambda: app.return_code is not None, "the exit")

    asyncio.run(scenario())


def test_files_both_ways(server_proc: ServerProcess, tui_dir: Path, home: Path) -> None:
    report = home / "report.txt"
    report.write_bytes(b"quarterly numbers\n" * 5000)
    outgoing = tui_dir / "from tui.bin"
    outgoing.write_bytes(bytes(range(256)) * 2000)

    async def scenario() -> None:
        app = make_app(server_proc, "개구리", tui_dir)
        downloads = home / "dl"
        with Listener(server_proc, "frog", "--download-dir", str(downloads), home=home) as frog:
            await next_line(frog, contains("* frog joined"))
            async with app.run_test() as pilot:
                await logged_in(pilot, app)
                await cli(server_proc, "toad", "send-file", str(report), home=home)
                await until(pilot, shows(app, "report.txt saved as"), "the download")
                saved = tui_dir / "downloads" / "report.txt"
                assert saved.read_bytes() == report.read_bytes()
                assert "toad: sent the file report.txt (87.9 KiB)" in text_on_screen(app)

                await type_line(pilot, f'/send "{outgoing}"')
                line = await next_line(frog, contains("개구리 sent the file from tui.bin"))
                assert "saved as" in line
                got = downloads / "from tui.bin"
                assert hashlib.sha256(got.read_bytes()).digest() == hashlib.sha256(
                    outgoing.read_bytes()).digest()

                await type_line(pilot, "/send /no/such/file")
                await until(pilot, shows(app, "File not sent: /no/such/file: does not exist"),
                            "the refusal")
                await until(pilot, lambda: not chat(app).transfers.bars, "no bars left")

    asyncio.run(scenario())


def test_a_wrong_password_is_one_sentence_then_the_form_logs_in(
    server_proc: ServerProcess, tui_dir: Path
) -> None:
    async def scenario() -> None:
        first = await asyncio.to_thread(RawClient.login_as, server_proc, "frog", "right")
        first.goodbye()
        app = make_app(server_proc, "frog", tui_dir, password="wrong")
        async with app.run_test() as pilot:
            status = app.screen.query_one("#login-status")
            await until(pilot, lambda: "Wrong password" in str(status.render()), "the refusal")
            password = app.screen.query_one("#password")
            password.focus()
            await pilot.press(*(["backspace"] * 5), *"right", "enter")
            await logged_in(pilot, app)

    asyncio.run(scenario())


def test_replay_at_the_next_start(server_proc: ServerProcess, tui_dir: Path,
                                  home: Path) -> None:
    async def scenario() -> None:
        first = make_app(server_proc, "개구리", tui_dir)
        async with first.run_test() as pilot:
            await logged_in(pilot, first)
            await cli(server_proc, "frog", "send", "seen before", home=home)
            await until(pilot, shows(first, "frog: seen before"), "the first message")
            await type_line(pilot, "/quit")
            await until(pilot, lambda: first.return_code is not None, "the exit")
        await cli(server_proc, "frog", "send", "missed one", home=home)
        await cli(server_proc, "frog", "send", "missed two", home=home)
        again = make_app(server_proc, "개구리", tui_dir)  # the same state file
        async with again.run_test() as pilot:
            await logged_in(pilot, again)
            await until(pilot, shows(again, "frog: missed one", "frog: missed two"), "the replay")
            assert "seen before" not in text_on_screen(again)

    asyncio.run(scenario())
