"""The events: one small frozen class per message of the protocol.

Field order is wire order (see ``docs/protocol.md``). Validation happens when
an event is encoded (``LocalProtocolError``) or decoded
(``RemoteProtocolError``), not at construction, so that decoding stays cheap
and applications may build events freely.
"""

from __future__ import annotations

from enum import StrEnum

import attrs

from .targets import room_of


class Event:
    """Base class of every protocol event."""

    __slots__ = ()


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


class RequestRejectReason(StrEnum):
    """Reasons for refusing a room request or a search (version 4)."""

    #: No such room, or a private room the user is not a member of (the two
    #: are not told apart, so private rooms stay invisible).
    NOT_FOUND = "not-found"
    #: A room with that name (that skeleton) exists already.
    ALREADY_EXISTS = "already-exists"
    INVALID_NAME = "invalid-name"
    NOT_MEMBER = "not-member"
    ALREADY_MEMBER = "already-member"
    #: Every account is in ``general`` for good.
    CANNOT_LEAVE_GENERAL = "cannot-leave-general"
    #: The user is in as many rooms as the server allows.
    TOO_MANY_ROOMS = "too-many-rooms"
    #: The room has as many members as the server allows.
    ROOM_FULL = "room-full"
    #: The user created as many private rooms as the server allows.
    TOO_MANY_PRIVATE_ROOMS = "too-many-private-rooms"
    UNKNOWN_USER = "unknown-user"
    #: Nothing to search for in the query (only spaces or punctuation).
    BAD_QUERY = "bad-query"
    RATE_LIMITED = "rate-limited"
    SERVER_ERROR = "server-error"


class MembershipState(StrEnum):
    JOINED = "joined"
    LEFT = "left"


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


# -- rooms and search (version 4) ---------------------------------------------
# Requests carry a ``request_id`` chosen by the client, unique among its open
# requests; the server answers each exactly once: ``RequestDone`` or
# ``RequestRejected``, ``RoomList`` pages for ``ListRooms``, ``SearchHit``
# frames and a ``SearchDone`` for ``SearchHistory``.


@attrs.frozen
class RoomInfo:
    """One room in a ``RoomList``: as the asking user may see it."""

    name: str
    member_count: int
    private: bool = False
    #: The asking user is a member.
    member: bool = False


@attrs.frozen
class CreateRoom(Event):
    """Create ``room``, with the sender as its first member."""

    request_id: int
    room: str
    private: bool = False


@attrs.frozen
class JoinRoom(Event):
    """Become a member of the public room ``room``."""

    request_id: int
    room: str


@attrs.frozen
class LeaveRoom(Event):
    """Stop being a member of ``room`` (never ``general``)."""

    request_id: int
    room: str


@attrs.frozen
class InviteToRoom(Event):
    """Make ``user`` a member of ``room``, of which the sender is a member."""

    request_id: int
    room: str
    user: str


@attrs.frozen
class ListRooms(Event):
    """Ask for the rooms the sender may see: public ones and its own."""

    request_id: int


@attrs.frozen
class SearchHistory(Event):
    """Ask for the newest chat messages matching ``query`` that the sender
    may see, with ``seq`` below ``before_seq`` (0: no bound), at most
    ``limit``; ``room`` and ``sender`` narrow it (None: any)."""

    request_id: int
    query: str
    limit: int
    before_seq: int = 0
    room: str | None = None
    sender: str | None = None


@attrs.frozen
class RequestDone(Event):
    """A ``CreateRoom``, ``JoinRoom``, ``LeaveRoom`` or ``InviteToRoom`` succeeded."""

    request_id: int


@attrs.frozen
class RequestRejected(Event):
    """The server refused a request (``RequestRejectReason``)."""

    request_id: int
    reason: str
    message: str = ""


@attrs.frozen
class RoomList(Event):
    """One page of the answer to ``ListRooms``; the last has ``more`` false."""

    request_id: int
    rooms: tuple[RoomInfo, ...]
    more: bool = False


@attrs.frozen
class SearchHit(Event):
    """One result of a ``SearchHistory``, newest first."""

    request_id: int
    seq: int
    timestamp_ms: int
    sender: str
    recipient: str | None
    text: str

    @property
    def room(self) -> str | None:
        return room_of(self.recipient)


@attrs.frozen
class SearchDone(Event):
    """The end of a search page; ``more``: older results exist (ask again
    with ``before_seq`` = the last hit's seq)."""

    request_id: int
    more: bool


@attrs.frozen
class Membership(Event):
    """``user`` joined or left ``room``, which now has ``member_count``
    members; sent to the room's members (the user included)."""

    room: str
    user: str
    state: MembershipState
    member_count: int


# -- not on the wire --------------------------------------------------------


@attrs.frozen
class ConnectionClosed(Event):
    """The peer closed its side of the byte stream.

    ``clean`` is true when it said ``Goodbye`` or ``Error`` first.
    """

    clean: bool
