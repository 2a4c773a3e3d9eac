"""Certificate fingerprints in the one form users compare, on both sides.

``SHA256:`` then 32 upper-case hex pairs joined by ``:`` (what
``openssl x509 -fingerprint -sha256`` prints after its prefix): the server
prints it in its log, the clients show it and keep it in their pins.
``parse_fingerprint`` also accepts plain hex, any case, spaces or colons.
Pure functions of bytes and text: the server uses them without the session.
"""

from __future__ import annotations

import hashlib

FINGERPRINT_PREFIX = "SHA256:"
_HEX = frozenset("0123456789abcdefABCDEF")


def fingerprint(der: bytes) -> str:
    """The SHA-256 fingerprint of a DER certificate, as users compare it."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return FINGERPRINT_PREFIX + ":".join(digest[i : i + 2] for i in range(0, 64, 2))


def parse_fingerprint(text: str) -> str:
    """``text`` in the canonical form; raises ``ValueError`` with a clear reason."""
    body = text.strip()
    if body[: len(FINGERPRINT_PREFIX)].upper() == FINGERPRINT_PREFIX:
        body = body[len(FINGERPRINT_PREFIX) :]
    digits = "".join(ch for ch in body if ch not in ": \t")
    if len(digits) != 64 or not set(digits) <= _HEX:
        raise ValueError(
            f"not a SHA-256 fingerprint: {text!r} (expected 64 hex digits, "
            f"like SHA256:AB:CD:...)"
        )
    digits = digits.upper()
    return FINGERPRINT_PREFIX + ":".join(digits[i : i + 2] for i in range(0, 64, 2))


__all__ = ["FINGERPRINT_PREFIX", "fingerprint", "parse_fingerprint"]
