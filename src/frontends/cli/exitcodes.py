"""The exit codes of ``chat-cli``: a public contract, kept in this one place."""

from __future__ import annotations

from enum import IntEnum

from chatproto import LoginRejectReason
from chatproto.session import (
    CertificateRefused,
    ChatError,
    FileRefused,
    LoginRefused,
    MessageRefused,
    ServerUnreachable,
    TLSFailed,
)


class ExitCode(IntEnum):
    OK = 0
    USAGE = 2  # click's own code for a usage error
    UNREACHABLE = 3
    BAD_PASSWORD = 4
    ALREADY_ACTIVE = 5
    RATE_LIMITED = 6
    FILE_REFUSED = 7
    LOGIN_REFUSED = 8
    CONNECTION_LOST = 9
    MESSAGE_REFUSED = 10
    CERTIFICATE_REFUSED = 11


_LOGIN_CODES: dict[str, ExitCode] = {
    LoginRejectReason.BAD_PASSWORD: ExitCode.BAD_PASSWORD,
    LoginRejectReason.ALREADY_ACTIVE: ExitCode.ALREADY_ACTIVE,
    LoginRejectReason.RATE_LIMITED: ExitCode.RATE_LIMITED,
}

#: One code per kind of mistake, whether it is found before connecting
#: (``checks.py``) or by the server: a file that cannot be sent is 7 whether
#: it is missing, a directory or too large for the server; a message is 10.
HELP_TEXT = """\b
Exit codes (what needs no server is checked before connecting):
  0  success
  2  usage error (missing user or password, bad option, blank message,
     empty password)
  3  server unreachable (also a failed TLS handshake, e.g. with a --no-tls server)
  4  bad password
  5  ID already active
  6  rate-limited
  7  file refused (missing, a directory or not a regular file, unreadable,
     too large, checksum mismatch)
  8  other login refusal (invalid user name or password, server full)
  9  connection lost or protocol error (listen reconnects instead, unless
     --once; also a --no-tls client meeting a TLS server)
  10 message refused (too long, not UTF-8 text, invalid or unknown
     recipient)
  11 certificate refused (changed since it was pinned, not the --fingerprint
     given, not signed by the --ca given, or the pin file is unusable);
     nothing was sent to the server"""


def exit_code_for(error: ChatError) -> ExitCode:
    if isinstance(error, ServerUnreachable | TLSFailed):
        return ExitCode.UNREACHABLE
    if isinstance(error, CertificateRefused):
        return ExitCode.CERTIFICATE_REFUSED
    if isinstance(error, LoginRefused):
        return _LOGIN_CODES.get(error.code, ExitCode.LOGIN_REFUSED)
    if isinstance(error, FileRefused):
        return ExitCode.FILE_REFUSED
    if isinstance(error, MessageRefused):
        return ExitCode.MESSAGE_REFUSED
    return ExitCode.CONNECTION_LOST


__all__ = ["HELP_TEXT", "ExitCode", "exit_code_for"]
