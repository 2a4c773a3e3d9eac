"""Hard limits of the protocol and the validation of names and tokens.

Every length on the wire has a limit, and every limit is checked before the
bytes it governs are buffered or stored.
"""

from __future__ import annotations

import re

import attrs

# The name rule lives in names.py; re-exported here, where it always was.
from . import names as _names
from .names import is_valid_username as is_valid_username
from .names import username_problem as username_problem

PROTOCOL_VERSION = 5
#: The oldest version spoken. Version 1 had no resume tokens: its Login and
#: LoginAccepted have other layouts, so its peers cannot be understood.
#: Version 2 is version 3 without ``TransientLogin``: the same layouts, so a
#: version 3 peer speaks it with a version 2 one.
OLDEST_PROTOCOL_VERSION = 2
#: The first version with ``TransientLogin``: a client sends one only once the
#: server's Hello has answered at least this (docs/protocol.md 7.9).
TRANSIENT_LOGIN_VERSION = 3
#: The first version with rooms, room requests and search (docs/protocol.md
#: 7.10, 7.11): a ``#room`` recipient and the messages 0x30-0x3F are spoken
#: only on a connection whose agreed version is at least this.
ROOMS_VERSION = 4
#: The first version with ``UploadTicket`` (docs/protocol.md 1.1, 7.6): a
#: server sends one after ``FileAccepted`` on a WebSocket connection whose
#: agreed version is at least this, and the browser's HTTP upload must then
#: carry its token. The layouts of version 4 are unchanged.
UPLOAD_TICKET_VERSION = 5

#: The room every account is in, for good: a message to no room and no user
#: (an empty ``recipient``) is a message to it, as in the original program.
GENERAL_ROOM = "general"
#: ``#`` before a room name in a ``recipient`` field (a user name never has it).
ROOM_PREFIX = "#"

#: Frame header: one byte of type, four bytes of payload length.
HEADER_SIZE = 5
#: Nobody may announce a maximum frame size below this: a file chunk of
#: ``DEFAULT_CHUNK_SIZE`` plus its fields must always fit.
MIN_FRAME_SIZE = 65_536 + 64
DEFAULT_MAX_FRAME_SIZE = 1_048_576
ABSOLUTE_MAX_FRAME_SIZE = 16 * 1_048_576
DEFAULT_CHUNK_SIZE = 65_536

MAX_USERNAME_CHARS = _names.MAX_USERNAME_CHARS  # 32, defined with the rest of the name rule
MAX_USERNAME_BYTES = _names.MAX_USERNAME_BYTES  # 128
MAX_PASSWORD_BYTES = 1024
MAX_TEXT_BYTES = 16_384
MAX_MESSAGE_BYTES = 1024  # human messages inside Error / rejections
MAX_FILENAME_BYTES = 255
MAX_SOFTWARE_BYTES = 64
MAX_TOKEN_BYTES = 32
#: A resume token (``LoginAccepted.resume_token``, ``Login.resume_token``):
#: 256 random bits, so guessing one is hopeless (docs/security.md).
RESUME_TOKEN_BYTES = 32
#: An upload token (``UploadTicket.token``): 256 random bits as well.
UPLOAD_TOKEN_BYTES = 32
MAX_PARTICIPANTS = 65_535
MAX_FILE_SIZE = 2**62
MAX_OPEN_UPLOADS = 4
MAX_OPEN_FETCHES = 8
#: A recipient: empty, a user name, or ``#`` and a room name.
MAX_RECIPIENT_BYTES = 1 + _names.MAX_USERNAME_BYTES
#: Room requests (create, join, leave, invite, list, search) awaiting their
#: answer on one connection.
MAX_OPEN_REQUESTS = 16
#: Results one search page may ask for (``SearchHistory.limit``).
MAX_SEARCH_LIMIT = 100
#: A search query, in UTF-8 bytes.
MAX_QUERY_BYTES = 256
#: Entries in one ``RoomList`` page.
MAX_ROOMS_PER_PAGE = 1000
#: ``Login.last_seen_seq`` that asks for no replay at all: for short-lived
#: programs (send one message and leave) that never show history.
SKIP_REPLAY = 2**64 - 1

_TOKEN_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")


@attrs.frozen
class Limits:
    """Limits one side enforces on what it receives.

    ``max_frame_size`` is announced to the peer in ``Hello``; the peer must not
    send a frame whose payload is larger. The other limits (text, names, file
    names) are fixed by the protocol, so both sides always agree on them; an
    application that wants shorter chat messages refuses them with
    ``ChatRejected`` instead of breaking the connection.
    """

    max_frame_size: int = DEFAULT_MAX_FRAME_SIZE

    def __attrs_post_init__(self) -> None:
        if not MIN_FRAME_SIZE <= self.max_frame_size <= ABSOLUTE_MAX_FRAME_SIZE:
            raise ValueError(
                f"max_frame_size must be between {MIN_FRAME_SIZE} and {ABSOLUTE_MAX_FRAME_SIZE}"
            )


def is_valid_token(token: str) -> bool:
    """Machine-readable codes: lowercase ASCII words joined by '-'."""
    return len(token) <= MAX_TOKEN_BYTES and _TOKEN_RE.match(token) is not None


def truncate_utf8(text: str, max_bytes: int) -> str:
    """The longest start of ``text`` whose UTF-8 fits ``max_bytes`` (never half
    a character: the original cut Korean text inside a character and broke)."""
    raw = text.encode("utf-8", errors="surrogatepass")
    if len(raw) <= max_bytes:
        return text
    return raw[: max(max_bytes, 0)].decode("utf-8", errors="ignore")
