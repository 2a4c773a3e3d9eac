"""What travels on the stream: one committed change that every node applies.

A stream entry is either a batch of history entries (chat rows and file
announcements, the result of one commit) or one change to the shared state
the nodes mirror in memory (an account, a room, a membership). Ids are the
stream's: dense, increasing, in commit order (``pg_store``).
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from chatproto import FileAvailable

from ..ports import ChatRow

#: The kinds of control entries and their ``data``:
#: ``account``: {"name": str, "created_seq": int}
#: ``room_created``: {"name": str, "private": bool, "creator": str | None, "created_seq": int}
#: ``member_added``: {"room": str, "account": str, "joined_seq": int}
#: ``member_removed``: {"room": str, "account": str, "drop_room": bool}
ControlKind = Literal["account", "room_created", "member_added", "member_removed"]
EntryKind = Literal["entries", "account", "room_created", "member_added", "member_removed"]


@attrs.frozen
class StreamEntry:
    id: int
    kind: EntryKind
    #: ``entries`` only: the chat rows and file announcements, in seq order.
    rows: tuple[ChatRow, ...] = ()
    files: tuple[FileAvailable, ...] = ()
    #: Control entries only (see ``ControlKind``).
    data: dict[str, Any] = attrs.field(factory=dict)

    @property
    def last_seq(self) -> int:
        """The newest seq in it (0 for a control entry)."""
        seqs = [row[0] for row in self.rows] + [f.seq for f in self.files]
        return max(seqs, default=0)
