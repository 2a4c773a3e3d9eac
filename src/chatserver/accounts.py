"""Accounts: password hashing (salted scrypt), rate limits, and which name is whose.

Hashes are stored as ``scrypt$n$r$p$salt_hex$hash_hex`` so the cost can be
raised later without breaking existing accounts.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections import deque
from collections.abc import Iterable, Iterator

from chatproto import username_skeleton

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


class AccountNames:
    """Every account's name, found by its skeleton (``chatproto.username_skeleton``).

    ``Bob``, ``bob`` and fullwidth ``bob`` (U+FF42...) are one account, shown as it was
    registered. Databases from before skeletons may hold two accounts with one
    skeleton: each keeps logging in by its exact name, and any other spelling
    finds the older one.
    """

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._exact: dict[str, None] = {}  # in order of registration
        self._by_skeleton: dict[str, str] = {}
        for name in names:  # oldest first: the older one keeps the skeleton
            self.add(name)

    def __len__(self) -> int:
        return len(self._exact)

    def __iter__(self) -> Iterator[str]:
        return iter(self._exact)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.registered(name) is not None

    def registered(self, name: str) -> str | None:
        """The account ``name`` means, spelled as registered; None if there is none."""
        if name in self._exact:
            return name
        return self._by_skeleton.get(username_skeleton(name))

    def add(self, name: str) -> None:
        self._exact[name] = None
        self._by_skeleton.setdefault(username_skeleton(name), name)
