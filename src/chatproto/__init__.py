"""chatproto: the sans-IO protocol of the LAN chat, and its client session.

The core (events, framing, state machines, file helpers) does no I/O; the
client session in ``chatproto.session`` is the thin socket adapter over it.

The public API is what this module exports (``__all__``), plus three modules
whose contents are public as a whole: ``chatproto.events`` (the same event
classes, for ``from chatproto import events as ev``), ``chatproto.limits``
(the numbers of docs/protocol.md section 4) and ``chatproto.fingerprints``
(certificate fingerprints as users compare them). Every other module is the
core's own business and may change without notice; those with a leading
underscore are the codec's machinery and generated data.
"""

from ._codec import encode_event
from .client_state import (
    ChatDelivered,
    ChatRefused,
    ClientState,
    FetchData,
    FetchEnded,
    FetchRefused,
    HandOn,
    LoginComplete,
    Outcome,
    UploadAccepted,
    UploadCompleted,
    UploadRefused,
)
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
    TransientLogin,
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
from .participants import (
    PARTICIPANT_STATE_OF,
    apply_presence,
    participant_count_text,
    participant_pages,
)
from .state import STATE_NEUTRAL_BROADCASTS, Role, State

__version__ = "0.1.0"

__all__ = [
    "PARTICIPANT_STATE_OF",
    "NEED_DATA",
    "PROTOCOL_VERSION",
    "STATE_NEUTRAL_BROADCASTS",
    "ChatDelivered",
    "ChatMessage",
    "ChatRefused",
    "ChatRejected",
    "Chunk",
    "ClientConnection",
    "ClientState",
    "Connection",
    "ConnectionClosed",
    "Error",
    "ErrorCode",
    "Event",
    "FetchData",
    "FetchEnded",
    "FetchFile",
    "FetchRefused",
    "FetchRejected",
    "FileAccepted",
    "FileAvailable",
    "FileChunk",
    "FileEnd",
    "FileOffer",
    "FileRejected",
    "Goodbye",
    "HandOn",
    "Heartbeat",
    "HeartbeatAction",
    "Hello",
    "Limits",
    "LocalProtocolError",
    "Login",
    "LoginAccepted",
    "LoginComplete",
    "LoginRejectReason",
    "LoginRejected",
    "Outcome",
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
    "TransientLogin",
    "UploadAccepted",
    "UploadCompleted",
    "UploadRefused",
    "encode_event",
    "is_valid_username",
    "iter_chunks",
    "apply_presence",
    "participant_count_text",
    "participant_pages",
    "prepare",
    "sanitize_filename",
    "sha256_of",
    "unique_name",
    "username_problem",
    "username_skeleton",
]
