"""The events: one small frozen class per message of the protocol.

Field order is wire order (see ``docs/protocol.md``). Validation happens when
an event is encoded (``LocalProtocolError``) or decoded
(``RemoteProtocolError``), not at construction, so that decoding stays cheap
and applications may build events freely.

The room and search events of version 4 (room requests, their answers,
``Membership``) are defined in ``room_events.py``, a protocol of their own
on top of the chat, and the ``Event`` base in ``event_base.py``, which both
subclass; this module re-exports them all, so ``chatproto.events`` stays the
one public path to every event.
"""

from __future__ import annotations

from enum import StrEnum

import attrs

# Re-exported (``X as X``): this module stays the public home of every event.
from .event_base import Event as Event
from .room_events import CreateRoom as CreateRoom
from .room_events import InviteToRoom as InviteToRoom
from .room_events import JoinRoom as JoinRoom
from .room_events import LeaveRoom as LeaveRoom
from .room_events import ListRooms as ListRooms
from .room_events import Membership as Membership
from .room_events import MembershipState as MembershipState
from .room_events import RequestDone as RequestDone
from .room_events import RequestRejected as RequestRejected
from .room_events import RequestRejectReason as RequestRejectReason
from .room_events import RoomInfo as RoomInfo
from .room_events import RoomList as RoomList
from .room_events import SearchDone as SearchDone
from .room_events import SearchHistory as SearchHistory
from .room_events import SearchHit as SearchHit
from .targets import room_of


class PresenceState(StrEnum):
    JOINED = "joined"
    LEFT = "left"
    DEACTIVATED = "deactivated"
    REJOINED = "rejoined"


class ParticipantState(StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"


class LoginRejectReason(StrEnum):
    ALREADY_ACTIVE = "already-active"
    BAD_PASSWORD = "bad-password"
    #: The resume token is wrong, expired, revoked or not this user's: log
    #: in with the password instead (the same connection may try again).
    BAD_RESUME_TOKEN = "bad-resume-token"
    INVALID_NAME = "invalid-name"
    RATE_LIMITED = "rate-limited"
    SERVER_FULL = "server-full"
    #: Only for a ``TransientLogin``: that user has as many transient logins
    #: open as the server allows (version 3 on).
    TOO_MANY_LOGINS = "too-many-logins"
    #: The account is disabled by an administrator (version 4).
    DISABLED = "disabled"
    #: The name was a deleted account's and is not free yet (version 4).
    NAME_RESERVED = "name-reserved"


class RejectReason(StrEnum):
    """Reasons for refusing a chat message, an upload or a fetch."""

    UNKNOWN_USER = "unknown-user"
    RATE_LIMITED = "rate-limited"
    TOO_LARGE = "too-large"
    BAD_NAME = "bad-name"
    CHECKSUM_MISMATCH = "checksum-mismatch"
    STORAGE_FULL = "storage-full"
    NOT_FOUND = "not-found"
    BAD_OFFSET = "bad-offset"
    SERVER_ERROR = "server-error"
    #: The message or file is for a room the sender is not a member of (version 4).
    NOT_MEMBER = "not-member"


@attrs.frozen
class Participant:
    """One user counted in the participant list (active or deactivated)."""

    name: str
    state: ParticipantState = ParticipantState.ACTIVE


# -- handshake --------------------------------------------------------------


@attrs.frozen
class Hello(Event):
    """First frame of each side: protocol version and receive limit.

    The client announces the highest version it speaks; the server answers
    with the version both will use, never higher than the client's.
    """

    version: int
    max_frame_size: int
    software: str = ""


@attrs.frozen
class Login(Event):
    """Log in, registering ``username`` if it is new.

    ``last_seen_seq`` is the highest sequence number this user has seen (0 for
    none) and ``epoch`` the history epoch it belongs to (0 for unknown): the
    server replays everything after it that is addressed to them, or all of
    their history when the epoch is not the server's (its history was reset).
    A Login carries a ``password`` or, with the password empty, the
    ``resume_token`` of an earlier ``LoginAccepted``, never both.
    """

    username: str
    password: str = attrs.field(repr=False)
    last_seen_seq: int = 0
    epoch: int = 0
    #: Credentials never show in a repr, so never in a log or a traceback.
    resume_token: bytes = attrs.field(default=b"", repr=False)


@attrs.frozen
class TransientLogin(Event):
    """Log in for one errand, such as a script's message: not a presence.

    The password is checked as for ``Login`` (a new ``username`` is
    registered) and the verdict is a ``LoginAccepted`` or ``LoginRejected``;
    once accepted, the client may send chat and upload files, and the server
    sends it only the answers to those and the participant list: no presence
    (the user neither joins nor leaves), no replay, no one else's messages.
    Version 3 on, once the server's Hello said so (``TRANSIENT_LOGIN_VERSION``).
    """

    username: str
    #: Never a resume token: a token is good for one login and replaced in
    #: that login's LoginAccepted, which a transient login does not get.
    password: str = attrs.field(repr=False)


def _count_of_participants(accepted: LoginAccepted) -> int:
    return len(accepted.participants)


@attrs.frozen
class LoginAccepted(Event):
    """Login succeeded.

    ``participant_count`` counts every participant (active and deactivated
    users); ``participants`` is the first page of their list, and
    ``ParticipantList`` frames carry the rest until the pages add up to the
    count. ``epoch`` identifies the server's history (it changes when the
    history is reset); ``history_reset`` says the client's ``last_seen_seq``
    belonged to another epoch (or lay beyond ``last_seq``), so the replay that
    follows starts from the beginning of the user's history. ``resume_token``,
    when not empty, lets the next Login of this user skip the password.
    """

    username: str
    new_account: bool
    rejoined: bool
    last_seq: int
    participants: tuple[Participant, ...] = ()
    epoch: int = 0
    history_reset: bool = False
    participant_count: int = attrs.field(
        default=attrs.Factory(_count_of_participants, takes_self=True)
    )
    resume_token: bytes = attrs.field(default=b"", repr=False)


@attrs.frozen
class ParticipantList(Event):
    """A further page of the participant list, right after ``LoginAccepted``."""

    participants: tuple[Participant, ...]


@attrs.frozen
class LoginRejected(Event):
    reason: str
    message: str = ""


@attrs.frozen
class Ping(Event):
    nonce: int = 0


@attrs.frozen
class Pong(Event):
    nonce: int = 0


@attrs.frozen
class Goodbye(Event):
    """A normal end of the session (a user leaving, a server shutting down)."""

    message: str = ""


@attrs.frozen
class Error(Event):
    """A fatal error: the sender closes the connection after it."""

    code: str
    message: str = ""


# -- chat and presence --------------------------------------------------------


@attrs.frozen
class SendChat(Event):
    """A chat message from a client, to everyone or to ``recipient`` only.

    ``client_id`` is chosen by the client and echoed in the ``ChatMessage``
    that delivers it, so the sender can tell when its message was accepted.
    """

    text: str
    recipient: str | None = None
    client_id: int = 0

    @property
    def room(self) -> str | None:
        """The room it is for (``general`` when ``recipient`` is None), or
        None for a direct message."""
        return room_of(self.recipient)


@attrs.frozen
class ChatMessage(Event):
    """A chat message delivered by the server, committed to history as ``seq``."""

    seq: int
    timestamp_ms: int
    client_id: int
    sender: str
    recipient: str | None
    text: str

    @property
    def room(self) -> str | None:
        """The room it was said in, or None for a direct message."""
        return room_of(self.recipient)


@attrs.frozen
class ChatRejected(Event):
    """The server refused a ``SendChat`` (unknown recipient, flood limit)."""

    client_id: int
    reason: str
    message: str = ""


@attrs.frozen
class Presence(Event):
    user: str
    state: PresenceState
    participant_count: int


# -- files ------------------------------------------------------------------


@attrs.frozen
class FileOffer(Event):
    """A client announces an upload; chunks follow once it is accepted."""

    upload_id: int
    name: str
    size: int
    sha256: bytes
    recipient: str | None = None

    @property
    def room(self) -> str | None:
        """The room it is for, or None for a file to one user."""
        return room_of(self.recipient)


@attrs.frozen
class FileAccepted(Event):
    upload_id: int


@attrs.frozen
class FileRejected(Event):
    """The server refused an upload, before or after its chunks."""

    upload_id: int
    reason: str
    message: str = ""


@attrs.frozen
class FileChunk(Event):
    """Bytes of an upload (client to server, ``transfer_id`` = upload id) or
    of a fetch (server to client, ``transfer_id`` = file id)."""

    transfer_id: int
    offset: int
    data: bytes = attrs.field(repr=lambda d: f"<{len(d)} bytes>")


@attrs.frozen
class FileEnd(Event):
    """The last chunk of a transfer has been sent."""

    transfer_id: int


@attrs.frozen
class FileAvailable(Event):
    """A verified file, announced as history entry ``seq``.

    ``upload_id`` echoes the uploader's id on the uploader's own connection,
    so the uploader knows its upload is complete; every other connection
    (and every replay) gets 0.
    """

    seq: int
    timestamp_ms: int
    file_id: int
    sender: str
    recipient: str | None
    name: str
    size: int
    sha256: bytes
    upload_id: int = 0

    @property
    def room(self) -> str | None:
        """The room it was shared in, or None for a file to one user."""
        return room_of(self.recipient)


@attrs.frozen
class UploadTicket(Event):
    """The token that the HTTP upload of an accepted upload's bytes must carry
    (version 5, WebSocket only).

    ``PUT /files/upload/UPLOAD_ID`` carries it as ``Upload-Token`` (lowercase
    hex); it lasts ``expires_in_ms`` after it was issued or after the last
    byte the server took for that upload, whichever is later."""

    upload_id: int
    token: bytes = attrs.field(repr=False)
    expires_in_ms: int


@attrs.frozen
class FetchFile(Event):
    """Ask for a file's bytes from ``offset`` (non-zero to resume)."""

    file_id: int
    offset: int = 0


@attrs.frozen
class FetchRejected(Event):
    file_id: int
    reason: str
    message: str = ""


# -- not on the wire --------------------------------------------------------


@attrs.frozen
class ConnectionClosed(Event):
    """The peer closed its side of the byte stream.

    ``clean`` is true when it said ``Goodbye`` or ``Error`` first.
    """

    clean: bool
