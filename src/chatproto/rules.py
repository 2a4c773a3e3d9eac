"""Value rules that span a whole event rather than one field.

A field kind (``fields.py``) checks what one field can say alone: its type,
length, encoding. Some limits are about values, or about two fields
together: a Hello's frame limit, a file's size, a participant list that must
not be longer than its announced count. They live here, one function per
message type, named by its ``wire.Layout``, and both codecs run them: before
encoding (so ``send`` and ``encode_event`` refuse the event with
``LocalProtocolError`` and leave the connection as it was) and after
decoding (``RemoteProtocolError``). One rule, one place, both directions.
The generated codec runs a rule only on fields it has already type-checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import ErrorCode
from .fields import FieldError
from .limits import (
    MAX_FILE_SIZE,
    MAX_PARTICIPANTS,
    MAX_SEARCH_LIMIT,
    MIN_FRAME_SIZE,
    OLDEST_PROTOCOL_VERSION,
)

#: A rule takes the event (of its layout's class) and raises ``FieldError``.
Rule = Callable[[Any], None]


def hello(event: Any) -> None:
    if event.version < OLDEST_PROTOCOL_VERSION:
        # Version 0 does not exist; version 1 had other Login layouts.
        raise FieldError(
            f"protocol version {event.version} is not spoken (the oldest is "
            f"{OLDEST_PROTOCOL_VERSION})",
            ErrorCode.UNSUPPORTED_VERSION,
        )
    if event.max_frame_size < MIN_FRAME_SIZE:
        raise FieldError(f"max_frame_size {event.max_frame_size} is below {MIN_FRAME_SIZE}")


def login(event: Any) -> None:
    # A token with a password would leave the server to pick one to check,
    # and a client to guess which was used: exactly one, always.
    if (event.password == "") == (event.resume_token == b""):
        raise FieldError("a Login carries a password or a resume token: exactly one of them")


def transient_login(event: Any) -> None:
    if event.password == "":
        raise FieldError("a TransientLogin carries a password")


def login_accepted(event: Any) -> None:
    count = event.participant_count
    if type(count) is not int or count > MAX_PARTICIPANTS:
        raise FieldError(f"participant_count {count!r} is over {MAX_PARTICIPANTS}")
    if len(event.participants) > count:
        raise FieldError(
            f"{len(event.participants)} participants listed, more than the count {count}"
        )


def participant_list(event: Any) -> None:
    if not event.participants:
        raise FieldError("an empty page of the participant list")


def file_size(event: Any) -> None:
    if type(event.size) is int and event.size > MAX_FILE_SIZE:
        raise FieldError(f"file size {event.size} is over {MAX_FILE_SIZE}")


def search_limit(event: Any) -> None:
    if type(event.limit) is int and not 1 <= event.limit <= MAX_SEARCH_LIMIT:
        raise FieldError(f"search limit {event.limit} is not within 1..{MAX_SEARCH_LIMIT}")
