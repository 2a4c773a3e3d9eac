"""chatproto: the sans-IO protocol of the LAN chat, and its client session.

The core (events, framing, state machines, file helpers) does no I/O; the
client session in ``chatproto.session`` is the thin socket adapter over it.
"""

from .connection import (
    NEED_DATA,
    ClientConnection,
    Connection,
    PreparedEvent,
    ServerConnection,
    prepare,
)
from .errors import ErrorCode, LocalProtocolError, ProtocolError, RemoteProtocolError
from .events import (
    ChatMessage,
    ChatRejected,
    ConnectionClosed,
    Error,
    Event,
    FetchFile,
    FetchRejected,
    FileAccepted,
    FileAvailable,
    FileChunk,
    FileEnd,
    FileOffer,
    FileRejected,
    Goodbye,
    Hello,
    Login,
    LoginAccepted,
    LoginRejected,
    LoginRejectReason,
    Participant,
    ParticipantList,
    ParticipantState,
    Ping,
    Pong,
    Presence,
    PresenceState,
    RejectReason,
    SendChat,
)
from .files import (
    Chunk,
    Reassembler,
    ReassemblyError,
    iter_chunks,
    sanitize_filename,
    sha256_of,
    unique_name,
)
from .heartbeat import Heartbeat, HeartbeatAction
from .limits import PROTOCOL_VERSION, Limits
from .names import is_valid_username, username_problem, username_skeleton
from .participants import PARTICIPANT_STATE_OF, apply_presence
from .state import STATE_NEUTRAL_BROADCASTS, Role, State
from .wire import encode_event, participant_pages

__version__ = "0.1.0"

__all__ = [
    "PARTICIPANT_STATE_OF",
    "NEED_DATA",
    "PROTOCOL_VERSION",
    "STATE_NEUTRAL_BROADCASTS",
    "ChatMessage",
    "ChatRejected",
    "Chunk",
    "ClientConnection",
    "Connection",
    "ConnectionClosed",
    "Error",
    "ErrorCode",
    "Event",
    "FetchFile",
    "FetchRejected",
    "FileAccepted",
    "FileAvailable",
    "FileChunk",
    "FileEnd",
    "FileOffer",
    "FileRejected",
    "Goodbye",
    "Heartbeat",
    "HeartbeatAction",
    "Hello",
    "Limits",
    "LocalProtocolError",
    "Login",
    "LoginAccepted",
    "LoginRejectReason",
    "LoginRejected",
    "Participant",
    "ParticipantList",
    "ParticipantState",
    "Ping",
    "Pong",
    "PreparedEvent",
    "Presence",
    "PresenceState",
    "ProtocolError",
    "Reassembler",
    "ReassemblyError",
    "RejectReason",
    "RemoteProtocolError",
    "Role",
    "SendChat",
    "ServerConnection",
    "State",
    "encode_event",
    "is_valid_username",
    "iter_chunks",
    "apply_presence",
    "participant_pages",
    "prepare",
    "sanitize_filename",
    "sha256_of",
    "unique_name",
    "username_problem",
    "username_skeleton",
]
