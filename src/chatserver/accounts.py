"""Password hashing (salted scrypt) and the rate limit on failed logins.

Hashes are stored as ``scrypt$n$r$p$salt_hex$hash_hex`` so the cost can be
raised later without breaking existing accounts.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections import deque

_R = 8
_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32
#: Failure counters kept at most (names and addresses), so guessing with
#: many names cannot grow memory without bound.
_MAX_TRACKED_KEYS = 10_000


def hash_password(password: str, n: int = 2**14) -> str:
    """A new salted hash of ``password`` (CPU- and memory-hard: run it off the loop)."""
    salt = os.urandom(_SALT_BYTES)
    digest = _scrypt(password, salt, n, _R, _P)
    return f"scrypt${n}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``, compared in constant time."""
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(digest_hex)
        actual = _scrypt(password, bytes.fromhex(salt_hex), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r + 2**20,
        dklen=_HASH_BYTES,
    )


class FailureLimiter:
    """Counts failures per key in a sliding window; at ``limit`` the key is blocked."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and now - times[0] > self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def blocked(self, key: str, now: float) -> bool:
        times = self._recent(key, now)
        return times is not None and len(times) >= self.limit

    def record(self, key: str, now: float) -> None:
        if len(self._failures) >= _MAX_TRACKED_KEYS:
            self._prune(now)
        times = self._recent(key, now)
        if times is None:
            times = self._failures[key] = deque()
        times.append(now)
        if len(times) > self.limit:
            times.popleft()

    def _prune(self, now: float) -> None:
        for key in list(self._failures):
            self._recent(key, now)
        while len(self._failures) >= _MAX_TRACKED_KEYS:  # under attack: forget the oldest
            del self._failures[next(iter(self._failures))]

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)
