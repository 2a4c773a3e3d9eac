"""The client session: the one socket adapter every frontend uses.

``AsyncSession`` is the implementation, on asyncio streams; ``Session`` is
its blocking face on a background thread, handing events to the caller's
thread through ``session.events`` (a ``queue.Queue``). Rooms and search
(protocol version 4) are methods of both (``rooms.py``). See ``docs/client.md``.
"""

from ..client_requests import SearchPage
from ..limits import SKIP_REPLAY
from .asyncsession import AsyncSession
from .blocking import Session
from .errors import (
    ChatError,
    ConnectionLost,
    FileRefused,
    LoginRefused,
    MessageRefused,
    PinFileError,
    RequestRefused,
    ServerUnreachable,
)
from .failover import connect_any, reconnect_any
from .localfiles import partial_path
from .notices import Disconnected, Progress
from .reconnect import RETRYABLE_LOGIN_CODES, Backoff, RetryPlan, reconnect, retryable
from .seqstore import HistoryMark, SeqStore, default_state_file
from .servers import (
    MAX_SERVERS,
    ServerAddress,
    ServerListError,
    format_servers,
    parse_server,
    parse_servers,
)
from .tls import (
    NO_TLS,
    AliasMismatch,
    CertificateRefused,
    ClientTLS,
    FingerprintMismatch,
    PeerTrust,
    PinRequest,
    PinStore,
    TLSFailed,
    TrustMode,
)
from .transfers import ProgressCallback

__all__ = [
    "MAX_SERVERS",
    "NO_TLS",
    "RETRYABLE_LOGIN_CODES",
    "SKIP_REPLAY",
    "AliasMismatch",
    "AsyncSession",
    "Backoff",
    "CertificateRefused",
    "ChatError",
    "ClientTLS",
    "ConnectionLost",
    "Disconnected",
    "FileRefused",
    "FingerprintMismatch",
    "HistoryMark",
    "LoginRefused",
    "MessageRefused",
    "PeerTrust",
    "PinFileError",
    "PinRequest",
    "PinStore",
    "Progress",
    "ProgressCallback",
    "RequestRefused",
    "RetryPlan",
    "SearchPage",
    "SeqStore",
    "ServerAddress",
    "ServerListError",
    "ServerUnreachable",
    "Session",
    "TLSFailed",
    "TrustMode",
    "connect_any",
    "default_state_file",
    "format_servers",
    "parse_server",
    "parse_servers",
    "partial_path",
    "reconnect",
    "reconnect_any",
    "retryable",
]
