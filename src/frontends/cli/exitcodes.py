"""The exit codes of ``chat-cli``: a public contract, kept in this one place."""

from __future__ import annotations

from enum import IntEnum

from chatproto import ErrorCode, LoginRejectReason
from chatproto.session import (
    CertificateRefused,
    ChatError,
    FileRefused,
    LoginRefused,
    MessageRefused,
    RequestRefused,
    ServerUnreachable,
    TLSFailed,
)
from chatproto.session.rooms import NOT_SUPPORTED


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
    REQUEST_REFUSED = 12
    NOT_FOUND = 13
    NOT_MEMBER = 14
    ALREADY = 15
    LIMIT_REACHED = 16
    NOT_SUPPORTED = 17
    ACCOUNT_DISABLED = 18


_LOGIN_CODES: dict[str, ExitCode] = {
    LoginRejectReason.BAD_PASSWORD: ExitCode.BAD_PASSWORD,
    LoginRejectReason.ALREADY_ACTIVE: ExitCode.ALREADY_ACTIVE,
    LoginRejectReason.RATE_LIMITED: ExitCode.RATE_LIMITED,
    LoginRejectReason.DISABLED: ExitCode.ACCOUNT_DISABLED,
}

#: Room and search refusals a script may need to tell apart; the rest
#: (an invalid name, cannot-leave-general, a bad query, an unknown user...)
#: are REQUEST_REFUSED. The same reasons end a send to a room.
_REQUEST_CODES: dict[str, ExitCode] = {
    "not-found": ExitCode.NOT_FOUND,
    "not-member": ExitCode.NOT_MEMBER,
    "already-exists": ExitCode.ALREADY,
    "already-member": ExitCode.ALREADY,
    "too-many-rooms": ExitCode.LIMIT_REACHED,
    "room-full": ExitCode.LIMIT_REACHED,
    "too-many-private-rooms": ExitCode.LIMIT_REACHED,
    NOT_SUPPORTED: ExitCode.NOT_SUPPORTED,
    "rate-limited": ExitCode.RATE_LIMITED,
}

#: The Error codes that end a live session for good (an administrator's doing).
ACCOUNT_ENDED = frozenset({ErrorCode.ACCOUNT_DISABLED, ErrorCode.ACCOUNT_DELETED})

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
  8  other login refusal (invalid user name or password, server full, the
     name of a deleted account not free yet)
  9  connection lost or protocol error (listen reconnects instead, unless
     --once; also a --no-tls client meeting a TLS server)
  10 message refused (too long, not UTF-8 text, invalid or unknown
     recipient)
  11 certificate refused (changed since it was pinned, not the --fingerprint
     given, not signed by the --ca given, or the pin file is unusable);
     nothing was sent to the server
  12 room request or search refused (invalid room name, leaving general,
     a query with no word, unknown user to invite)
  13 no such room (or a private room you are not in)
  14 not a member of that room
  15 already exists / already a member
  16 a room limit reached (rooms per user, members per room, private rooms)
  17 the server has no rooms (older protocol version)
  18 the account is disabled or was deleted (listen does not retry)"""


def exit_code_for(error: ChatError) -> ExitCode:
    if error.code in ACCOUNT_ENDED:  # however it reached us: a login, a send, a lost session
        return ExitCode.ACCOUNT_DISABLED
    if isinstance(error, ServerUnreachable | TLSFailed):
        return ExitCode.UNREACHABLE
    if isinstance(error, CertificateRefused):
        return ExitCode.CERTIFICATE_REFUSED
    if isinstance(error, LoginRefused):
        return _LOGIN_CODES.get(error.code, ExitCode.LOGIN_REFUSED)
    if isinstance(error, RequestRefused):
        return _REQUEST_CODES.get(error.code, ExitCode.REQUEST_REFUSED)
    if isinstance(error, FileRefused | MessageRefused) and error.code in (
        "not-found", "not-member", NOT_SUPPORTED
    ):
        return _REQUEST_CODES[error.code]  # a send to a room that is not there, or not ours
    if isinstance(error, FileRefused):
        return ExitCode.FILE_REFUSED
    if isinstance(error, MessageRefused):
        return ExitCode.MESSAGE_REFUSED
    return ExitCode.CONNECTION_LOST


__all__ = ["ACCOUNT_ENDED", "HELP_TEXT", "ExitCode", "exit_code_for"]
