"""The session's login failures, retold for someone at the command line.

The session's messages serve every client; some need chat-cli's context to
say what to do: which option was wrong, which to leave out. The error keeps
its class and code, so its exit code does not change.
"""

from __future__ import annotations

from chatproto import ErrorCode, LoginRejectReason
from chatproto.session import (
    CertificateRefused,
    ChatError,
    ClientTLS,
    ConnectionLost,
    LoginRefused,
)
from chatproto.session import FingerprintMismatch as _Mismatch
from chatproto.session.pins import host_port

#: What an administrator's ending of a live session means for its user.
_ENDED: dict[str, str] = {
    ErrorCode.ACCOUNT_DISABLED: "your account was disabled by the server's administrator; ask them "
                        "to enable it",
    ErrorCode.ACCOUNT_DELETED: "your account was deleted by the server's administrator",
}


def account_ended(code: str, message: str) -> str | None:
    """The line for a session the server ended with ``code``, when it was an
    administrator's doing (no retry helps); None otherwise."""
    told = _ENDED.get(code)
    return None if told is None else f"{told} ({message})"


def login_failure(error: ChatError, tls: ClientTLS, user: str = "") -> ChatError:
    """``error``, raised while connecting and logging in with ``tls`` as
    ``user``, in chat-cli's words when it has better ones."""
    if isinstance(error, LoginRefused) and error.code == LoginRejectReason.DISABLED:
        return LoginRefused(
            f"the account {user!r} is disabled by the server's administrator; ask them to "
            f"enable it ({error.message})", error.code,
        )
    if isinstance(error, LoginRefused) and error.code == LoginRejectReason.NAME_RESERVED:
        return LoginRefused(
            f"the name {user!r} belonged to a deleted account and is not free yet; choose "
            f"another name ({error.message})", error.code,
        )
    if isinstance(error, _Mismatch) and tls.fingerprint is not None:
        # Not a change since a pin: the user named another certificate, so
        # "pass --fingerprint" would be no advice at all.
        return CertificateRefused(
            f"the certificate of {host_port(error.host, error.port)} is {error.actual}, not "
            f"{error.expected} as given with --fingerprint; refusing to connect (if the "
            "server's start-up log shows the fingerprint given, someone may be intercepting "
            "the connection; if it shows the other one, give that)",
            error.code,
        )
    if isinstance(error, ConnectionLost) and not tls.enabled:
        # What a TLS server does with a plain Hello: it closes (or answers
        # with a TLS alert, which is no frame at all).
        return ConnectionLost(
            f"{error.message}; if the server uses TLS (its default), connect without "
            "--no-tls (and without CHAT_NO_TLS)",
            error.code,
        )
    return error


__all__ = ["account_ended", "login_failure"]
