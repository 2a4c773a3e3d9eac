"""The client session: the one socket adapter every frontend uses.

``AsyncSession`` is the implementation, on asyncio streams; ``Session`` is
its blocking face on a background thread, handing events to the caller's
thread through ``session.events`` (a ``queue.Queue``). See ``docs/client.md``.
"""

from .asyncsession import SKIP_REPLAY, AsyncSession
from .blocking import Session
from .errors import (
    ChatError,
    ConnectionLost,
    FileRefused,
    LoginRefused,
    MessageRefused,
    ServerUnreachable,
)
from .localfiles import partial_path
from .notices import Disconnected, Progress
from .seqstore import SeqStore, default_state_file
from .transfers import ProgressCallback

__all__ = [
    "SKIP_REPLAY",
    "AsyncSession",
    "ChatError",
    "ConnectionLost",
    "Disconnected",
    "FileRefused",
    "LoginRefused",
    "MessageRefused",
    "Progress",
    "ProgressCallback",
    "SeqStore",
    "ServerUnreachable",
    "Session",
    "default_state_file",
    "partial_path",
]
