"""Field kinds: how each field of a message is carried, checked and converted.

A fixed kind is a ``struct`` code; a variable kind has a length prefix, a
maximum length, and functions between value and bytes. ``wire.LAYOUTS``
builds every message from these kinds; both codecs (``_reference_codec.py``,
``_generated_codec.py``) call the same checks and conversions, which raise
``FieldError`` and nothing else for a bad value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from . import events as ev
from .errors import ErrorCode
from .limits import (
    MAX_FILENAME_BYTES,
    MAX_MESSAGE_BYTES,
    MAX_PASSWORD_BYTES,
    MAX_QUERY_BYTES,
    MAX_RECIPIENT_BYTES,
    MAX_SOFTWARE_BYTES,
    MAX_TEXT_BYTES,
    MAX_TOKEN_BYTES,
    MAX_USERNAME_BYTES,
    RESUME_TOKEN_BYTES,
    ROOM_PREFIX,
    is_valid_token,
    username_problem,
)
from .targets import is_general


class FieldError(Exception):
    """A field or value failed validation, with the ``ErrorCode`` to report.

    The reference codec turns it into ``LocalProtocolError`` (encoding) or
    ``RemoteProtocolError`` (decoding); from a generated function it is one of
    the signals that send ``_codec.py`` to the reference codec."""

    def __init__(self, message: str, code: str = ErrorCode.INVALID_FIELD) -> None:
        super().__init__(message)
        self.code = code


@attrs.frozen
class Kind:
    """How one field is carried.

    Fixed kinds have a ``struct`` code; variable kinds have a length-prefix
    code, a maximum length in bytes, and functions between value and bytes.
    """

    name: str
    struct_code: str
    variable: bool = False
    max_bytes: int = 0
    to_bytes: Callable[[Any], bytes] | None = None
    from_bytes: Callable[[bytes], Any] | None = None
    check: Callable[[Any], None] | None = None


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FieldError("a text field is not valid UTF-8", ErrorCode.BAD_UTF8) from None


def _check_name(value: Any) -> None:
    if not isinstance(value, str):
        raise FieldError("a user name must be a str")
    problem = username_problem(value)
    if problem is not None:
        raise FieldError(f"invalid user name {value!r}: {problem}")


#: Validated user names, both ways. Names repeat constantly on a chat server
#: (every message has a sender, every login the participant list), and
#: validation (``names.py``) is the costly part. Bounded: a peer sending new
#: names only ever empties the caches.
NAME_CACHE_SIZE = 8192
_names_by_bytes: dict[bytes, str] = {}
_bytes_by_name: dict[str, bytes] = {}


def name_from_bytes(raw: bytes) -> str:
    """The valid user name ``raw`` encodes; raises ``FieldError``."""
    name = _names_by_bytes.get(raw)
    if name is None:
        name = _utf8(raw)
        _check_name(name)
        if len(_names_by_bytes) >= NAME_CACHE_SIZE:
            _names_by_bytes.clear()
        _names_by_bytes[raw] = name
    return name


def name_to_bytes(name: Any) -> bytes:
    """The UTF-8 of the valid user name ``name``; raises ``FieldError``."""
    raw = _bytes_by_name.get(name) if type(name) is str else None
    if raw is None:
        _check_name(name)
        raw = name.encode("utf-8")
        if len(_bytes_by_name) >= NAME_CACHE_SIZE:
            _bytes_by_name.clear()
        _bytes_by_name[name] = raw
    return raw


#: Validated recipients (``targets.py``), both ways; bounded as the names are.
_targets_by_bytes: dict[bytes, str] = {}
_bytes_by_target: dict[str, bytes] = {}


def _check_room_name(room: str) -> None:
    if is_general(room):
        # One spelling for general: no recipient at all (targets.py).
        raise FieldError(f"the room {room!r} is general, which is written as no recipient")


def target_from_bytes(raw: bytes) -> str:
    """The valid non-empty recipient ``raw`` encodes: a user name or ``#room``."""
    target = _targets_by_bytes.get(raw)
    if target is None:
        if raw[:1] == b"#":
            room = name_from_bytes(raw[1:])
            _check_room_name(room)
            target = ROOM_PREFIX + room
        else:
            target = name_from_bytes(raw)
        if len(_targets_by_bytes) >= NAME_CACHE_SIZE:
            _targets_by_bytes.clear()
        _targets_by_bytes[raw] = target
    return target


def target_to_bytes(target: Any) -> bytes:
    """The UTF-8 of the valid non-empty recipient ``target``; raises ``FieldError``."""
    raw = _bytes_by_target.get(target) if type(target) is str else None
    if raw is None:
        if type(target) is str and target.startswith(ROOM_PREFIX):
            room = target[1:]
            raw = b"#" + name_to_bytes(room)
            _check_room_name(room)
        else:
            raw = name_to_bytes(target)
        if len(_bytes_by_target) >= NAME_CACHE_SIZE:
            _bytes_by_target.clear()
        _bytes_by_target[target] = raw
    return raw


def _check_target(value: Any) -> None:
    if value is not None:
        target_to_bytes(value)


def _decode_target(raw: bytes) -> str | None:
    return target_from_bytes(raw) if raw else None


def _encode_target(value: Any) -> bytes:
    return b"" if value is None else target_to_bytes(value)


def _check_room(value: Any) -> None:
    _check_name(value)
    _check_room_name(value)


def _check_optional_room(value: Any) -> None:
    if value is not None:
        _check_name(value)


def _check_query(value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise FieldError("a search query must be a non-empty str")


def _check_optional_name(value: Any) -> None:
    if value is not None:
        _check_name(value)


def _check_token(value: Any) -> None:
    if not isinstance(value, str) or not is_valid_token(value):
        raise FieldError(f"invalid code {value!r}")


def _check_filename(value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise FieldError("a file name must be a non-empty str")
    if "\x00" in value:
        raise FieldError("a file name must not contain NUL")


def _check_password(value: Any) -> None:
    # Empty is a Login by resume token: ``rules.login`` wants exactly one of the two.
    if not isinstance(value, str):
        raise FieldError("the password must be a str")


def _check_resume_token(value: Any) -> None:
    if type(value) is not bytes or len(value) not in (0, RESUME_TOKEN_BYTES):
        raise FieldError(f"a resume token is empty or {RESUME_TOKEN_BYTES} bytes")


def _encode_str(value: Any) -> bytes:
    if not isinstance(value, str):
        raise FieldError(f"expected str, got {type(value).__name__}")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError("text contains unpaired surrogates", ErrorCode.BAD_UTF8) from None


def _encode_optional(value: Any) -> bytes:
    return b"" if value is None else _encode_str(value)


def _decode_optional(raw: bytes) -> str | None:
    return _utf8(raw) if raw else None


def _encode_bytes(value: Any) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise FieldError(f"expected bytes, got {type(value).__name__}")
    return bytes(value)


PRESENCE_CODES = {
    ev.PresenceState.JOINED: 1,
    ev.PresenceState.LEFT: 2,
    ev.PresenceState.DEACTIVATED: 3,
    ev.PresenceState.REJOINED: 4,
}
PRESENCE_BY_CODE = {code: state for state, code in PRESENCE_CODES.items()}
MEMBERSHIP_CODES = {ev.MembershipState.JOINED: 1, ev.MembershipState.LEFT: 2}
MEMBERSHIP_BY_CODE = {code: state for state, code in MEMBERSHIP_CODES.items()}


U8 = Kind("u8", "B")
U16 = Kind("u16", "H")
U32 = Kind("u32", "I")
U64 = Kind("u64", "Q")
BOOL = Kind("bool", "B")
SHA256 = Kind("sha256", "32s")
PRESENCE = Kind("presence", "B")
NAME = Kind("name", "B", True, MAX_USERNAME_BYTES, _encode_str, _utf8, _check_name)
#: The name in a Login is only length-checked: judging it is the server's
#: job, so that a bad name gets ``LoginRejected(invalid-name)``, not a
#: broken connection.
LOGIN_NAME = Kind("login-name", "B", True, MAX_USERNAME_BYTES, _encode_str, _utf8)
OPTIONAL_NAME = Kind(
    "optional-name", "B", True, MAX_USERNAME_BYTES, _encode_optional, _decode_optional,
    _check_optional_name,
)
TOKEN = Kind("token", "B", True, MAX_TOKEN_BYTES, _encode_str, _utf8, _check_token)
SOFTWARE = Kind("software", "B", True, MAX_SOFTWARE_BYTES, _encode_str, _utf8)
MESSAGE = Kind("message", "H", True, MAX_MESSAGE_BYTES, _encode_str, _utf8)
PASSWORD = Kind("password", "H", True, MAX_PASSWORD_BYTES, _encode_str, _utf8, _check_password)
FILENAME = Kind("filename", "H", True, MAX_FILENAME_BYTES, _encode_str, _utf8, _check_filename)
TEXT = Kind("text", "I", True, MAX_TEXT_BYTES, _encode_str, _utf8)
#: Empty (none) or ``RESUME_TOKEN_BYTES`` random bytes; length-prefixed so a
#: password Login and a LoginAccepted without a token pay one byte for it.
RESUME_TOKEN = Kind(
    "resume-token", "B", True, RESUME_TOKEN_BYTES, _encode_bytes, bytes, _check_resume_token
)
#: Where a message goes (``targets.py``): none for ``general``, a user name,
#: or ``#`` and a room name.
TARGET = Kind(
    "recipient", "B", True, MAX_RECIPIENT_BYTES, _encode_target, _decode_target, _check_target
)
#: A room name: a user name by every rule (3.2), and never ``general``'s
#: skeleton where a room other than general is meant.
ROOM = Kind("room", "B", True, MAX_USERNAME_BYTES, _encode_str, _utf8, _check_room)
#: A room name that may be ``general``, or none (a search over every room).
OPTIONAL_ROOM = Kind(
    "optional-room", "B", True, MAX_USERNAME_BYTES, _encode_optional, _decode_optional,
    _check_optional_room,
)
MEMBERSHIP = Kind("membership", "B")
#: The one-byte state codes: kind -> (the enum, code by member, member by code).
ENUM_KINDS: dict[Kind, tuple[type, dict[Any, int], dict[int, Any]]] = {
    PRESENCE: (ev.PresenceState, PRESENCE_CODES, PRESENCE_BY_CODE),
    MEMBERSHIP: (ev.MembershipState, MEMBERSHIP_CODES, MEMBERSHIP_BY_CODE),
}
QUERY = Kind("query", "H", True, MAX_QUERY_BYTES, _encode_str, _utf8, _check_query)
#: Raw bytes filling the rest of the payload; bounded by the frame size.
DATA = Kind("data", "", True, 0, _encode_bytes, bytes)

#: The largest value of each unsigned ``struct`` code.
MAX_UNSIGNED = {"B": 0xFF, "H": 0xFFFF, "I": 0xFFFF_FFFF, "Q": 0xFFFF_FFFF_FFFF_FFFF}
