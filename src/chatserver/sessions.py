"""A logged-in (or logging-in) connection as the hub sees it.

The hub, the login checks and the replay talk to connections only through
these Protocols; ``client.ClientProtocol`` is the one implementation. So
the hub never imports the asyncio edge, and the edge imports the hub.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chatproto import Event, FileAvailable, LoginAccepted, LoginRejected, Participant


class Session(Protocol):
    """What the hub needs of a connection."""

    @property
    def username(self) -> str | None:
        """The logged-in user; None before ``login_accepted``."""
        ...

    @property
    def address(self) -> str: ...

    @property
    def transient(self) -> bool:
        """Logged in (or logging in) by a TransientLogin: no presence, and no
        broadcast reaches it (docs/protocol.md 7.9)."""
        ...

    @property
    def closed(self) -> bool:
        """No more output: the connection is closing or closed."""
        ...

    @property
    def live(self) -> bool:
        """Receives live messages: its replay, if any, has caught up."""
        ...

    @property
    def peer_max_frame_size(self) -> int: ...

    def queue(self, event: Event) -> None:
        """Send ``event`` with this loop turn's other output."""
        ...

    def login_refused(self, rejected: LoginRejected) -> None: ...

    def login_accepted(
        self, accepted: LoginAccepted, pages: Sequence[tuple[Participant, ...]]
    ) -> None:
        """Send the verdict and the rest of its participant list."""
        ...

    def start_replay(self, replay_after: int) -> None:
        """Send what the user missed after seq ``replay_after``, then live
        messages (the hub calls it after announcing the login's presence,
        which so comes before the replay, as it always has)."""
        ...

    def file_unstored(self, upload_id: int) -> None:
        """Its verified upload could not be committed."""
        ...

    def announced_in_replay(self, announcement: FileAvailable) -> None:
        """Its upload was announced while it was still replaying: the replay
        must echo the upload id."""
        ...
