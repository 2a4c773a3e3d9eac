"""The open transfers of a conversation, as both peers track them.

An upload is open from its ``FileOffer`` until its ``FileRejected`` or its
``FileAvailable`` on the uploader's connection, a fetch from its
``FetchFile`` until its ``FileEnd`` or ``FetchRejected`` (docs/protocol.md
7.6, 7.7). ``TransferChecks`` holds the rules about them that do not depend
on who sends; ``state.ConversationState`` inherits them, adds the two that
do (``FileChunk`` and ``FileEnd`` go both ways) and puts each check beside
its table.
"""

from __future__ import annotations

from typing import Any, NoReturn

from . import events as ev
from .limits import MAX_OPEN_FETCHES, MAX_OPEN_UPLOADS, UPLOAD_TICKET_VERSION


class Violation(Exception):
    """An event broke the rules; the connection turns it into a Local- or
    RemoteProtocolError depending on who sent it."""

    def __init__(self, message: str, code: str = "unexpected-message") -> None:
        super().__init__(message)
        self.code = code


class _Upload:
    __slots__ = ("accepted", "ended", "next_offset", "size", "ticketed")

    def __init__(self, size: int) -> None:
        self.size = size
        self.next_offset = 0
        self.accepted = False
        self.ended = False
        #: Its ``UploadTicket`` was sent (version 5: at most one per upload).
        self.ticketed = False


class _NoEntries(dict[Any, Any]):
    """The empty dict every connection without transfers (or requests,
    request_state.py) shares: a write to it would reach every connection, so
    it raises instead."""

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("a shared empty table is read-only: replace it first")

    __setitem__ = __delitem__ = setdefault = update = clear = popitem = __ior__ = _refuse


_NO_UPLOADS: dict[int, _Upload] = _NoEntries()
_NO_FETCHES: dict[int, int] = _NoEntries()


class TransferChecks:
    """The transfer rules of ``ConversationState`` that need no role."""

    # Slotted, as ConversationState: one per connection, thousands of them.
    __slots__ = ("_fetches", "_uploads", "username")
    _uploads: dict[int, _Upload]
    _fetches: dict[int, int]  # file id -> next offset
    username: str | None
    version: int  # the agreed version (ConversationState's slot)

    def _file_offer(self, role: object, event: ev.Event) -> None:
        assert isinstance(event, ev.FileOffer)
        if event.upload_id in self._uploads:
            raise Violation(f"upload {event.upload_id} is already open")
        if len(self._uploads) >= MAX_OPEN_UPLOADS:
            raise Violation(f"more than {MAX_OPEN_UPLOADS} uploads open at once")
        if not self._uploads:
            self._uploads = {}
        self._uploads[event.upload_id] = _Upload(event.size)

    def _upload(self, upload_id: int) -> _Upload:
        upload = self._uploads.get(upload_id)
        if upload is None:
            raise Violation(f"no open upload {upload_id}")
        return upload

    def _file_accepted(self, role: object, event: ev.Event) -> None:
        assert isinstance(event, ev.FileAccepted)
        upload = self._upload(event.upload_id)
        if upload.accepted:
            raise Violation(f"upload {event.upload_id} was already accepted")
        upload.accepted = True

    def _upload_ticket(self, role: object, event: ev.Event) -> None:
        # After the upload's FileAccepted, once: the client may have sent
        # its chunks and FileEnd meanwhile (they cross the ticket), so an
        # upload whose bytes are all in may still get it.
        assert isinstance(event, ev.UploadTicket)
        if self.version < UPLOAD_TICKET_VERSION:
            raise Violation(
                f"UploadTicket needs protocol version {UPLOAD_TICKET_VERSION}; "
                f"version {self.version} was agreed"
            )
        upload = self._upload(event.upload_id)
        if not upload.accepted:
            raise Violation(f"UploadTicket before the FileAccepted of upload {event.upload_id}")
        if upload.ticketed:
            raise Violation(f"upload {event.upload_id} has its UploadTicket already")
        upload.ticketed = True

    def _file_rejected(self, role: object, event: ev.Event) -> None:
        assert isinstance(event, ev.FileRejected)
        self._upload(event.upload_id)
        del self._uploads[event.upload_id]

    def _file_available(self, role: object, event: ev.Event) -> None:
        assert isinstance(event, ev.FileAvailable)
        # Only the uploader's connection knows the echoed upload id; upload
        # ids are per connection, so the sender must be this connection's user.
        upload = self._uploads.get(event.upload_id)
        if upload is not None and upload.ended and event.sender == self.username:
            del self._uploads[event.upload_id]

    def _own_chat(self, role: object, event: ev.Event) -> None:
        assert isinstance(event, ev.ChatMessage)
        if event.sender != self.username:
            raise Violation(
                "a transient connection receives only the deliveries of its own messages"
            )

    def _own_file(self, role: object, event: ev.Event) -> None:
        assert isinstance(event, ev.FileAvailable)
        upload = self._uploads.get(event.upload_id)
        if upload is None or not upload.ended or event.sender != self.username:
            raise Violation(
                "a transient connection receives only the announcements of its own uploads"
            )
        del self._uploads[event.upload_id]

    def _fetch(self, role: object, event: ev.Event) -> None:
        assert isinstance(event, ev.FetchFile)
        if event.file_id in self._fetches:
            raise Violation(f"file {event.file_id} is already being fetched")
        if len(self._fetches) >= MAX_OPEN_FETCHES:
            raise Violation(f"more than {MAX_OPEN_FETCHES} fetches open at once")
        if not self._fetches:
            self._fetches = {}
        self._fetches[event.file_id] = event.offset

    def _fetch_rejected(self, role: object, event: ev.Event) -> None:
        assert isinstance(event, ev.FetchRejected)
        if self._fetches.pop(event.file_id, None) is None:
            raise Violation(f"no fetch of file {event.file_id} is open")

    @property
    def open_uploads(self) -> int:
        return len(self._uploads)

    def upload_progress(self, upload_id: int) -> tuple[int, int] | None:
        """(bytes sent so far, size) of an accepted upload whose bytes are
        still to come; None for any other upload id."""
        upload = self._uploads.get(upload_id)
        if upload is None or not upload.accepted or upload.ended:
            return None
        return upload.next_offset, upload.size

    @property
    def open_fetches(self) -> int:
        return len(self._fetches)
