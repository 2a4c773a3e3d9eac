"""Protocol errors and the machine-readable codes they carry.

A ``LocalProtocolError`` means *our* code tried something the protocol forbids
(it is raised by ``send``); a ``RemoteProtocolError`` means the *peer* sent
something invalid (it is raised by ``next_event``) and carries the ``code`` the
adapter should put in an ``Error`` frame before closing.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Codes carried by ``Error`` frames (``docs/protocol.md`` lists them)."""

    MALFORMED = "malformed"
    FRAME_TOO_LARGE = "frame-too-large"
    UNKNOWN_TYPE = "unknown-type"
    BAD_UTF8 = "bad-utf8"
    INVALID_FIELD = "invalid-field"
    UNEXPECTED_MESSAGE = "unexpected-message"
    UNSUPPORTED_VERSION = "unsupported-version"
    TRUNCATED = "truncated"
    TIMEOUT = "timeout"
    TOO_SLOW = "too-slow"
    SHUTDOWN = "shutdown"
    SERVER_ERROR = "server-error"
    TOO_MANY_CONNECTIONS = "too-many-connections"
    #: The account was disabled by an administrator while logged in (version 4).
    ACCOUNT_DISABLED = "account-disabled"
    #: The account was deleted by an administrator while logged in (version 4).
    ACCOUNT_DELETED = "account-deleted"


class ProtocolError(Exception):
    """Base class of every error the protocol core raises."""

    def __init__(self, message: str, code: str = ErrorCode.MALFORMED) -> None:
        super().__init__(message)
        self.message = message
        self.code = str(code)

    def __str__(self) -> str:
        return self.message


class LocalProtocolError(ProtocolError):
    """Our side tried to send something that is invalid or not allowed now."""


class RemoteProtocolError(ProtocolError):
    """The peer sent bytes that are invalid or not allowed now."""
