"""Connection options shared by every command, and running a command."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, NoReturn

import attrs
import click

from chatproto.session import (
    ChatError,
    ClientTLS,
    PeerTrust,
    ServerAddress,
    ServerListError,
    TrustMode,
    parse_servers,
)

from .exitcodes import ExitCode, exit_code_for
from .render import escape

PROG = "chat-cli"


@attrs.frozen
class Target:
    """Where to connect and as whom. ``servers``: the list ``--host`` gave,
    tried in order (empty: ``host`` and ``port`` alone); ``host`` and
    ``port`` are its first, under which the last seen seq is kept."""

    host: str
    port: int
    user: str
    password: str
    tls: ClientTLS = attrs.field(factory=ClientTLS)
    servers: tuple[ServerAddress, ...] = ()

    @property
    def server_list(self) -> tuple[ServerAddress, ...]:
        return self.servers or (ServerAddress(self.host, self.port),)


def servers_option(host: str, port: int) -> tuple[ServerAddress, ...]:
    """``--host`` (one server or a comma-separated list) read with ``--port``
    as the default port; a bad list is a usage error of one line."""
    try:
        return parse_servers(host, port)
    except ServerListError as exc:
        raise click.BadParameter(str(exc), param_hint="'--host' / CHAT_HOST") from None


def client_tls(no_tls: bool, ca: Path | None, fingerprint: str | None) -> ClientTLS:
    """The TLS settings from ``--no-tls``, ``--ca`` and ``--fingerprint``."""
    if no_tls:
        if ca is not None or fingerprint:
            raise click.UsageError("--no-tls cannot be combined with --ca or --fingerprint")
        return ClientTLS(enabled=False)
    try:
        return ClientTLS(ca_file=ca, fingerprint=fingerprint or None)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--fingerprint'") from None


def report_trust(trust: PeerTrust) -> None:
    """Say on stderr when a certificate was pinned just now: chat-cli accepts
    a first contact unasked (it often runs unattended), so the fingerprint must
    at least be on record for comparing with the server's log."""
    if trust.mode is TrustMode.NEW_PIN:
        click.echo(f"{PROG}: {escape(trust.describe())}", err=True)


def resolve_target(
    host: str, port: int, user: str | None, password: str | None, tls: ClientTLS
) -> Target:
    servers = servers_option(host, port)
    return _with_password(servers[0].host, servers[0].port, user, password, tls, servers)


def _with_password(
    host: str, port: int, user: str | None, password: str | None, tls: ClientTLS,
    servers: tuple[ServerAddress, ...],
) -> Target:
    """Fill in a missing password from a hidden prompt when stdin is a terminal."""
    if not user:
        raise click.UsageError("no user name: give --user or set CHAT_USER")
    if password is None:
        if not sys.stdin.isatty():
            raise click.UsageError("no password: give --password or set CHAT_PASSWORD")
        password = click.prompt("Password", hide_input=True, err=True)
    return Target(host, port, user, password, tls, servers)


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
