"""One clear, translated sentence for each failure a user can meet."""

from __future__ import annotations

from pathlib import Path

from chatproto import ErrorCode, LoginRejectReason, RejectReason, RequestRejectReason
from chatproto.session import (
    AliasMismatch,
    CertificateRefused,
    ChatError,
    Disconnected,
    FingerprintMismatch,
    LoginRefused,
    MessageRefused,
    PeerTrust,
    RequestRefused,
    ServerUnreachable,
    TLSFailed,
    TrustMode,
)

from .i18n import _
from .safetext import clean


def history_reset_text() -> str:
    """The server's history is another one than the client saw last time."""
    return _("The server's message history was reset or replaced since your last visit: "
             "everything it has for you is shown again from the start.")


def login_error(error: BaseException, server: str, port: int, pin_file: Path,
                servers: str = "") -> str:
    """``server`` and ``port``: where the login went (the first of a list);
    ``servers``: the whole list when there were several."""
    if isinstance(error, FingerprintMismatch | AliasMismatch):
        # With a list, the server that showed the certificate, not the first.
        server, port = error.host, error.port
    if isinstance(error, ServerUnreachable) and servers:
        return _("None of the servers {servers} can be reached. Check the addresses and the "
                 "ports, and that a server is running.").format(servers=clean(servers))
    if isinstance(error, AliasMismatch):
        return _("The certificate of {server}:{port} is not the one you trusted for the same "
                 "server as {other} (expected {expected}, got {actual}). Someone may be "
                 "intercepting the connection; nothing was sent. If the server really has a "
                 "new certificate, remove the line of {other} from {pin_file}.").format(
            server=server, port=port, other=clean(error.pinned_as), expected=error.expected,
            actual=error.actual, pin_file=pin_file)
    if isinstance(error, FingerprintMismatch):
        return _("The certificate of {server}:{port} has changed since you first trusted "
                 "it (expected {expected}, got {actual}). Someone may be intercepting the "
                 "connection; nothing was sent. If the server really has a new certificate, "
                 "remove its line from {pin_file}.").format(
            server=server, port=port, expected=error.expected, actual=error.actual,
            pin_file=pin_file)
    if isinstance(error, CertificateRefused):
        if error.code == "pin-declined":
            return _("You did not trust the certificate of {server}:{port}; nothing was "
                     "sent.").format(server=server, port=port)
        return _("The certificate of {server}:{port} was refused: {reason}").format(
            server=server, port=port, reason=describe(error))
    if isinstance(error, TLSFailed):
        return _("The encrypted connection to {server}:{port} failed. If the server runs "
                 "without TLS (--no-tls), untick \"Encrypted connection\".").format(
            server=server, port=port)
    if isinstance(error, ServerUnreachable):
        return _("The server {server}:{port} cannot be reached. Check the address and "
                 "the port, and that the server is running.").format(server=server, port=port)
    if isinstance(error, LoginRefused):
        code = error.code
        if code == LoginRejectReason.ALREADY_ACTIVE:
            return _("This ID is already in use.")
        if code == LoginRejectReason.BAD_PASSWORD:
            return _("Wrong password for this ID.")
        if code == LoginRejectReason.RATE_LIMITED:
            return _("Too many login attempts. Wait a minute, then try again.")
        if code == LoginRejectReason.INVALID_NAME:
            return _("An ID may contain only letters, digits, '_' and '-' (at most 32); "
                     "accents are fine, mixing alphabets is not.")
        if code == LoginRejectReason.SERVER_FULL:
            return _("The server is full. Try again later.")
        if code == LoginRejectReason.DISABLED:
            return _("This ID has been disabled by the server's administrator. Ask them "
                     "to enable it again.")
        if code == LoginRejectReason.NAME_RESERVED:
            return _("This ID belonged to an account that was deleted; nobody can take it "
                     "yet. Choose another ID.")
    return _("Login failed: {reason}").format(reason=describe(error))


def request_refused(reason: str) -> str | None:
    """A room request's or a search's refusal in the window's language."""
    texts = {
        RequestRejectReason.NOT_FOUND: _("there is no such room (or it is private)"),
        RequestRejectReason.ALREADY_EXISTS: _("a room with that name exists already"),
        RequestRejectReason.INVALID_NAME: _(
            "a room name may contain only letters, digits, '_' and '-' (at most 32)"),
        RequestRejectReason.NOT_MEMBER: _("you are not a member of that room"),
        RequestRejectReason.ALREADY_MEMBER: _("already a member of that room"),
        RequestRejectReason.CANNOT_LEAVE_GENERAL: _("nobody can leave general"),
        RequestRejectReason.TOO_MANY_ROOMS: _("you are in as many rooms as the server allows"),
        RequestRejectReason.ROOM_FULL: _("the room has as many members as the server allows"),
        RequestRejectReason.TOO_MANY_PRIVATE_ROOMS: _(
            "you created as many private rooms as the server allows"),
        RequestRejectReason.UNKNOWN_USER: _("there is no user with that ID"),
        RequestRejectReason.BAD_QUERY: _("there is no word to search for"),
        RequestRejectReason.RATE_LIMITED: _("too many requests; wait a moment"),
        RequestRejectReason.SERVER_ERROR: _("an error on the server"),
        "not-supported": _("this server has no rooms and no search (an older version)"),
    }
    return texts.get(reason)


def describe(error: BaseException) -> str:
    if isinstance(error, RequestRefused):
        text = request_refused(error.reason)
        if text is not None:
            return text
    if isinstance(error, ChatError) and (error.code in (RejectReason.NOT_MEMBER, "not-supported")
                                         or (isinstance(error, MessageRefused)
                                             and error.code == RejectReason.NOT_FOUND)):
        # A message or a file to a room one is not in (any more), that does
        # not exist, or on an old server: the same words as for a request.
        return request_refused(error.code) or clean(error.message, single_line=True)
    if isinstance(error, ChatError):
        return clean(error.message, single_line=True)
    return clean(str(error) or type(error).__name__, single_line=True)


def trust_text(trust: PeerTrust | None) -> str:
    """The transcript's first line: how this connection is protected."""
    if trust is None or trust.mode is TrustMode.PLAIN:
        return _("Connected WITHOUT encryption: passwords and messages cross the network "
                 "in clear.")
    if trust.mode is TrustMode.NEW_PIN:
        return _("Trusted the certificate of {server}:{port} from now on: {fingerprint}"
                 ).format(server=trust.host, port=trust.port, fingerprint=trust.fingerprint)
    return _("Encrypted connection (TLS), certificate {fingerprint}").format(
        fingerprint=trust.fingerprint)


#: What the server says in its Goodbye when it stops (chatserver.app).
_SHUTDOWN_GOODBYE = "the server is shutting down"


#: Sessions ended on purpose by the administrator: logging in again is refused.
ENDED_FOR_GOOD = frozenset({ErrorCode.ACCOUNT_DISABLED, ErrorCode.ACCOUNT_DELETED})


def disconnect_reason(event: Disconnected) -> str:
    """Why the connection ended, in the window's language.

    The session's message is English and names protocol codes; the codes
    are turned into sentences here. A Goodbye's text is the server's own
    words: the one our server sends is translated, any other is quoted."""
    code = event.code
    if code == "goodbye":
        text = event.message.removeprefix("the server said goodbye: ")
        if text in (_SHUTDOWN_GOODBYE, "goodbye"):
            return _("the server is shutting down or restarting")
        return _("the server ended the session (\u201c{text}\u201d)").format(
            text=clean(text, single_line=True))
    if code == ErrorCode.ACCOUNT_DISABLED:
        return _("the server's administrator disabled your account")
    if code == ErrorCode.ACCOUNT_DELETED:
        return _("the server's administrator deleted your account")
    if code == ErrorCode.SHUTDOWN:
        return _("the server is shutting down or restarting")
    if code in ("connection-lost", "closed"):
        return _("the connection was lost")
    if code == ErrorCode.TIMEOUT:
        return _("the connection timed out")
    if code == ErrorCode.TOO_SLOW:
        return _("this client fell too far behind the server")
    if code == ErrorCode.SERVER_ERROR:
        return _("an error on the server")
    if code == ErrorCode.TOO_MANY_CONNECTIONS:
        return _("the server has too many connections")
    if code == "internal-error":
        return _("an error in this program")
    if code == "protocol-error" or code in {member.value for member in ErrorCode}:
        return _("the server and this program did not understand each other ({code})"
                 ).format(code=clean(code, single_line=True))
    return clean(event.message, single_line=True)
