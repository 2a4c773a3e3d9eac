"""A client's bookkeeping, sans-IO: what it waits for and whom it sees.

Theory of operation. ``ClientConnection`` knows what the server may send
next; ``ClientState`` knows what *we* are waiting for. An adapter feeds it
every event the connection decodes (``receive``) and registers each request
it is about to send (``start_chat``, ``start_upload``, ``start_fetch``, which
also build the event to send). ``receive`` answers with outcomes, small
frozen values that say what the event means for us: a pending send was
delivered or refused, an upload accepted, refused or completed, a fetch's
bytes, its end or its refusal, the login complete with every page of the
participant list, and ``HandOn`` for what the user should see. The adapter
turns outcomes into futures, callbacks or whatever its I/O model has; this
module owns no clock, socket, thread or file, so tests drive it directly.

The rules it holds:

- A ``ChatMessage`` completes our pending send only if it comes from us,
  echoes its client id *and* carries the same text and recipient: history
  replays bring the client ids of earlier sessions back, and a fresh session
  starts its ids at a random point, so neither alone keeps them apart.
- An accepted upload's ``UploadTicket`` (version 5, WebSocket only) is
  handed on as ``UploadTicketed``: its token authorises the HTTP upload of
  its bytes. (The connection refuses a ticket of an upload not accepted.)
- An upload is completed by our own ``FileAvailable`` echoing its upload id
  with the offered size, hash and recipient (not the name: a server may
  clean it up). Accepted or not, an upload ends with its completion or its
  refusal, and events for it after that are not ours any more.
- A fetch is keyed by file id; its chunks are routed until its ``FileEnd``
  or ``FetchRejected``, which both end it.
- Participants: the login's pages first, then every ``Presence`` through
  ``apply_presence``. The table is replaced, never changed in place, so a
  reader on another thread always sees a whole one.
- ``last_seq`` is the highest sequence number seen; after the login it starts
  from the last one seen before (or from 0 when the server's history is
  another one).
- Recipients are compared as the server compares names, by skeleton: it
  echoes a message to ``BOB`` as to ``bob``, and one to ``#Dev`` as to
  ``#dev``, the names as registered.
- Room requests and searches (version 4) are ``requests``, a
  ``ClientRequests``: their answers become its outcomes here, and a
  ``Membership`` is handed on as a ``Presence`` is.

Events this object has no stake in (``Ping``, ``Goodbye``, ``Error``...)
give no outcome: they are the adapter's business. Outcomes for ids nobody
waits for are never produced, so an adapter may look its waiters up without
a miss being an error (it may still have forgotten one: a cancelled send).

The outcomes themselves are defined in ``client_outcomes.py`` and
re-exported here, their import path.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator

import attrs

# Defined apart and re-exported (``__all__``): their import path stays this module.
from .client_outcomes import (
    ChatDelivered,
    ChatRefused,
    FetchData,
    FetchEnded,
    FetchRefused,
    HandOn,
    LoginComplete,
    Outcome,
    UploadAccepted,
    UploadCompleted,
    UploadRefused,
    UploadTicketed,
)
from .client_requests import ClientRequests
from .events import (
    ChatMessage,
    ChatRejected,
    Event,
    FetchFile,
    FetchRejected,
    FileAccepted,
    FileAvailable,
    FileChunk,
    FileEnd,
    FileOffer,
    FileRejected,
    LoginAccepted,
    Membership,
    Participant,
    ParticipantList,
    ParticipantState,
    Presence,
    RequestDone,
    RequestRejected,
    RoomList,
    SearchDone,
    SearchHit,
    SendChat,
    UploadTicket,
)
from .participants import apply_presence
from .targets import same_target

_ANSWERS = (RequestDone, RequestRejected, RoomList, SearchHit, SearchDone)

_NOTHING: tuple[Outcome, ...] = ()


@attrs.define
class _Upload:
    offer: FileOffer
    accepted: bool = False

    def announced_by(self, announcement: FileAvailable) -> bool:
        offer = self.offer
        return (offer.size, offer.sha256) == (announcement.size, announcement.sha256) and (
            same_target(offer.recipient, announcement.recipient)
        )


def _random_start() -> int:
    return secrets.randbelow(2**31) + 1


# -- the state -----------------------------------------------------------------


class ClientState:
    """One client's pending requests and view of the chat (see the module)."""

    def __init__(
        self,
        *,
        last_seen_seq: int = 0,
        first_client_id: int | None = None,
        first_upload_id: int | None = None,
        first_request_id: int | None = None,
    ) -> None:
        """``last_seen_seq`` is what the login asked to resume after; the
        first ids default to random points (tests pass fixed ones)."""
        self._last_seen_seq = last_seen_seq
        self._client_ids: Iterator[int] = itertools.count(
            _random_start() if first_client_id is None else first_client_id
        )
        self._upload_ids: Iterator[int] = itertools.count(
            _random_start() if first_upload_id is None else first_upload_id
        )
        self._listing: LoginAccepted | None = None
        self._pages: list[Participant] = []
        #: The complete ``LoginAccepted``, once every page is in.
        self.login: LoginAccepted | None = None
        #: Our user name as the server spelled it ("" before the login).
        self.username = ""
        self.last_seq = 0
        #: name -> state of every participant (active and deactivated users);
        #: replaced, never mutated, so other threads may read it safely.
        self.participants: dict[str, ParticipantState] = {}
        self._chats: dict[int, SendChat] = {}
        self._uploads: dict[int, _Upload] = {}
        self._fetches: set[int] = set()
        #: The open room requests and searches; build them here.
        self.requests = ClientRequests(first_request_id=first_request_id)

    # -- what is open (for adapters and tests) ---------------------------------

    @property
    def pending_chat_ids(self) -> frozenset[int]:
        return frozenset(self._chats)

    @property
    def open_upload_ids(self) -> frozenset[int]:
        return frozenset(self._uploads)

    @property
    def open_fetch_ids(self) -> frozenset[int]:
        return frozenset(self._fetches)

    # -- our requests ----------------------------------------------------------

    def start_chat(self, text: str, recipient: str | None = None) -> SendChat:
        """The ``SendChat`` to send, registered as pending under a fresh id."""
        chat = SendChat(text, recipient, next(self._client_ids))
        self._chats[chat.client_id] = chat
        return chat

    def start_upload(
        self, name: str, size: int, sha256: bytes, recipient: str | None = None
    ) -> FileOffer:
        """The ``FileOffer`` to send, registered under a fresh upload id."""
        offer = FileOffer(next(self._upload_ids), name, size, sha256, recipient)
        self._uploads[offer.upload_id] = _Upload(offer)
        return offer

    def start_fetch(self, file_id: int, offset: int = 0) -> FetchFile:
        """The ``FetchFile`` to send; one fetch per file at a time, as the
        protocol allows (a caller bug raises ``ValueError``)."""
        if file_id in self._fetches:
            raise ValueError(f"file {file_id} is already being fetched")
        self._fetches.add(file_id)
        return FetchFile(file_id, offset)

    # Nobody waits any more (sent nothing after all, cancelled, finished): a
    # late answer is then not ours. Forgetting what is not open is harmless.

    def forget_chat(self, client_id: int) -> None:
        self._chats.pop(client_id, None)

    def forget_upload(self, upload_id: int) -> None:
        self._uploads.pop(upload_id, None)

    def forget_fetch(self, file_id: int) -> None:
        self._fetches.discard(file_id)

    # -- the server's events ---------------------------------------------------

    def receive(self, event: Event) -> tuple[Outcome, ...]:
        """What ``event`` from the server means for us, in the order to act."""
        if isinstance(event, ChatMessage):
            return self._chat_message(event)
        if isinstance(event, Presence):
            participants = dict(self.participants)
            apply_presence(participants, event)
            self.participants = participants
            return (HandOn(event),)
        if isinstance(event, FileAvailable):
            return self._file_available(event)
        if isinstance(event, FileChunk):
            if event.transfer_id not in self._fetches:
                return _NOTHING
            return (FetchData(event.transfer_id, event.offset, event.data),)
        if isinstance(event, FileEnd):
            return self._end_fetch(event.transfer_id, FetchEnded(event.transfer_id))
        if isinstance(event, FetchRejected):
            refused = FetchRefused(event.file_id, event.reason, event.message)
            return self._end_fetch(event.file_id, refused)
        if isinstance(event, ChatRejected):
            if self._chats.pop(event.client_id, None) is None:
                return _NOTHING
            return (ChatRefused(event.client_id, event.reason, event.message),)
        if isinstance(event, FileAccepted):
            upload = self._uploads.get(event.upload_id)
            if upload is None or upload.accepted:
                return _NOTHING
            upload.accepted = True
            return (UploadAccepted(event.upload_id),)
        if isinstance(event, UploadTicket):
            upload = self._uploads.get(event.upload_id)
            if upload is None or not upload.accepted:
                return _NOTHING
            return (UploadTicketed(event.upload_id, event.token, event.expires_in_ms),)
        if isinstance(event, FileRejected):
            if self._uploads.pop(event.upload_id, None) is None:
                return _NOTHING
            return (UploadRefused(event.upload_id, event.reason, event.message),)
        if isinstance(event, _ANSWERS):
            return self.requests.receive(event)
        if isinstance(event, Membership):
            return (HandOn(event),)
        if isinstance(event, LoginAccepted | ParticipantList):
            return self._login_page(event)
        return _NOTHING

    def _chat_message(self, event: ChatMessage) -> tuple[Outcome, ...]:
        self.last_seq = max(self.last_seq, event.seq)
        pending = self._chats.get(event.client_id) if event.sender == self.username else None
        if (
            pending is None
            or pending.text != event.text
            or not same_target(pending.recipient, event.recipient)
        ):
            return (HandOn(event),)
        del self._chats[event.client_id]
        return (ChatDelivered(event.client_id, event), HandOn(event))

    def _file_available(self, event: FileAvailable) -> tuple[Outcome, ...]:
        self.last_seq = max(self.last_seq, event.seq)
        upload = self._uploads.get(event.upload_id) if event.sender == self.username else None
        if upload is None or not upload.announced_by(event):
            return (HandOn(event),)
        del self._uploads[event.upload_id]
        return (UploadCompleted(event.upload_id, event), HandOn(event))

    def _end_fetch(self, file_id: int, outcome: FetchEnded | FetchRefused) -> tuple[Outcome, ...]:
        if file_id not in self._fetches:
            return _NOTHING
        self._fetches.remove(file_id)
        return (outcome,)

    def _login_page(self, event: LoginAccepted | ParticipantList) -> tuple[Outcome, ...]:
        if isinstance(event, LoginAccepted):
            if self.login is not None or self._listing is not None:
                return _NOTHING
            self._listing = event
        elif self._listing is None:
            return _NOTHING
        self._pages.extend(event.participants)
        listing = self._listing
        # The codec guarantees the count is never below the pages; the
        # connection, that pages never run past it.
        if len(self._pages) < listing.participant_count:
            return _NOTHING
        accepted = attrs.evolve(listing, participants=tuple(self._pages))
        self._listing, self._pages = None, []
        self.login = accepted
        self.username = accepted.username
        self.participants = {p.name: p.state for p in accepted.participants}
        # After a reset the old seq means nothing here: count from the replay.
        self.last_seq = 0 if accepted.history_reset else min(
            self._last_seen_seq, accepted.last_seq
        )
        return (LoginComplete(accepted),)


__all__ = [
    "ChatDelivered",
    "ChatRefused",
    "ClientState",
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
