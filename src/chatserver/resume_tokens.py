"""Resume tokens: logins without the password, for reconnect storms
(docs/protocol.md 7.8; the reasoning is in docs/security.md).

A token is 32 bytes from ``secrets``, handed out in a ``LoginAccepted`` and
good for one later login of the same account within the lifetime. The store
keeps only its SHA-256: a copy of the database lets nobody log in. SHA-256
rather than scrypt because a token, unlike a password, has 256 bits of
entropy: there is no dictionary to slow down, and a slow hash would bring
back the very cost tokens exist to avoid.
"""

from __future__ import annotations

import hashlib
import secrets

from chatproto.limits import RESUME_TOKEN_BYTES

from .ports import Store, now_ms

#: Tokens kept per account, one per client the user logs in from (a laptop,
#: a desktop, a phone...); the oldest is dropped for a new one beyond that.
TOKENS_PER_ACCOUNT = 8


def token_digest(token: bytes) -> bytes:
    return hashlib.sha256(token).digest()


class ResumeTokens:
    """Issues, checks and rotates the tokens of one server's accounts."""

    def __init__(self, store: Store, lifetime: float) -> None:
        self._store = store
        self._lifetime_ms = int(lifetime * 1000)
        # Expired ones would never be accepted; without this they would only
        # go when their account logs in again, or never.
        store.drop_resume_tokens(self._oldest_valid(now_ms()))

    @property
    def enabled(self) -> bool:
        return self._lifetime_ms > 0

    def _oldest_valid(self, now: int) -> int:
        """The issue time of the oldest token still valid at ``now``. The
        lifetime in force applies to every stored token: shortening it
        revokes the older ones at once, 0 all of them."""
        return now - self._lifetime_ms + 1

    def account_of(self, token: bytes) -> str | None:
        """The account ``token`` was issued to, if it is still good; None for
        an unknown, used, revoked or expired one (the caller cannot tell which,
        and neither can the peer)."""
        if not self.enabled or len(token) != RESUME_TOKEN_BYTES:
            return None
        digest = token_digest(token)
        stored = self._store.resume_token(digest)
        if stored is None or stored.issued_ms < self._oldest_valid(now_ms()):
            return None
        return stored.account

    def issue(self, account: str, replacing: bytes = b"") -> bytes:
        """A new token of ``account``, stored; ``replacing``, the token this
        login used, is gone with it (rotation). Empty when tokens are off.
        Raises whatever the store raises: then nothing changed."""
        if not self.enabled:
            return b""
        token = secrets.token_bytes(RESUME_TOKEN_BYTES)
        self._store.add_resume_token(
            account, token_digest(token), now_ms(),
            replacing=token_digest(replacing) if replacing else None,
            keep=TOKENS_PER_ACCOUNT,
        )
        return token


__all__ = ["TOKENS_PER_ACCOUNT", "ResumeTokens", "token_digest"]
