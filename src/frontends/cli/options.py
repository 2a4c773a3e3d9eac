"""Connection options shared by every command, and running a command."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, NoReturn

import attrs
import click

from chatproto.session import ChatError

from .exitcodes import ExitCode, exit_code_for
from .render import escape

PROG = "chat-cli"


@attrs.frozen
class Target:
    """Where to connect and as whom."""

    host: str
    port: int
    user: str
    password: str


def resolve_target(host: str, port: int, user: str | None, password: str | None) -> Target:
    """Fill in a missing password from a hidden prompt when stdin is a terminal."""
    if not user:
        raise click.UsageError("no user name: give --user or set CHAT_USER")
    if password is None:
        if not sys.stdin.isatty():
            raise click.UsageError("no password: give --password or set CHAT_PASSWORD")
        password = click.prompt("Password", hide_input=True, err=True)
    return Target(host, port, user, password)


def fail(message: str, code: ExitCode) -> NoReturn:
    # Messages may quote the server or peers: never let them drive the terminal.
    click.echo(f"{PROG}: {escape(message)}", err=True)
    sys.exit(int(code))


def run(coro: Coroutine[Any, Any, ExitCode | None]) -> NoReturn:
    """Run a command's coroutine; a ``ChatError`` becomes one line on stderr
    and its exit code, never a traceback."""
    try:
        code = asyncio.run(coro)
    except ChatError as exc:
        fail(str(exc), exit_code_for(exc))
    sys.exit(int(code or ExitCode.OK))
