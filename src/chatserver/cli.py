"""``chat-server``: start the server from the command line.

Every option has an environment variable (``CHAT_PORT``...). A start-up
problem is one line on stderr and exit status 1; SIGINT/SIGTERM stop the
server cleanly (clients are told) with exit status 0.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import click

from .app import ChatServer, StartupError
from .config import DAY, GIB, MIB, ServerConfig, default_data_dir
from .log import setup_logging

EXIT_STARTUP_FAILED = 1


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


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--host", envvar="CHAT_HOST", default="0.0.0.0", show_default=True,
              help="Address to listen on.")
@click.option("--port", envvar="CHAT_PORT", type=click.IntRange(0, 65535), default=9000,
              show_default=True, help="TCP port (0 picks a free one).")
@click.option("--data-dir", envvar="CHAT_DATA_DIR", type=click.Path(path_type=Path),
              default=None, help="Folder of the database and stored files "
              "[default: $XDG_DATA_HOME/lanchat or ~/.local/share/lanchat].")
@click.option("--log-level", envvar="CHAT_LOG_LEVEL", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              help="How much the log says.")
@click.option("--heartbeat-interval", envvar="CHAT_HEARTBEAT_INTERVAL", type=float,
              default=15.0, show_default=True, help="Seconds of silence before a ping.")
@click.option("--heartbeat-timeout", envvar="CHAT_HEARTBEAT_TIMEOUT", type=float,
              default=45.0, show_default=True,
              help="Seconds without a sign of life before a user is deactivated.")
@click.option("--login-timeout", envvar="CHAT_LOGIN_TIMEOUT", type=float, default=10.0,
              show_default=True, help="Seconds a new connection has to log in.")
@click.option("--max-file-size", envvar="CHAT_MAX_FILE_SIZE", type=click.IntRange(1),
              default=GIB, show_default=True, help="Largest upload, in bytes.")
@click.option("--max-connections", envvar="CHAT_MAX_CONNECTIONS", type=click.IntRange(1),
              default=1000, show_default=True, help="Open connections at most.")
@click.option("--max-connections-per-address", envvar="CHAT_MAX_CONNECTIONS_PER_ADDRESS",
              type=click.IntRange(1), default=64, show_default=True,
              help="Open connections at most from one address.")
@click.option("--output-buffer-limit", envvar="CHAT_OUTPUT_BUFFER_LIMIT",
              type=click.IntRange(1), default=4 * MIB, show_default=True,
              help="Bytes of unsent output after which a client that does not read is dropped.")
@click.option("--deactivated-grace", envvar="CHAT_DEACTIVATED_GRACE", type=float,
              default=None, help="Seconds after which a deactivated user counts as left "
              "[default: never].")
@click.option("--max-deactivated", envvar="CHAT_MAX_DEACTIVATED", type=click.IntRange(1),
              default=1000, show_default=True,
              help="Deactivated users kept as participants; past it the one deactivated "
              "longest leaves.")
@click.option("--max-registrations-per-address", envvar="CHAT_MAX_REGISTRATIONS_PER_ADDRESS",
              type=click.IntRange(1), default=50, show_default=True,
              help="New accounts one address may register per --registration-window.")
@click.option("--registration-window", envvar="CHAT_REGISTRATION_WINDOW",
              type=click.FloatRange(min=0, min_open=True), default=3600.0, show_default=True,
              help="Seconds over which registrations per address are counted.")
@click.option("--flood-rate", envvar="CHAT_FLOOD_RATE", type=click.FloatRange(0), default=20.0,
              show_default=True, help="Chat messages a second per user (0: no limit).")
@click.option("--flood-burst", envvar="CHAT_FLOOD_BURST", type=click.IntRange(1), default=50,
              show_default=True, help="Chat messages a user may send at once.")
@click.option("--resume-token-lifetime", envvar="CHAT_RESUME_TOKEN_LIFETIME",
              type=click.FloatRange(min=0), default=30 * DAY, show_default=True,
              help="Seconds a resume token (a reconnect without the password) stays "
              "valid; 0 issues none.")
@click.option("--no-tls", "no_tls", envvar="CHAT_NO_TLS", is_flag=True, default=False,
              help="Serve plain TCP (tests, trusted loopback): passwords cross in clear.")
@click.option("--tls-cert", envvar="CHAT_TLS_CERT", type=click.Path(path_type=Path),
              default=None, help="PEM certificate to serve instead of the self-signed one.")
@click.option("--tls-key", envvar="CHAT_TLS_KEY", type=click.Path(path_type=Path),
              default=None, help="PEM private key of --tls-cert.")
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
    no_tls: bool,
    tls_cert: Path | None,
    tls_key: Path | None,
) -> None:
    """Run the LAN chat server."""
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
            tls=not no_tls,
            tls_cert=tls_cert,
            tls_key=tls_key,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    setup_logging(config.log_level)
    try:
        asyncio.run(_run(config))
    except StartupError as exc:
        click.echo(f"chat-server: error: {exc}", err=True)
        sys.exit(EXIT_STARTUP_FAILED)
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        pass
