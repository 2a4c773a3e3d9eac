"""A connection's file transfers: its uploads in, and its fetches out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatproto import (
    FetchFile,
    FetchRejected,
    FileAccepted,
    FileChunk,
    FileEnd,
    FileOffer,
    FileRejected,
    RejectReason,
)

from .fetches import stream_file
from .log import log
from .uploads import UploadFailed, Uploads

if TYPE_CHECKING:
    from .client import ClientProtocol


class Transfers:
    def __init__(self, client: ClientProtocol) -> None:
        self.client = client
        self.uploads = Uploads(client.ctx.storage)

    def offer(self, event: FileOffer) -> None:
        client = self.client
        try:
            self.uploads.offer(event, client.hub.accounts)
        except UploadFailed as failure:
            log.info("upload %r from %s refused: %s", event.name, client.username, failure.reason)
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
            "%s uploaded %r (%d bytes)%s", user, announcement.name, announcement.size,
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
