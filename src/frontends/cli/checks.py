"""What can be judged wrong without a server is judged before connecting.

A blank or oversized message, a file that is missing, a directory or a pipe, a
user name, recipient or password the protocol cannot carry: each fails here,
in the user's words, with the exit code of its kind (``exitcodes.py`` has the
table), and nothing is sent. The limits are ``chatproto``'s own.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path
from typing import BinaryIO, NoReturn

import click

from chatproto.limits import (
    MAX_FILE_SIZE,
    MAX_PASSWORD_BYTES,
    MAX_TEXT_BYTES,
    username_problem,
)

from .exitcodes import ExitCode
from .options import fail

_NOT_UTF8 = "is not UTF-8 text (is the terminal or the input in another encoding?)"


def _utf8_size(text: str) -> int | None:
    """Bytes of ``text`` in UTF-8; None when it cannot be encoded (lone
    surrogates: what Python makes of argument bytes that are not UTF-8)."""
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return None


def check_message(text: str) -> None:
    if not text.strip():
        raise click.UsageError("the message is blank: there is nothing to send")
    size = _utf8_size(text)
    if size is None:
        fail(f"the message {_NOT_UTF8}", ExitCode.MESSAGE_REFUSED)
    if size > MAX_TEXT_BYTES:
        fail(f"the message is too long: {size} bytes, and a message may have at most "
             f"{MAX_TEXT_BYTES} bytes (UTF-8)", ExitCode.MESSAGE_REFUSED)


def read_message(stream: BinaryIO | None = None) -> str:
    """The message on stdin without one final newline. At most a byte more
    than a message may have is read: ``yes | chat-cli send -`` must not fill
    the memory before being refused."""
    source = stream if stream is not None else sys.stdin.buffer
    data = source.read(MAX_TEXT_BYTES + 2)  # the limit, one final newline, one too many
    if len(data) > MAX_TEXT_BYTES + 1:
        fail(f"the message on stdin is too long: more than {MAX_TEXT_BYTES} bytes, the most "
             "a message may have", ExitCode.MESSAGE_REFUSED)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        fail(f"the message on stdin is not UTF-8 text (byte {exc.start + 1} is not valid; is "
             "the input in another encoding?)", ExitCode.MESSAGE_REFUSED)
    return text.removesuffix("\n")


def check_recipient(name: str | None, code: ExitCode) -> None:
    """``--to``: a name no user can have is refused as the command's thing
    (a message, a file) would be by the server for an unknown user."""
    if name is None:
        return
    problem = username_problem(name)
    if problem is not None:
        fail(f"cannot send to {name!r}: {problem}", code)


def check_room(room: str | None, code: ExitCode) -> None:
    """``--room`` or a ROOM argument: a name no room can have (room names
    follow the user-name rules) is refused before connecting."""
    if room is None:
        return
    problem = username_problem(room)
    if problem is not None:
        fail(f"invalid room name {room!r}: {problem}", code)


def check_login(user: str, password: str) -> None:
    problem = username_problem(user)
    if problem is not None:
        fail(f"invalid user name {user!r}: {problem}", ExitCode.LOGIN_REFUSED)
    if not password:
        raise click.UsageError("the password is empty: give it with --password or CHAT_PASSWORD")
    size = _utf8_size(password)
    if size is None:
        fail(f"the password {_NOT_UTF8}", ExitCode.LOGIN_REFUSED)
    if size > MAX_PASSWORD_BYTES:
        fail(f"the password is too long: {size} bytes, and a password may have at most "
             f"{MAX_PASSWORD_BYTES} bytes (UTF-8)", ExitCode.LOGIN_REFUSED)


def _file_refused(message: str) -> NoReturn:
    fail(message, ExitCode.FILE_REFUSED)


_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


def check_file(path: Path) -> None:
    """A regular file we can read, of a size the protocol can announce.
    Only ``stat`` and an open: a named pipe is never read from (that would
    wait for a writer), a directory is never listed."""
    try:
        info = path.stat()
    except FileNotFoundError:
        _file_refused(f"{path}: does not exist")
    except OSError as exc:
        _file_refused(f"cannot read {path}: {(exc.strerror or str(exc)).lower()}")
    if stat.S_ISDIR(info.st_mode):
        _file_refused(f"{path}: is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
        _file_refused(f"{path}: is {kind}, not a regular file")
    if info.st_size > MAX_FILE_SIZE:
        _file_refused(f"{path}: is too large: {info.st_size} bytes, and a file may have at "
                      f"most {MAX_FILE_SIZE}")
    try:
        path.open("rb").close()
    except OSError as exc:
        _file_refused(f"cannot read {path}: {(exc.strerror or str(exc)).lower()}")


__all__ = [
    "check_file",
    "check_login",
    "check_message",
    "check_recipient",
    "check_room",
    "read_message",
]
