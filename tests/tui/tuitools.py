"""Driving chat-tui in tests: the app under Textual's pilot, and chat-cli beside it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from chatproto.session import NO_TLS, ClientTLS, PinStore
from chatproto.session.reconnect import Backoff
from cli.clitools import Listener, run_cli
from frontends.tui.app import ChatApp, Launch
from frontends.tui.screens import ChatScreen, LoginForm
from frontends.tui.widgets import Composer

#: Generous: a loaded two-core machine runs a server, chat-cli and the app.
TIMEOUT = 30.0
#: Short waits, so that a test of a comeback does not wait 15 s per attempt.
FAST_BACKOFF = Backoff(initial=0.05, factor=2.0, maximum=0.5)


def fixed_clock(timestamp_ms: int | None) -> str:
    """No clock in the frame: every line says 12:34."""
    return "12:34"


async def until(pilot: Pilot[Any], condition: Callable[[], bool], what: str,
                timeout: float = TIMEOUT) -> None:
    """Let the app run until ``condition()`` holds (checked between its turns)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout}s: {what}")
        await pilot.pause(0.02)


def make_app(server: Any, user: str, folder: Path, *, password: str = "pw",
             tls: ClientTLS | None = None, state_file: Path | None = None,
             clock: Callable[[int | None], str] = fixed_clock) -> ChatApp:
    """The app as ``chat-tui --user USER --password pw`` would start it,
    with its files (pins, downloads, the seq state) under ``folder``."""
    tls = tls if tls is not None else (
        ClientTLS(pins=PinStore(folder / "known_servers")) if server.tls else NO_TLS)
    form = LoginForm(server.host, str(server.port), user, password, tls.enabled)
    launch = Launch(form, tls, folder / "downloads", state_file or folder / "last_seq.json")
    return ChatApp(launch, clock=clock, backoff=FAST_BACKOFF)


def chat(app: ChatApp) -> ChatScreen:
    assert app.chat is not None, "not logged in"
    return app.chat


def lines(app: ChatApp) -> list[str]:
    return chat(app).transcript.plain_lines() if app.chat is not None else []


def text_on_screen(app: ChatApp) -> str:
    """The transcript as one string, wrapped lines joined again."""
    return " ".join(" ".join(line.split()) for line in lines(app))


def shows(app: ChatApp, *parts: str) -> Callable[[], bool]:
    """A condition: every part is in the transcript (whitespace-insensitive)."""
    return lambda: all(" ".join(part.split()) in text_on_screen(app) for part in parts)


async def logged_in(pilot: Pilot[Any], app: ChatApp) -> ChatScreen:
    """Wait for the chat screen, all of it: the participants shown and
    *To:* composed (an app told to exit while Textual still composes a
    Select's parts fails inside Textual)."""
    def ready() -> bool:
        screen = app.chat
        return (screen is not None and app.screen is screen and screen.ready.is_set()
                and app.link is not None and app.link.connected
                and bool(screen.participants.rows())
                and bool(screen.query("#to #label")))

    await until(pilot, ready, "the login")
    return chat(app)


#: Longer lines are put into the input whole, then Enter is pressed: the
#: pilot takes a turn of the app per key, which makes long typing slow.
TYPED_CHARS = 12


async def type_line(pilot: Pilot[Any], text: str) -> None:
    """Type ``text`` into the input and press Enter (newlines as Ctrl+J)."""
    if len(text) > TYPED_CHARS:
        composer = pilot.app.screen.query_one(Composer)
        composer.load_text(text)
        composer.move_cursor(composer.document.end)
        await pilot.press("enter")
        return
    for index, part in enumerate(text.split("\n")):
        if index:
            await pilot.press("ctrl+j")
        await pilot.press(*part)
    await pilot.press("enter")


def still_cursor(app: ChatApp) -> None:
    """No blinking cursor in a screenshot."""
    for widget in app.screen.query(Input):
        widget.cursor_blink = False
    for area in app.screen.query(TextArea):
        area.cursor_blink = False


async def cli(server: Any, user: str, *args: str, home: Path) -> str:
    """Run chat-cli (off the app's loop: the app goes on meanwhile); its stdout."""
    result = await asyncio.to_thread(run_cli, server, user, *args, home=home)
    assert result.returncode == 0, result.stderr
    return result.stdout


async def next_line(listener: Listener, matches: Callable[[str], bool]) -> str:
    return await asyncio.to_thread(listener.wait_line, matches, TIMEOUT)


def contains(*parts: str) -> Callable[[str], bool]:
    return lambda line: all(part in line for part in parts)


__all__ = [
    "FAST_BACKOFF",
    "TIMEOUT",
    "chat",
    "cli",
    "contains",
    "fixed_clock",
    "lines",
    "logged_in",
    "make_app",
    "next_line",
    "shows",
    "still_cursor",
    "text_on_screen",
    "type_line",
    "until",
]


