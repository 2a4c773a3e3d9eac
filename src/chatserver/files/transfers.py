"""A connection's file transfers: its uploads in, and its fetches out.

``Transfers`` gets everything it works with when it is made (the stored
files, the store's file index, the accounts, where finished uploads go), and
of its connection only what ``TransferClient`` says: it never reaches
through the connection to the rest of the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Protocol

import attrs

from chatproto import (
    Event,
    FetchFile,
    FetchRejected,
    FileAvailable,
    FileChunk,
    FileEnd,
    FileOffer,
    FileRejected,
    RejectReason,
    is_room_target,
)

from ..accounts import AccountNames
from ..log import log, peer_quoted
from ..ports import Store
from .fetches import ChunkSender, stream_file
from .uploads import FileStorage, Upload, UploadFailed, Uploads

#: Uploads being copied to their ``FileBytes`` (a reference, so none is collected).
_KEEPING: set[asyncio.Task[None]] = set()


class TransferClient(Protocol):
    """The connection whose transfers these are."""

    @property
    def username(self) -> str | None: ...

    @property
    def outbox(self) -> ChunkSender:
        """Where its fetches' chunks go."""
        ...

    def queue(self, event: Event) -> None: ...

    def upload_accepted(self, upload_id: int) -> None:
        """Queue the ``FileAccepted`` of ``upload_id`` (and whatever its
        transport sends with it: a WebSocket's ``UploadTicket``)."""
        ...

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None: ...


class RoomAccess(Protocol):
    """What the rooms say about files (``rooms.RoomRegistry``)."""

    def target_for(self, user: str, recipient: str) -> str | tuple[RejectReason, str]:
        """The room's ``recipient`` as stored, or why ``user`` may not post there."""
        ...

    def joined(self, user: str) -> Mapping[str, int]:
        """The rooms ``user`` is in, and the seq after which they see each."""
        ...


class Transfers:
    def __init__(
        self,
        client: TransferClient,
        storage: FileStorage,
        store: Store,
        accounts: AccountNames,
        submit: Callable[[FileAvailable, str], None],
        rooms: RoomAccess,
    ) -> None:
        self.client = client
        self.storage = storage
        self.store = store
        self.accounts = accounts
        #: Takes a verified upload and its stored name, to commit and announce.
        self.submit = submit
        self.rooms = rooms
        self.uploads = Uploads(storage)
        #: file id -> upload id of this connection's uploads announced while it
        #: was still replaying: they reach it through the replay, which must
        #: echo the upload id so the upload closes (replays carry 0 otherwise).
        self._announced_in_replay: dict[int, int] = {}

    def announced_in_replay(self, announcement: FileAvailable) -> None:
        self._announced_in_replay[announcement.file_id] = announcement.upload_id

    def as_replayed(self, entry: FileAvailable) -> FileAvailable:
        """``entry`` as this connection must see it in its replay."""
        upload_id = self._announced_in_replay.pop(entry.file_id, None)
        return entry if upload_id is None else attrs.evolve(entry, upload_id=upload_id)

    def offer(self, event: FileOffer) -> None:
        client = self.client
        if is_room_target(event.recipient):
            assert event.recipient is not None and client.username is not None
            target = self.rooms.target_for(client.username, event.recipient)
            if not isinstance(target, str):
                client.queue(FileRejected(event.upload_id, *target))
                return
            if target != event.recipient:  # "#Dev" is #dev, shown as created
                event = attrs.evolve(event, recipient=target)
        elif event.recipient is not None:
            # "BOB" is bob: the file is announced to the name as registered.
            recipient = self.accounts.registered(event.recipient)
            if recipient is not None and recipient != event.recipient:
                event = attrs.evolve(event, recipient=recipient)
        try:
            self.uploads.offer(event, self.accounts)
        except UploadFailed as failure:
            log.info(
                "upload %s from %s refused: %s",
                peer_quoted(event.name), client.username, failure.reason,
            )
            client.queue(failure.rejection(event.upload_id))
            return
        client.upload_accepted(event.upload_id)

    def chunk(self, event: FileChunk) -> None:
        self.uploads.chunk(event.transfer_id, event.data)

    def end(self, event: FileEnd) -> None:
        client, user = self.client, self.client.username
        assert user is not None
        try:
            if not self.storage.bytes.inline:
                announcement, upload = self.uploads.verify(event.transfer_id, user)
                # Not the connection's task: like an upload kept on the disk,
                # one whose FileEnd arrived is announced even if its
                # connection ends meanwhile.
                task = asyncio.get_running_loop().create_task(
                    self._keep_away(announcement, upload))
                _KEEPING.add(task)
                task.add_done_callback(_KEEPING.discard)
                return
            announcement, stored_name = self.uploads.finish(event.transfer_id, user)
        except UploadFailed as failure:
            log.info("upload from %s refused: %s", user, failure.reason)
            client.queue(failure.rejection(event.transfer_id))
            return
        self._submit(announcement, stored_name)

    async def _keep_away(self, announcement: FileAvailable, upload: Upload) -> None:
        """Store a verified upload's bytes off the loop, then announce it: the
        bytes are where every node finds them before anyone hears of the file."""
        try:
            stored_name = await self.storage.keep_away(upload)
        except Exception as exc:  # the backend's error: the upload is refused, not lost unseen
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            log.error("upload from %s could not be stored: %s", announcement.sender, reason)
            self.client.queue(FileRejected(announcement.upload_id, RejectReason.STORAGE_FULL,
                                           "could not store it"))
            return
        self._submit(announcement, stored_name)

    def _submit(self, announcement: FileAvailable, stored_name: str) -> None:
        user = announcement.sender
        log.info(
            "%s uploaded %s (%d bytes)%s", user, peer_quoted(announcement.name), announcement.size,
            f" for {announcement.recipient}" if announcement.recipient else "",
        )
        self.submit(announcement, stored_name)

    def unstored(self, upload_id: int) -> None:
        """The hub could not commit this connection's verified upload."""
        self.client.queue(
            FileRejected(upload_id, RejectReason.STORAGE_FULL, "could not store it")
        )

    def fetch(self, event: FetchFile) -> None:
        client, user = self.client, self.client.username
        assert user is not None
        stored = self.store.file(event.file_id)
        if stored is None or not stored.visible_to(user, self.rooms.joined(user)):
            client.queue(FetchRejected(event.file_id, RejectReason.NOT_FOUND, "no such file"))
        elif event.offset > stored.size:
            client.queue(FetchRejected(event.file_id, RejectReason.BAD_OFFSET, "past the end"))
        else:
            client.spawn(stream_file(client.outbox, stored, self.storage.bytes, event.offset))

    def abort(self) -> None:
        self.uploads.abort_all()
