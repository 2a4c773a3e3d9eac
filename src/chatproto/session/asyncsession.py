"""``AsyncSession``: one logged-in client connection on asyncio streams.

    async with await AsyncSession.connect("localhost", 9000, "frog", "pw") as chat:
        await chat.send_chat("hello")
        async for event in chat.events():
            ...
"""

from __future__ import annotations

import asyncio
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from .. import events as ev
from ..errors import LocalProtocolError
from ..files import Reassembler, sanitize_filename
from ..targets import is_room_target
from .core import DEFAULT_MAX_QUEUED_EVENTS
from .errors import ChatError, FileRefused, MessageRefused
from .handshake import open_and_login
from .localfiles import hash_file, partial_path, publish
from .rooms import RoomOperations, recipient_for
from .servers import ServerAddress
from .tls import ClientTLS, PeerTrust
from .transfers import FetchSink, ProgressCallback, UploadWaiter, feed_prefix, open_upload


class AsyncSession(RoomOperations):
    """A logged-in session. Create it with ``await AsyncSession.connect(...)``.

    Attributes: ``username``, ``new_account``, ``rejoined``, ``participants``
    (name -> ``ParticipantState``, kept current from ``Presence`` events),
    ``last_seq`` (the highest sequence number seen, to resume from) and
    ``epoch`` (the server's history epoch it belongs to: store both),
    ``history_reset`` (the server's history is not the one ``last_seen_seq``
    came from, so everything is being replayed from the start),
    ``trust`` (how the server was trusted: ``PeerTrust``, whose ``mode`` is
    ``TrustMode.NEW_PIN`` on the first contact that pinned its certificate),
    ``resume_token`` (the server's token for the next login of this user, or
    None: pass it to the next ``connect``), ``by_resume_token`` (this login
    used one, and no password was sent), ``transient`` (logged in by a
    transient login: see ``connect``) and ``rooms_supported`` (the server
    has rooms and search: version 4 or later), ``server`` (the
    ``ServerAddress`` connected to: with a list of servers, see
    ``failover.connect_any``, the one that answered).

    Rooms (``rooms.py``): ``create_room``, ``join_room``, ``leave_room``,
    ``invite``, ``list_rooms`` and ``search``; ``send_chat`` and
    ``send_file`` take ``room=``. Room membership changes arrive on the
    event stream as ``Membership`` events, as ``Presence`` events do.
    """

    trust: PeerTrust
    server: ServerAddress
    by_resume_token: bool = False

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        username: str,
        password: str,
        *,
        last_seen_seq: int = 0,
        epoch: int = 0,
        timeout: float = 10.0,
        heartbeat_interval: float = 15.0,
        heartbeat_timeout: float = 45.0,
        keep_events: bool = True,
        max_queued_events: int = DEFAULT_MAX_QUEUED_EVENTS,
        tls: ClientTLS | None = None,
        resume_token: bytes | None = None,
        transient: bool = False,
    ) -> AsyncSession:
        """Connect, greet and log in; raises ``ServerUnreachable``,
        ``CertificateRefused`` (``FingerprintMismatch`` for a changed
        certificate), ``TLSFailed``, ``LoginRefused`` or ``ConnectionLost``.

        ``tls=None`` is the product default, ``ClientTLS()``: TLS, verified by
        the system's CAs or else trusted on first use, with pins in the user's
        config folder and a new pin accepted without asking. Plain TCP only
        with ``tls=NO_TLS`` (``ClientTLS(enabled=False)``).

        ``last_seen_seq`` asks the server to replay what came after it, and
        ``epoch`` says which history it belongs to (0: unknown); a server
        whose history is another one replays everything (``history_reset``).
        ``SKIP_REPLAY`` asks for no replay at all.
        ``resume_token``, the ``resume_token`` of an earlier session of this
        user with this server, logs in without the password (the server skips
        its costly password check); if the server refuses it, the password is
        sent instead on the same connection, or, with ``password`` empty,
        ``LoginRefused`` has the code ``bad-resume-token``.
        With ``keep_events=False`` incoming events only update the session's
        state (for programs that never read ``events()``); otherwise up to
        ``max_queued_events`` wait to be read, then the socket stops being
        read until the program catches up.

        ``transient=True`` logs in for one errand (docs/protocol.md 7.9), as a
        script that sends and leaves should: the user is not a participant
        (``participants`` lists the others, and the user only if logged in
        elsewhere), nobody sees it join or leave, nothing is replayed, and
        the user may be logged in elsewhere at the same time. The session may
        ``send_chat`` and ``send_file``, and its events are only the
        deliveries of its own messages and files; ``download`` is refused.
        It takes the password (``resume_token`` is not used; the server
        issues none) and waits for the server's Hello; a version 2 server
        gets the ordinary login instead, with ``last_seen_seq`` and
        ``epoch``, and then ``session.transient`` is False.
        """
        opened = await open_and_login(
            host, port, username, password, last_seen_seq, epoch, timeout,
            ClientTLS() if tls is None else tls, resume_token or b"", transient=transient,
        )
        session = cls(
            opened.reader,
            opened.writer,
            opened.conn,
            opened.client,
            heartbeat=(heartbeat_interval, heartbeat_timeout),
            keep_events=keep_events,
            max_queued_events=max_queued_events,
        )
        session.trust = opened.trust
        session.server = ServerAddress(host, port)
        session.by_resume_token = opened.by_resume_token
        return session

    async def __aenter__(self) -> AsyncSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- operations --------------------------------------------------------------

    async def send_chat(
        self, text: str, to: str | None = None, room: str | None = None
    ) -> ev.ChatMessage:
        """Send ``text`` to ``general`` (or to user ``to``, or to ``room``)
        and return the server's delivery of it; ``MessageRefused`` when
        refused, ``RequestRefused`` (``not-supported``) for a room on a
        server without rooms."""
        recipient = self._recipient(to, room)
        chat = self._client.start_chat(text, recipient)
        waiter: asyncio.Future[ev.ChatMessage] = self._loop.create_future()
        self._chats[chat.client_id] = waiter
        try:
            try:
                self._send(chat)
            except LocalProtocolError as exc:
                raise MessageRefused(f"message not sent: {exc}", "invalid-message") from None
            await self._drain()
            return await waiter
        finally:
            self._chats.pop(chat.client_id, None)
            self._client.forget_chat(chat.client_id)

    async def send_file(
        self,
        path: str | PathLike[str],
        to: str | None = None,
        progress: ProgressCallback | None = None,
        *,
        room: str | None = None,
    ) -> ev.FileAvailable:
        """Upload a file (to ``general``, user ``to`` or ``room``) and return
        the server's announcement of it, once it has verified the bytes;
        ``progress(done, total)`` after each chunk."""
        to = self._recipient(to, room)
        path = Path(path)
        stream, size = open_upload(path)
        with stream:
            try:
                digest, size = await asyncio.to_thread(hash_file, path)
            except OSError as exc:
                message = f"cannot read {path}: {exc.strerror or exc}"
                raise FileRefused(message, "unreadable") from None
            async with self._upload_slots:
                offer = self._client.start_upload(sanitize_filename(path.name), size, digest, to)
                waiter = UploadWaiter(self._loop)
                self._uploads[offer.upload_id] = waiter
                try:
                    return await self._upload(offer, waiter, stream, progress)
                finally:
                    self._uploads.pop(offer.upload_id, None)
                    self._client.forget_upload(offer.upload_id)

    def _recipient(self, to: str | None, room: str | None) -> str | None:
        recipient = recipient_for(to, room)
        if is_room_target(recipient):
            self._check_rooms()
        return recipient

    async def _upload(
        self,
        offer: ev.FileOffer,
        waiter: UploadWaiter,
        stream: BinaryIO,
        progress: ProgressCallback | None,
    ) -> ev.FileAvailable:
        upload_id, size = offer.upload_id, offer.size
        try:
            self._send(offer)
        except LocalProtocolError as exc:
            raise FileRefused(f"{offer.name}: not sent: {exc}", "invalid-file") from None
        await self._drain()
        await waiter.accepted
        if progress is not None:
            progress(0, size)
        offset = 0
        chunk_size = self._conn.chunk_size
        while offset < size:
            data = stream.read(min(chunk_size, size - offset))
            if not data:
                # The file shrank since it was hashed: pad, so that the server
                # refuses it by checksum instead of the stream breaking.
                data = bytes(min(chunk_size, size - offset))
            if waiter.available.done():
                break  # refused mid-stream (storage full...): stop sending
            self._send(ev.FileChunk(upload_id, offset, data))
            offset += len(data)
            await self._drain()
            if progress is not None:
                progress(offset, size)
        if not waiter.available.done():
            self._send(ev.FileEnd(upload_id))
            await self._drain()
        return await waiter.available

    async def download(
        self,
        announcement: ev.FileAvailable,
        folder: str | PathLike[str],
        progress: ProgressCallback | None = None,
    ) -> Path:
        """Fetch an announced file into ``folder`` and return where it was
        saved: a sanitised name no existing file has. The bytes go to a
        ``.part`` file first, resumed from its size if it exists, and are
        checked against the announced SHA-256 before the rename."""
        if self.transient:
            # The protocol forbids it: sending it would break the connection.
            raise FileRefused("a transient session downloads nothing", "transient")
        folder = Path(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            message = f"cannot create {folder}: {exc.strerror or exc}"
            raise FileRefused(message, "unwritable") from None
        part = partial_path(folder, announcement.name, announcement.sha256)
        lock, users = self._part_locks.get(part, (asyncio.Lock(), 0))
        self._part_locks[part] = (lock, users + 1)
        try:
            async with lock, self._fetch_slots:
                return await self._download_to(announcement, part, folder, progress)
        finally:
            lock, users = self._part_locks[part]
            if users == 1:
                del self._part_locks[part]
            else:
                self._part_locks[part] = (lock, users - 1)

    async def _download_to(
        self,
        announcement: ev.FileAvailable,
        part: Path,
        folder: Path,
        progress: ProgressCallback | None,
    ) -> Path:
        try:
            try:
                await self._fetch_into(announcement, part, progress, resume=True)
            except FileRefused as exc:
                if exc.code not in (ev.RejectReason.BAD_OFFSET, ev.RejectReason.CHECKSUM_MISMATCH):
                    raise
                # A stale or foreign .part file: start over once from zero.
                try:
                    await self._fetch_into(announcement, part, progress, resume=False)
                except FileRefused as again:
                    if again.code == ev.RejectReason.CHECKSUM_MISMATCH:
                        part.unlink(missing_ok=True)  # useless to resume from
                    raise
            return await asyncio.to_thread(publish, part, folder, announcement.name)
        except OSError as exc:
            raise FileRefused(
                f"cannot write into {folder}: {exc.strerror or exc}", "unwritable"
            ) from None

    async def _fetch_into(
        self,
        announcement: ev.FileAvailable,
        part: Path,
        progress: ProgressCallback | None,
        *,
        resume: bool,
    ) -> None:
        size = announcement.size
        start = part.stat().st_size if resume and part.exists() else 0
        if start > size:
            start = 0
        reassembler = Reassembler(size, announcement.sha256, start)
        if start:
            await asyncio.to_thread(feed_prefix, reassembler, part, start)
        with part.open("r+b" if start else "wb") as stream:
            stream.truncate(start)
            stream.seek(start)
            if start == size:
                if reassembler.verify():
                    return
                raise FileRefused(
                    "a complete .part file does not match", ev.RejectReason.CHECKSUM_MISMATCH
                )
            file_id = announcement.file_id
            # A fetch of this file abandoned earlier may still be streaming.
            while (earlier := self._fetches.get(file_id)) is not None:
                await asyncio.wait({earlier.done})
            sink = FetchSink(self._loop, stream, reassembler, announcement.name, progress)
            if progress is not None:
                progress(start, size)
            fetch = self._client.start_fetch(file_id, start)
            self._fetches[file_id] = sink
            try:
                try:
                    self._send(fetch)
                except LocalProtocolError as exc:
                    raise FileRefused(f"download not started: {exc}", "busy") from None
                await self._drain()
                # Shielded: a cancelled download must not cancel the sink,
                # which still has to swallow the rest of the stream.
                await asyncio.shield(sink.done)
            finally:
                if sink.done.done():
                    if self._fetches.get(file_id) is sink:
                        del self._fetches[file_id]
                        self._client.forget_fetch(file_id)
                else:
                    # Cancelled mid-stream: the server goes on sending until its
                    # FileEnd; the sink stays to swallow those chunks unwritten.
                    sink.abandon()

    async def close(self, timeout: float = 5.0) -> None:
        """Leave normally: say goodbye, let the server close, end the stream."""
        if self._final is None and not self._closing_by_us:
            self._closing_by_us = True
            self._space.set()
            try:
                self._send(ev.Goodbye())
                await asyncio.wait_for(self._drain(), timeout)
            except (ChatError, LocalProtocolError, TimeoutError):
                pass
        done, _ = await asyncio.wait({self._reader_task}, timeout=timeout)
        if not done:
            self._abort("closed", "the server did not close after our goodbye")
            await asyncio.wait({self._reader_task}, timeout=timeout)
        self._heartbeat_task.cancel()


__all__ = ["AsyncSession"]
