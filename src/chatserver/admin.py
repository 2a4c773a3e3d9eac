"""``chat-server admin``: accounts, on the data dir's database, while the server runs.

Each command is one transaction on a connection of its own (``admin_store``);
a running server notices the change within a second (``account_watch``).
Nothing here ever prints a password or a hash. Expected failures are one
line on stderr with an exit code of their own (``AdminExit``).
"""

from __future__ import annotations

import getpass
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from chatproto.limits import MAX_PASSWORD_BYTES

from .accounts import hash_password
from .admin_store import AdminStore, AdminStoreError, NoSuchUser
from .config import DAY, ServerConfig, default_data_dir
from .log import peer_quoted, peer_text

#: The server's database file in its data dir (``app.DATABASE_NAME``; not
#: imported from there so the tool does not load the whole server).
DATABASE_NAME = "chat.sqlite3"
PROG = "chat-server admin"
#: New hashes cost what a registration's do.
SCRYPT_N: int = ServerConfig().scrypt_n
#: A hold past year 100,000: what "inf" becomes.
MAX_HOLD_MS = 2**61


class AdminExit(IntEnum):
    OK = 0
    USAGE = 2  # click's own code; also an empty, too long or mistyped password
    NO_SUCH_USER = 3
    DATABASE = 4  # missing data dir or database, locked, unknown schema


EXIT_HELP = """\b
Exit codes:
  0  success (also: nothing to change, e.g. enabling an enabled user)
  2  usage error (bad option, empty or too long password, the two
     passwords typed differ, no terminal to ask on)
  3  no such user
  4  the database cannot be used (no data dir, no database, locked,
     unknown schema version)"""

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: AdminExit) -> NoReturn:
    click.echo(f"{PROG}: {peer_text(message)}", err=True)
    sys.exit(int(code))


def _data_dir_option(func: F) -> F:
    return click.option(
        "--data-dir", type=click.Path(path_type=Path), default=None,
        envvar="CHAT_SERVER_DATA_DIR", show_envvar=True,
        help="The server's data folder "
        "[default: $XDG_DATA_HOME/lanchat or ~/.local/share/lanchat].",
    )(func)


def _open(data_dir: Path | None) -> AdminStore:
    try:
        return AdminStore((data_dir or default_data_dir()) / DATABASE_NAME)
    except AdminStoreError as exc:
        fail(str(exc), AdminExit.DATABASE)


def _account(store: AdminStore, name: str) -> str:
    try:
        return store.find(name)
    except NoSuchUser:
        fail(f"no such user {peer_quoted(name)}", AdminExit.NO_SUCH_USER)
    except AdminStoreError as exc:
        fail(str(exc), AdminExit.DATABASE)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@click.group(epilog=EXIT_HELP, context_settings={"help_option_names": ["-h", "--help"]})
def admin() -> None:
    """Manage accounts; works while the server runs (it notices within a second)."""


@admin.command("list-users", epilog=EXIT_HELP)
@_data_dir_option
@click.option("--json", "as_json", is_flag=True,
              help="One JSON array of {name, created_ms, created, disabled}.")
def list_users(data_dir: Path | None, as_json: bool) -> None:
    """Every account, oldest first: name, creation time (UTC), disabled."""
    with _open(data_dir) as store:
        try:
            users = store.users()
        except AdminStoreError as exc:
            fail(str(exc), AdminExit.DATABASE)
    if as_json:
        click.echo(json.dumps(
            [{"name": u.name, "created_ms": u.created_ms, "created": _when(u.created_ms),
              "disabled": u.disabled} for u in users],
            ensure_ascii=False,
        ))
        return
    width = max((len(peer_text(u.name)) for u in users), default=4)
    for user in users:
        state = "  disabled" if user.disabled else ""
        click.echo(f"{peer_text(user.name):<{width}}  {_when(user.created_ms)}{state}")


def _password_from_stdin() -> str:
    raw = sys.stdin.buffer.readline()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        fail("the password on stdin is not UTF-8 text", AdminExit.USAGE)
    return text.removesuffix("\n").removesuffix("\r")


def _password_from_terminal(name: str) -> str:
    if not sys.stdin.isatty():
        fail("no terminal to ask the new password on: give it with --password-stdin",
             AdminExit.USAGE)
    try:
        first = getpass.getpass(f"New password for {peer_text(name)}: ")
        second = getpass.getpass("The same again: ")
    except (EOFError, KeyboardInterrupt):
        click.echo(err=True)
        fail("no password given: nothing changed", AdminExit.USAGE)
    if first != second:
        fail("the two passwords differ: nothing changed", AdminExit.USAGE)
    return first


def _check_password(password: str) -> None:
    if not password:
        fail("the password is empty: nothing changed", AdminExit.USAGE)
    size = len(password.encode("utf-8", "surrogatepass"))
    if size > MAX_PASSWORD_BYTES:
        fail(f"the password is too long: {size} bytes, and a password may have at most "
             f"{MAX_PASSWORD_BYTES} bytes (UTF-8): nothing changed", AdminExit.USAGE)


@admin.command("reset-password", epilog=EXIT_HELP)
@_data_dir_option
@click.option("--password-stdin", is_flag=True,
              help="Read the new password from the first line of stdin instead of asking.")
@click.argument("user")
def reset_password(data_dir: Path | None, password_stdin: bool, user: str) -> None:
    """Give USER a new password (asked twice, hidden) and revoke their resume
    tokens: it takes effect at their next login; live sessions stay."""
    with _open(data_dir) as store:
        name = _account(store, user)
        password = _password_from_stdin() if password_stdin else _password_from_terminal(name)
        _check_password(password)
        hashed = hash_password(password, SCRYPT_N)
        try:
            store.set_password_hash(name, hashed)
        except AdminStoreError as exc:
            fail(str(exc), AdminExit.DATABASE)
    click.echo(f"{peer_text(name)}: password changed and resume tokens revoked "
               "(takes effect at the next login)")


def _set_disabled(data_dir: Path | None, user: str, disabled: bool) -> None:
    with _open(data_dir) as store:
        name = _account(store, user)
        try:
            changed = store.set_disabled(name, disabled)
        except AdminStoreError as exc:
            fail(str(exc), AdminExit.DATABASE)
    shown = peer_text(name)
    if not changed:
        click.echo(f"{shown} was {'disabled' if disabled else 'enabled'} already")
    elif disabled:
        click.echo(f"{shown} disabled: a running server ends their sessions and refuses "
                   "their logins")
    else:
        click.echo(f"{shown} enabled: they may log in again")


@admin.command(epilog=EXIT_HELP)
@_data_dir_option
@click.argument("user")
def disable(data_dir: Path | None, user: str) -> None:
    """Refuse USER's logins and end their live sessions (resume tokens revoked)."""
    _set_disabled(data_dir, user, True)


@admin.command(epilog=EXIT_HELP)
@_data_dir_option
@click.argument("user")
def enable(data_dir: Path | None, user: str) -> None:
    """Let a disabled USER log in again (with their password)."""
    _set_disabled(data_dir, user, False)


@admin.command("delete-user", epilog=EXIT_HELP)
@_data_dir_option
@click.option("--deleted-name-hold", type=click.FloatRange(min=0), default=30 * DAY,
              show_default=True, envvar="CHAT_SERVER_DELETED_NAME_HOLD", show_envvar=True,
              help="Seconds before the name may be registered again.")
@click.argument("user")
def delete_user(data_dir: Path | None, deleted_name_hold: float, user: str) -> None:
    """Delete USER's account, password and memberships. Their messages stay,
    shown as from a new name deleted-<n>; their own name is held back for
    --deleted-name-hold seconds."""
    if deleted_name_hold != deleted_name_hold:  # NaN passes FloatRange
        raise click.BadParameter("not a number", param_hint="--deleted-name-hold")
    with _open(data_dir) as store:
        name = _account(store, user)
        now = time.time_ns() // 1_000_000
        # "inf" is a hold for good, in effect: clamped into SQLite's integers.
        hold_ms = int(min(deleted_name_hold * 1000, MAX_HOLD_MS))
        try:
            done = store.delete(name, now, hold_ms)
        except AdminStoreError as exc:
            fail(str(exc), AdminExit.DATABASE)
    click.echo(f"{peer_text(name)} deleted: their history shows {done.tombstone}; "
               f"the name is held until {_when(done.held_until_ms)}")
