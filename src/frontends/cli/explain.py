"""The session's login failures, retold for someone at the command line.

The session's messages serve every client; some need chat-cli's context to
say what to do: which option was wrong, which to leave out. The error keeps
its class and code, so its exit code does not change.
"""

from __future__ import annotations

from chatproto.session import CertificateRefused, ChatError, ClientTLS, ConnectionLost
from chatproto.session import FingerprintMismatch as _Mismatch
from chatproto.session.pins import host_port


def login_failure(error: ChatError, tls: ClientTLS) -> ChatError:
    """``error``, raised while connecting and logging in with ``tls``, in
    chat-cli's words when it has better ones."""
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


__all__ = ["login_failure"]
