"""The typed errors of the client session: every failure a caller can meet.

Each carries ``code``, a machine-readable reason (the server's own reason
token when the server refused something), and a one-line message fit for a
user. Nothing else escapes the session: no bare socket error, no traceback.
"""

from __future__ import annotations


class ChatError(Exception):
    """Base class of every error the session raises."""

    default_code = "error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        # Plain str even when given an enum member (they are StrEnums), as
        # the server's reasons arrive: one type whichever side refused.
        self.code = str(code or self.default_code)

    def __str__(self) -> str:
        return self.message


class ServerUnreachable(ChatError):
    """No connection could be made (refused, no route, timed out, bad host)."""

    default_code = "unreachable"


class LoginRefused(ChatError):
    """The server refused the login; ``code`` is its reason (``already-active``,
    ``bad-password``, ``bad-resume-token``, ``invalid-name``, ``rate-limited``,
    ``server-full``) or the code of the Error frame it closed the handshake with."""

    default_code = "login-refused"


class ConnectionLost(ChatError):
    """The connection ended while the session was in use (network error,
    missed heartbeats, a protocol error, the server leaving)."""

    default_code = "connection-lost"


class FileRefused(ChatError):
    """An upload or a download failed; ``code`` is the reason (``too-large``,
    ``unreadable``, ``checksum-mismatch``, ``not-found``, ...)."""

    default_code = "file-refused"


class MessageRefused(ChatError):
    """The server (or the encoder) refused a chat message; ``code`` is the
    reason (``unknown-user``, ``rate-limited``, ``invalid-message``)."""

    default_code = "message-refused"


class RequestRefused(ChatError):
    """The server refused a room request or a search, or the server has no
    rooms at all; ``code`` is the reason (``not-found``, ``already-exists``,
    ``not-member``, ``cannot-leave-general``, ``too-many-rooms``, ...,
    ``not-supported`` for a server older than rooms). Unlike the other
    errors it is built reason first, as the protocol's ``RequestRejected``
    carries them: ``RequestRefused("not-found", "no such room")``;
    ``reason`` is ``code`` by the protocol's name for it."""

    default_code = "request-refused"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, reason)

    @property
    def reason(self) -> str:
        return self.code


class CertificateRefused(ChatError):
    """The server's certificate was not accepted; nothing was sent to it."""

    default_code = "certificate-refused"


class TLSFailed(ChatError):
    """The TLS handshake failed for a reason other than the certificate."""

    default_code = "tls-failed"


class PinFileError(CertificateRefused):
    """The pin file could not be read or written: without it no certificate
    can be checked or pinned, so nothing is sent to the server."""

    default_code = "pin-file"


__all__ = [
    "CertificateRefused",
    "ChatError",
    "ConnectionLost",
    "FileRefused",
    "LoginRefused",
    "MessageRefused",
    "PinFileError",
    "RequestRefused",
    "ServerUnreachable",
    "TLSFailed",
]
