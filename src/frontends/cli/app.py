"""The ``chat-cli`` command group: global options and the commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .checks import (
    check_file,
    check_login,
    check_message,
    check_recipient,
    check_room,
    read_message,
)
from .commands import list_users, send_file, send_text
from .exitcodes import HELP_TEXT, ExitCode
from .listen import listen
from .options import PROG, Target, client_tls, resolve_target, run, servers_option
from .room_commands import add_room_commands


@click.group(
    help="Chat from the command line: send messages and files to a room or a user, listen, "
         f"list users and rooms, create, join and leave rooms, search.\n\n{HELP_TEXT}",
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--host", envvar="CHAT_HOST", default="localhost", show_default=True,
              help="Server host name or address, or a comma-separated list of servers "
                   "(host or host:port, [::1]:9000 for IPv6), tried in order and failed "
                   "over to when one is lost (env CHAT_HOST).")
@click.option("--port", envvar="CHAT_PORT", type=click.IntRange(1, 65535), default=9000,
              show_default=True, help="Server port (env CHAT_PORT).")
@click.option("--user", envvar="CHAT_USER", help="Your user ID (env CHAT_USER).")
@click.option("--password", envvar="CHAT_PASSWORD",
              help="Your password (env CHAT_PASSWORD; asked for, hidden, on a terminal).")
@click.option("--no-tls", is_flag=True, envvar="CHAT_NO_TLS",
              help="Plain TCP, for a server run with --no-tls: everything, the password "
                   "included, crosses the network in clear (env CHAT_NO_TLS).")
@click.option("--ca", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              envvar="CHAT_CA", metavar="FILE",
              help="Trust the server's certificate only if this CA signed it for the host "
                   "name (env CHAT_CA).")
@click.option("--fingerprint", envvar="CHAT_FINGERPRINT", metavar="SHA256",
              help="Trust the server's certificate only if it has this SHA-256 fingerprint "
                   "(from the server's log), and pin it (env CHAT_FINGERPRINT). Without "
                   "--ca or --fingerprint, the first certificate seen is pinned and a "
                   "changed one is refused.")
@click.pass_context
def cli(ctx: click.Context, host: str, port: int, user: str | None, password: str | None,
        no_tls: bool, ca: Path | None, fingerprint: str | None) -> None:
    servers_option(host, port)  # a bad list is refused before anything else
    ctx.obj = (host, port, user, password, client_tls(no_tls, ca, fingerprint))


def target_of(ctx: click.Context) -> Target:
    host, port, user, password, tls = ctx.obj
    target = resolve_target(host, port, user, password, tls)
    check_login(target.user, target.password)
    return target


def _one_target(recipient: str | None, room: str | None, code: ExitCode) -> None:
    if recipient is not None and room is not None:
        raise click.UsageError("--room and --to cannot be combined: a message goes to one room "
                               "or one user")
    check_recipient(recipient, code)
    check_room(room, code)


_ROOM_OPTION = click.option("--room", metavar="ROOM",
                            help="Send to this room (default: general).")


@cli.command(help="Send TEXT to the room general (or --room ROOM, or --to one user); exits once "
                  "the server delivered it. TEXT '-' reads the message from stdin (one final "
                  "newline dropped).")
@click.argument("text")
@_ROOM_OPTION
@click.option("--to", "recipient", metavar="USER", help="Send to this user only.")
@click.pass_context
def send(ctx: click.Context, text: str, room: str | None, recipient: str | None) -> None:
    # Everything that can be judged here is, before a password is asked for
    # and before connecting.
    if text != "-":
        check_message(text)
    _one_target(recipient, room, ExitCode.MESSAGE_REFUSED)
    target = target_of(ctx)
    if text == "-":
        text = read_message()
        check_message(text)
    run(send_text(target, text, recipient, room))


@cli.command("send-file", help="Upload PATH; exits once the server has verified the file.")
# No click.Path checks (its readability check is on unless turned off): a
# missing, unreadable or special file is one kind of mistake (exit 7), told
# the same way, by check_file.
@click.argument("path", type=click.Path(path_type=Path, readable=False))
@_ROOM_OPTION
@click.option("--to", "recipient", metavar="USER", help="Send to this user only.")
@click.pass_context
def send_file_command(
    ctx: click.Context, path: Path, room: str | None, recipient: str | None
) -> None:
    check_file(path)
    _one_target(recipient, room, ExitCode.FILE_REFUSED)
    run(send_file(target_of(ctx), path, recipient, room))


@cli.command("listen", help="Stay logged in, print one line per event, download every file. "
                             "A lost connection is reported, then logged in again (with "
                             "growing waits) and what was missed is replayed.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--download-dir", type=click.Path(path_type=Path, file_okay=False),
              default=Path("."), show_default=True, help="Where announced files are saved.")
@click.option("--no-download", is_flag=True, help="Print file announcements only.")
@click.option("--state-file", type=click.Path(path_type=Path, dir_okay=False),
              envvar="CHAT_STATE_FILE",
              help="Where the last seen message number is kept (env CHAT_STATE_FILE; "
                   "default: the user's state folder).")
@click.option("--once", is_flag=True,
              help="Exit (code 9) when the connection is lost instead of reconnecting.")
@click.pass_context
def listen_command(
    ctx: click.Context, as_json: bool, download_dir: Path, no_download: bool,
    state_file: Path | None, once: bool,
) -> None:
    run(listen(target_of(ctx), as_json, None if no_download else download_dir, state_file, once))


@cli.command(help="Print the participants (active and deactivated) and exit.")
@click.option("--json", "as_json", is_flag=True, help="A JSON list of {user, state}.")
@click.pass_context
def users(ctx: click.Context, as_json: bool) -> None:
    run(list_users(target_of(ctx), as_json))


add_room_commands(cli, target_of)


def main() -> None:
    for stream in (sys.stdout, sys.stderr):
        # A terminal that cannot show some characters gets escapes, not a crash.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    cli(prog_name=PROG)
