"""What all of one user's connections share: the chat flood limit, and the
count of its transient logins (docs/protocol.md 7.9).

A user has at most one ordinary session (a second is ``already-active``),
but besides it any number of transient logins up to
``MAX_TRANSIENT_LOGINS_PER_USER``; so limits meant for a user are kept here
per user, not per connection, or each extra connection would raise them.
"""

from __future__ import annotations

from .flood import TokenBucket

#: Transient logins of one user open (or being checked) at once, besides
#: its ordinary session: a few scripts at a time, not a flood of connections.
MAX_TRANSIENT_LOGINS_PER_USER = 4


class TransientLogins:
    """The transient connections of each user, by the skeleton of its name
    (the key that is the same before and after the account is found).
    Connections are kept by identity, as every set of them here."""

    def __init__(self, limit: int = MAX_TRANSIENT_LOGINS_PER_USER) -> None:
        self.limit = limit
        self._by_user: dict[str, set[object]] = {}
        self._user_of: dict[object, str] = {}

    def full(self, skeleton: str) -> bool:
        return len(self._by_user.get(skeleton, ())) >= self.limit

    def hold(self, skeleton: str, connection: object) -> None:
        """``connection`` takes one of the user's places, from the check of its
        password until ``release``."""
        self._by_user.setdefault(skeleton, set()).add(connection)
        self._user_of[connection] = skeleton

    def release(self, connection: object) -> None:
        """Its place is free again (it failed, or ended); nothing if it has none."""
        skeleton = self._user_of.pop(connection, None)
        if skeleton is None:
            return
        holders = self._by_user[skeleton]
        holders.discard(connection)
        if not holders:
            del self._by_user[skeleton]

    def __contains__(self, connection: object) -> bool:
        return connection in self._user_of

    def count(self, skeleton: str) -> int:
        return len(self._by_user.get(skeleton, ()))


class SharedFloods:
    """One chat flood bucket per user, shared by all its logged-in connections
    (its session and its transient logins) and dropped with the last one."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[TokenBucket, set[object]]] = {}

    def join(self, name: str, connection: object, now: float) -> TokenBucket | None:
        """The bucket ``connection`` of user ``name`` spends from; None: no limit."""
        if self.rate <= 0:
            return None
        entry = self._buckets.get(name)
        if entry is None:
            entry = self._buckets[name] = (TokenBucket(self.rate, self.burst, now), set())
        entry[1].add(connection)
        return entry[0]

    def bucket(self, name: str) -> TokenBucket | None:
        """The bucket of ``name``'s connections here, if any."""
        entry = self._buckets.get(name)
        return None if entry is None else entry[0]

    def leave(self, name: str, connection: object) -> None:
        entry = self._buckets.get(name)
        if entry is None:
            return
        entry[1].discard(connection)
        if not entry[1]:
            del self._buckets[name]

    def __len__(self) -> int:
        return len(self._buckets)
