"""The outcomes of ``ClientState.receive``: what a server event means for us.

Small frozen values, no behaviour beyond describing a refusal: an adapter
matches on them and turns each into a future's result, a callback or
whatever its I/O model has. They are apart from ``client_state.py`` because
they are the vocabulary between the state and its adapters, and need none
of its routing: a reader after what ``receive`` may answer finds it here,
one after why it answers so finds the rules there. Room requests and
searches have their own outcomes in ``client_requests.py``, which
``Outcome`` includes.

``chatproto.client_state`` re-exports every public name here and stays their
import path.
"""

from __future__ import annotations

import attrs

from .client_requests import RequestOutcome
from .events import ChatMessage, FileAvailable, LoginAccepted, Membership, Presence


@attrs.frozen
class HandOn:
    """Show ``event`` to the user (a chat message, a presence, a file, a
    room's membership change)."""

    event: ChatMessage | Presence | FileAvailable | Membership


@attrs.frozen
class LoginComplete:
    """The login is over: ``accepted`` carries every page of the list."""

    accepted: LoginAccepted


@attrs.frozen
class ChatDelivered:
    """Our send ``client_id`` was committed to history as ``delivery``."""

    client_id: int
    delivery: ChatMessage


class _Refusal:
    """The server's reason token and its optional free text."""

    __slots__ = ()  # the attrs subclasses are slotted: no __dict__ from here
    reason: str
    detail: str

    def describe(self) -> str:
        """``reason (detail)``, or the bare reason without a detail."""
        return f"{self.reason} ({self.detail})" if self.detail else self.reason


@attrs.frozen
class ChatRefused(_Refusal):
    """The server refused our send ``client_id``."""

    client_id: int
    reason: str
    detail: str = ""


@attrs.frozen
class UploadAccepted:
    """The server wants the bytes of upload ``upload_id``."""

    upload_id: int


@attrs.frozen
class UploadTicketed:
    """The token for sending the bytes of accepted upload ``upload_id`` over
    HTTP (version 5, WebSocket only: docs/protocol.md 1.1)."""

    upload_id: int
    token: bytes = attrs.field(repr=False)
    expires_in_ms: int


@attrs.frozen
class UploadRefused(_Refusal):
    """The server refused upload ``upload_id``, before or after its bytes."""

    upload_id: int
    reason: str
    detail: str = ""


@attrs.frozen
class UploadCompleted:
    """The server verified upload ``upload_id`` and announced it."""

    upload_id: int
    announcement: FileAvailable


@attrs.frozen
class FetchData:
    """Bytes of the fetch of ``file_id``, at ``offset``."""

    file_id: int
    offset: int
    data: bytes = attrs.field(repr=lambda d: f"<{len(d)} bytes>")


@attrs.frozen
class FetchEnded:
    """The server sent the last chunk of the fetch of ``file_id``."""

    file_id: int


@attrs.frozen
class FetchRefused(_Refusal):
    """The server refused the fetch of ``file_id``."""

    file_id: int
    reason: str
    detail: str = ""


Outcome = (
    HandOn
    | LoginComplete
    | ChatDelivered
    | ChatRefused
    | UploadAccepted
    | UploadTicketed
    | UploadRefused
    | UploadCompleted
    | FetchData
    | FetchEnded
    | FetchRefused
    | RequestOutcome
)


__all__ = [
    "ChatDelivered",
    "ChatRefused",
    "FetchData",
    "FetchEnded",
    "FetchRefused",
    "HandOn",
    "LoginComplete",
    "Outcome",
    "UploadAccepted",
    "UploadCompleted",
    "UploadRefused",
    "UploadTicketed",
]
