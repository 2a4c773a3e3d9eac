"""``chat-server``: start the server from the command line.

Every option has an environment variable, ``CHAT_SERVER_`` and its name
(``CHAT_SERVER_PORT``...), listed in ``--help``. The server's variables once
were ``CHAT_PORT`` and so on, which are chat-cli's: a user who exported
``CHAT_HOST`` for the client moved the server's bind address. Those are no
longer read; one found set without its new name is a warning in the
start-up log. A start-up problem is one line on stderr and exit status 1;
SIGINT/SIGTERM stop the server cleanly (clients are told) with exit status 0.

``chat-server admin ...`` (``admin.py``) manages the accounts instead of
starting a server; the options above are the server's and do not apply to it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from .admin import admin
from .app import ChatServer, StartupError
from .config import DAY, GIB, MIB, ServerConfig, default_data_dir
from .log import log, setup_logging

EXIT_STARTUP_FAILED = 1
ENV_PREFIX = "CHAT_SERVER_"
#: What the server's variables were called before ``ENV_PREFIX``.
OLD_ENV_PREFIX = "CHAT_"

F = TypeVar("F", bound=Callable[..., Any])


def _option(*decls: str, **settings: Any) -> Callable[[F], F]:
    """``click.option`` with the environment variable named after the long
    option (``--max-file-size``: ``CHAT_SERVER_MAX_FILE_SIZE``), shown in --help."""
    long_name = next(decl for decl in decls if decl.startswith("--"))
    envvar = ENV_PREFIX + long_name[2:].replace("-", "_").upper()
    return click.option(*decls, envvar=envvar, show_envvar=True, **settings)


def old_variables(command: click.Command, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """``(old, new)`` for each old name of a server variable that is set while
    its new name is not: what the start-up log warns about."""
    found = []
    for param in command.params:
        envvar = param.envvar
        if isinstance(envvar, str) and envvar.startswith(ENV_PREFIX):
            old = OLD_ENV_PREFIX + envvar.removeprefix(ENV_PREFIX)
            if old in environ and envvar not in environ:
                found.append((old, envvar))
    return found


DEFAULT_WEB_PORT = 8080


def _given(ctx: click.Context, name: str) -> bool:
    """Whether the option was set on the command line or by its variable."""
    return ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT


async def _run(config: ServerConfig) -> None:
    server = ChatServer(config)
    # Handlers first: a signal that arrives while the server starts (SIGINT is
    # ignored in a background job, SIGTERM would kill it unannounced) stops it
    # cleanly as soon as it has started.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await server.start()
    await stop.wait()
    await server.stop()


@click.group(
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Each option can also be set by the environment variable shown with it "
    f"({ENV_PREFIX}<OPTION>); the command line wins. {OLD_ENV_PREFIX}HOST, "
    f"{OLD_ENV_PREFIX}PORT and the other {OLD_ENV_PREFIX}* names are chat-cli's: "
    "the server does not read them.",
)
@_option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@_option("--port", type=click.IntRange(0, 65535), default=9000, show_default=True,
         help="TCP port (0 picks a free one).")
@_option("--data-dir", type=click.Path(path_type=Path), default=None,
         help="Folder of the database and stored files "
         "[default: $XDG_DATA_HOME/lanchat or ~/.local/share/lanchat].")
@_option("--log-level", default="INFO", show_default=True,
         type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
         help="How much the log says.")
@_option("--heartbeat-interval", type=float, default=15.0, show_default=True,
         help="Seconds of silence before a ping.")
@_option("--heartbeat-timeout", type=float, default=45.0, show_default=True,
         help="Seconds without a sign of life before a user is deactivated.")
@_option("--login-timeout", type=float, default=10.0, show_default=True,
         help="Seconds a new connection has to log in.")
@_option("--max-file-size", type=click.IntRange(1), default=GIB, show_default=True,
         help="Largest upload, in bytes.")
@_option("--max-connections", type=click.IntRange(1), default=1000, show_default=True,
         help="Open connections at most.")
@_option("--max-connections-per-address", type=click.IntRange(1), default=64,
         show_default=True, help="Open connections at most from one address.")
@_option("--output-buffer-limit", type=click.IntRange(1), default=4 * MIB, show_default=True,
         help="Bytes of unsent output after which a client that does not read is dropped.")
@_option("--deactivated-grace", type=float, default=None,
         help="Seconds after which a deactivated user counts as left [default: never].")
@_option("--max-deactivated", type=click.IntRange(1), default=1000, show_default=True,
         help="Deactivated users kept as participants; past it the one deactivated "
         "longest leaves.")
@_option("--max-registrations-per-address", type=click.IntRange(1), default=50,
         show_default=True,
         help="New accounts one address may register per --registration-window.")
@_option("--registration-window", type=click.FloatRange(min=0, min_open=True), default=3600.0,
         show_default=True, help="Seconds over which registrations per address are counted.")
@_option("--flood-rate", type=click.FloatRange(0), default=20.0, show_default=True,
         help="Chat messages a second per user (0: no limit).")
@_option("--flood-burst", type=click.IntRange(1), default=50, show_default=True,
         help="Chat messages a user may send at once.")
@_option("--resume-token-lifetime", type=click.FloatRange(min=0), default=30 * DAY,
         show_default=True,
         help="Seconds a resume token (a reconnect without the password) stays valid; "
         "0 issues none.")
@_option("--max-rooms-per-user", type=click.IntRange(1), default=100, show_default=True,
         help="Rooms besides general that one user may be a member of.")
@_option("--max-members-per-room", type=click.IntRange(1), default=10_000, show_default=True,
         help="Members one room may have.")
@_option("--max-private-rooms-per-creator", type=click.IntRange(1), default=20,
         show_default=True, help="Private rooms one user may create.")
@_option("--no-tls", "no_tls", is_flag=True, default=False,
         help="Serve plain TCP (tests, trusted loopback): passwords cross in clear.")
@_option("--tls-cert", type=click.Path(path_type=Path), default=None,
         help="PEM certificate to serve instead of the self-signed one.")
@_option("--tls-key", type=click.Path(path_type=Path), default=None,
         help="PEM private key of --tls-cert.")
@_option("--web-port", type=click.IntRange(0, 65535), default=DEFAULT_WEB_PORT,
         show_default=True,
         help="Port of the browser client (HTTPS, or HTTP with --no-tls; 0 picks a free one). "
         "If the default port is taken the server starts without it.")
@_option("--no-web", "no_web", is_flag=True, default=False,
         help="Serve no browser client.")
@_option("--upload-token-lifetime", type=click.FloatRange(min=0, min_open=True), default=60.0,
         show_default=True,
         help="Seconds a browser upload's token lasts after its issue or its last byte.")
@_option("--store", "store", default=None, metavar="postgresql://...",
         help="Cluster mode: keep accounts, history, rooms and files in this PostgreSQL "
         "database (with --bus) [default: SQLite in --data-dir].")
@_option("--bus", "bus", default=None, metavar="redis://...",
         help="Cluster mode: reach the other nodes and keep presence through this Redis "
         "(with --store).")
@_option("--bus-prefix", default="lanchat:", show_default=True,
         help="Prefix of this cluster's Redis keys and channels.")
@_option("--node-name", default=None,
         help="This node's name in the logs [default: the host name].")
@_option("--lease-time", type=click.FloatRange(min=0, min_open=True), default=5.0,
         show_default=True,
         help="Seconds after which a node that stopped renewing its lease counts as dead: "
         "a survivor deactivates its users.")
def main(
    host: str,
    port: int,
    data_dir: Path | None,
    log_level: str,
    heartbeat_interval: float,
    heartbeat_timeout: float,
    login_timeout: float,
    max_file_size: int,
    max_connections: int,
    max_connections_per_address: int,
    output_buffer_limit: int,
    deactivated_grace: float | None,
    max_deactivated: int,
    max_registrations_per_address: int,
    registration_window: float,
    flood_rate: float,
    flood_burst: int,
    resume_token_lifetime: float,
    max_rooms_per_user: int,
    max_members_per_room: int,
    max_private_rooms_per_creator: int,
    no_tls: bool,
    tls_cert: Path | None,
    tls_key: Path | None,
    web_port: int,
    no_web: bool,
    upload_token_lifetime: float,
    store: str | None,
    bus: str | None,
    bus_prefix: str,
    node_name: str | None,
    lease_time: float,
) -> None:
    """Run the LAN chat server; with the admin command, manage its accounts."""
    if click.get_current_context().invoked_subcommand is not None:
        return  # ``admin``: its own options; these only start a server
    try:
        config = ServerConfig(
            host=host,
            port=port,
            data_dir=data_dir or default_data_dir(),
            log_level=log_level.upper(),
            heartbeat_interval=heartbeat_interval,
            heartbeat_timeout=heartbeat_timeout,
            login_timeout=login_timeout,
            max_file_size=max_file_size,
            max_connections=max_connections,
            max_connections_per_address=max_connections_per_address,
            output_buffer_limit=output_buffer_limit,
            deactivated_grace=deactivated_grace,
            max_deactivated=max_deactivated,
            max_registrations_per_address=max_registrations_per_address,
            registration_window=registration_window,
            flood_rate=flood_rate,
            flood_burst=flood_burst,
            resume_token_lifetime=resume_token_lifetime,
            max_rooms_per_user=max_rooms_per_user,
            max_members_per_room=max_members_per_room,
            max_private_rooms_per_creator=max_private_rooms_per_creator,
            tls=not no_tls,
            tls_cert=tls_cert,
            tls_key=tls_key,
            web_port=None if no_web else web_port,
            web_port_required=_given(click.get_current_context(), "web_port"),
            upload_token_lifetime=upload_token_lifetime,
            store_url=store or None,
            bus_url=bus or None,
            bus_prefix=bus_prefix,
            node_name=node_name,
            lease_time=lease_time,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    setup_logging(config.log_level)
    for old, new in old_variables(click.get_current_context().command, os.environ):
        log.warning("%s is set but not applied: the server's variables are %s* now (%s* "
                    "ones are chat-cli's); set %s instead", old, ENV_PREFIX, OLD_ENV_PREFIX, new)
    try:
        asyncio.run(_run(config))
    except StartupError as exc:
        click.echo(f"chat-server: error: {exc}", err=True)
        sys.exit(EXIT_STARTUP_FAILED)
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        pass


main.add_command(admin)
