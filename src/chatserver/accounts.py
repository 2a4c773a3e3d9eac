"""Accounts: password hashing (salted scrypt), rate limits, and which name is whose.

Hashes are stored as ``scrypt$n$r$p$salt_hex$hash_hex`` so the cost can be
raised later without breaking existing accounts.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator

import attrs

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

    def remove(self, name: str) -> None:
        """The account was deleted: its skeleton goes to the next oldest
        account that has it, if any (only an old database has such pairs)."""
        if name not in self._exact:
            return
        del self._exact[name]
        skeleton = username_skeleton(name)
        if self._by_skeleton.get(skeleton) == name:
            del self._by_skeleton[skeleton]
            heir = next((other for other in self._exact if username_skeleton(other) == skeleton),
                        None)
            if heir is not None:
                self._by_skeleton[skeleton] = heir


def _nothing() -> None:
    pass


@attrs.define
class AccountRestrictions:
    """What ``chat-server admin`` decided, as the server last read it
    (``account_watch.py`` keeps it current): disabled accounts, and name
    skeletons held back after a deletion (until when, in ms; None: for good)."""

    disabled: set[str] = attrs.Factory(set)
    held: dict[str, int | None] = attrs.Factory(dict)
    #: Reads the database again if the admin changed it since: called before
    #: each login is judged, so a login right after the admin command obeys it.
    refresh: Callable[[], None] = _nothing

    def held_until(self, skeleton: str, now_ms: int) -> int | None:
        """Until when the skeleton is held (-1: for good); None if it is free."""
        if skeleton not in self.held:
            return None
        until = self.held[skeleton]
        if until is None:
            return -1
        return until if until > now_ms else None
