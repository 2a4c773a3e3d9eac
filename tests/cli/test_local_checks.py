"""Issue 14, item 2: mistakes that need no server fail before connecting, one
exit code per kind, in the user's words.

Every command here points at a port where nothing listens: had chat-cli
tried to connect first, it would say "cannot reach" (exit 3) instead."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from chatproto.limits import MAX_PASSWORD_BYTES, MAX_TEXT_BYTES
from frontends.cli import ExitCode

from .clitools import TIMEOUT, base_args, cli_command, cli_env

#: Words of the protocol's insides that a user should never have to read.
INTERNALS = ("SendChat", "FileOffer", "Login", "surrogate", "the limit is", "Traceback")


class Nowhere:
    host = "127.0.0.1"

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])  # closed again: nothing listens


def run(home: Path, *args: str | bytes, user: str | None = "frog", password: str | None = "pw",
        stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*cli_command(), *base_args(Nowhere(), user, password), *args],
        input=stdin, stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True, env=cli_env(home), cwd=home, timeout=TIMEOUT,
    )
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
    )


def refused(result: subprocess.CompletedProcess[str], code: ExitCode, *words: str) -> str:
    """The one stderr line of a local refusal with ``code``, naming ``words``."""
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("chat-cli: ")
    assert "cannot reach" not in lines[0], "it connected first"
    for word in INTERNALS:
        assert word not in lines[0], lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def usage_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == ExitCode.USAGE, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and "cannot reach" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


# -- files: one code (7) whatever is wrong with the path ---------------------------------


def test_a_missing_file_a_directory_and_a_pipe_are_all_file_refusals(
    home: Path, tmp_path: Path
) -> None:
    refused(run(home, "send-file", str(tmp_path / "missing.txt")), ExitCode.FILE_REFUSED,
            "missing.txt", "does not exist")
    folder = tmp_path / "a folder"
    folder.mkdir()
    refused(run(home, "send-file", str(folder)), ExitCode.FILE_REFUSED,
            "a folder", "is a directory")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    # A pipe is never opened: that would wait for a writer that never comes.
    refused(run(home, "send-file", str(fifo)), ExitCode.FILE_REFUSED, "named pipe")
    refused(run(home, "send-file", str(tmp_path / "missing" / "deeper.txt")),
            ExitCode.FILE_REFUSED, "does not exist")


def test_an_unreadable_file_is_a_file_refusal(home: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("no")
    secret.chmod(0)
    command = [*cli_command(), *base_args(Nowhere(), "frog", "pw"), "send-file", str(secret)]
    if os.geteuid() == 0:
        # Root reads every file: run chat-cli as root without the capabilities
        # that bypass file permissions, so the mode-0 file is unreadable to it.
        setpriv = shutil.which("setpriv")
        assert setpriv is not None, "setpriv (util-linux) is needed to drop root's file access"
        command = [setpriv, "--bounding-set=-dac_override,-dac_read_search", *command]
    result = subprocess.run(
        command, stdin=subprocess.DEVNULL, capture_output=True, env=cli_env(home), cwd=home,
        timeout=TIMEOUT,
    )
    refused(
        subprocess.CompletedProcess(result.args, result.returncode,
                                    result.stdout.decode("utf-8", "replace"),
                                    result.stderr.decode("utf-8", "replace")),
        ExitCode.FILE_REFUSED, "cannot read", "permission denied",
    )


def test_a_file_for_an_impossible_recipient_is_a_file_refusal(
    home: Path, tmp_path: Path
) -> None:
    note = tmp_path / "note.txt"
    note.write_text("hi")
    refused(run(home, "send-file", "--to", "no spaces", str(note)), ExitCode.FILE_REFUSED,
            "cannot send to 'no spaces'")


# -- messages: blank is a usage error, unsendable text is 10 ---------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t \u3000"])
def test_blank_text_is_a_usage_error(home: Path, text: str) -> None:
    usage_error(run(home, "send", text), "blank")


def test_blank_stdin_is_a_usage_error(home: Path) -> None:
    usage_error(run(home, "send", "-", stdin=b"  \n"), "blank")
    usage_error(run(home, "send", "-", stdin=b""), "blank")


def test_a_message_over_the_limit_says_so_in_bytes(home: Path) -> None:
    line = refused(run(home, "send", "x" * 100_000), ExitCode.MESSAGE_REFUSED, "too long",
                   "100000 bytes", str(MAX_TEXT_BYTES))
    assert "text is" not in line and "the limit is" not in line
    # Characters are not bytes: 6000 Hangul syllables are 18000 bytes of UTF-8.
    refused(run(home, "send", "가" * 6000), ExitCode.MESSAGE_REFUSED, "18000 bytes")
    exactly = run(home, "send", "x" * MAX_TEXT_BYTES)
    assert exactly.returncode == ExitCode.UNREACHABLE, "at the limit it is sent (tried to)"


def test_a_message_on_stdin_over_the_limit_is_refused_without_reading_it_all(
    home: Path
) -> None:
    refused(run(home, "send", "-", stdin=b"y\n" * 1_000_000), ExitCode.MESSAGE_REFUSED,
            "too long", str(MAX_TEXT_BYTES))
    # The limit itself and one final newline (dropped) pass the check.
    fits = run(home, "send", "-", stdin=b"z" * MAX_TEXT_BYTES + b"\n")
    assert fits.returncode == ExitCode.UNREACHABLE, fits.stderr


def test_text_that_is_not_utf8_is_refused_in_plain_words(home: Path) -> None:
    # Argument bytes that are not UTF-8 reach Python as lone surrogates.
    refused(run(home, "send", b"caf\xe9"), ExitCode.MESSAGE_REFUSED, "not UTF-8")
    line = refused(run(home, "send", "-", stdin="café ".encode() + b"\xff\n"),
                   ExitCode.MESSAGE_REFUSED, "stdin", "not UTF-8", "byte 7")
    assert "codec" not in line


def test_a_message_for_an_impossible_recipient_is_a_message_refusal(home: Path) -> None:
    refused(run(home, "send", "--to", "bad name!", "hi"), ExitCode.MESSAGE_REFUSED,
            "cannot send to 'bad name!'")


# -- logging in: the name and the password ---------------------------------------------------


def test_an_invalid_user_name_or_password_fails_before_connecting(home: Path) -> None:
    refused(run(home, "send", "hi", user="bad name!"), ExitCode.LOGIN_REFUSED,
            "invalid user name")
    refused(run(home, "send", "hi", password="p" * (MAX_PASSWORD_BYTES + 1)),
            ExitCode.LOGIN_REFUSED, "password is too long", str(MAX_PASSWORD_BYTES))
    usage_error(run(home, "users", password=""), "password is empty")


def test_the_checks_come_before_the_password_prompt_and_the_server(home: Path) -> None:
    # No --password and no terminal: a usage error, but the message is judged first.
    refused(run(home, "send", "x" * 20_000, password=None), ExitCode.MESSAGE_REFUSED)
    refused(run(home, "send-file", "missing.bin", password=None), ExitCode.FILE_REFUSED)
