"""The ``chat-tui`` command: chat-cli's connection options, then the app."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from chatproto.limits import username_problem

from ..cli.app import cli as _chat_cli
from ..cli.options import client_tls
from .app import ChatApp, Launch
from .downloads import download_folder
from .screens import LoginForm

PROG = "chat-tui"

#: chat-cli's global options, the very same objects (names, env variables,
#: checks and help): the two clients cannot drift apart.
SHARED_OPTIONS = ("host", "port", "user", "password", "no_tls", "ca", "fingerprint")


def _shared_options() -> list[click.Parameter]:
    by_name = {param.name: param for param in _chat_cli.params}
    return [by_name[option] for option in SHARED_OPTIONS]


@click.command(
    help="Chat in the terminal: transcript, participants, messages, files. Without "
         "--user or --password (or CHAT_USER, CHAT_PASSWORD) the login form asks, the "
         "password hidden. The first certificate of a server no CA vouches for is shown "
         "and trusted only if you say so; a changed one is refused.",
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--download-dir", type=click.Path(path_type=Path, file_okay=False),
              envvar="CHAT_DOWNLOAD_DIR",
              help="Where received files are saved (env CHAT_DOWNLOAD_DIR; default: "
                   "~/Downloads, or your home folder).")
@click.option("--state-file", type=click.Path(path_type=Path, dir_okay=False),
              envvar="CHAT_STATE_FILE",
              help="Where the last message seen is kept, for the replay at the next start "
                   "(env CHAT_STATE_FILE; default: the user's state folder, as chat-cli).")
def tui(host: str, port: int, user: str | None, password: str | None, no_tls: bool,
        ca: Path | None, fingerprint: str | None, download_dir: Path | None,
        state_file: Path | None) -> None:
    tls = client_tls(no_tls, ca, fingerprint)
    if user:
        problem = username_problem(user)
        if problem is not None:
            raise click.BadParameter(f"{user!r}: {problem}", param_hint="'--user'")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise click.UsageError("chat-tui needs a terminal (for scripts: chat-cli)")
    form = LoginForm(host, str(port), user or "", password or "", tls.enabled)
    launch = Launch(form, tls, download_folder(download_dir), state_file)
    code = ChatApp(launch).run()
    sys.exit(int(code or 0))


tui.params[:0] = _shared_options()


def main() -> None:
    tui(prog_name=PROG)


__all__ = ["PROG", "SHARED_OPTIONS", "main", "tui"]
