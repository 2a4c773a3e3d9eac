"""A connection's file transfers: its uploads in, and its fetches out."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from chatproto import (
    FetchFile,
    FetchRejected,
    FileAccepted,
    FileAvailable,
    FileChunk,
    FileEnd,
    FileOffer,
    FileRejected,
    RejectReason,
)

from .fetches import stream_file
from .log import log, peer_quoted
from .uploads import UploadFailed, Uploads

if TYPE_CHECKING:
    from .client import ClientProtocol


class Transfers:
    def __init__(self, client: ClientProtocol) -> None:
        self.client = client
        self.uploads = Uploads(client.ctx.storage)
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
        if event.recipient is not None:
            # "BOB" is bob: the file is announced to the name as registered.
            recipient = client.hub.accounts.registered(event.recipient)
            if recipient is not None and recipient != event.recipient:
                event = attrs.evolve(event, recipient=recipient)
        try:
            self.uploads.offer(event, client.hub.accounts)
        except UploadFailed as failure:
            log.info(
                "upload %s from %s refused: %s",
                peer_quoted(event.name), client.username, failure.reason,
            )
            client.queue(failure.rejection(event.upload_id))
            return
        client.queue(FileAccepted(event.upload_id))

    def chunk(self, event: FileChunk) -> None:
        self.uploads.chunk(event.transfer_id, event.data)

    def end(self, event: FileEnd) -> None:
        client, user = self.client, self.client.username
        assert user is not None
        try:
            announcement, stored_name = self.uploads.finish(event.transfer_id, user)
        except UploadFailed as failure:
            log.info("upload from %s refused: %s", user, failure.reason)
            client.queue(failure.rejection(event.transfer_id))
            return
        log.info(
            "%s uploaded %s (%d bytes)%s", user, peer_quoted(announcement.name), announcement.size,
            f" for {announcement.recipient}" if announcement.recipient else "",
        )
        client.hub.submit_file(announcement, stored_name)

    def unstored(self, upload_id: int) -> None:
        """The hub could not commit this connection's verified upload."""
        self.client.queue(
            FileRejected(upload_id, RejectReason.STORAGE_FULL, "could not store it")
        )

    def fetch(self, event: FetchFile) -> None:
        client, user = self.client, self.client.username
        assert user is not None
        stored = client.hub.store.file(event.file_id)
        if stored is None or not stored.visible_to(user):
            client.queue(FetchRejected(event.file_id, RejectReason.NOT_FOUND, "no such file"))
        elif event.offset > stored.size:
            client.queue(FetchRejected(event.file_id, RejectReason.BAD_OFFSET, "past the end"))
        else:
            path = client.ctx.storage.path_of(stored.stored_name)
            client.spawn(stream_file(client, stored, path, event.offset))

    def abort(self) -> None:
        self.uploads.abort_all()
