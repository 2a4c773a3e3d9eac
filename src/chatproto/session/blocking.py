"""``Session``: the blocking face, for Tk and plain scripts.

The ``AsyncSession`` runs on a background thread with its own event loop.
Every incoming event, every transfer's ``Progress`` and the final
``Disconnected`` land on ``session.events`` (a ``queue.Queue``) for the
caller's thread to take, e.g. from Tk's ``after``. Each operation has a
blocking form that returns the result or raises the typed error, and an
``_async`` form that returns a ``concurrent.futures.Future`` at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import threading
from collections.abc import Callable, Coroutine
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from .. import events as ev
from ..client_requests import SearchPage
from .asyncsession import AsyncSession
from .core import DEFAULT_MAX_QUEUED_EVENTS
from .errors import ConnectionLost
from .failover import connect_any
from .notices import Disconnected, Progress
from .servers import ServerAddress
from .tls import ClientTLS, PeerTrust
from .transfers import ProgressCallback

T = TypeVar("T")


class _LoopThread:
    """An event loop running forever on a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="chat-session", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        try:
            return asyncio.run_coroutine_threadsafe(coro, self.loop)
        except RuntimeError:  # the loop is closed
            coro.close()
            failed: concurrent.futures.Future[T] = concurrent.futures.Future()
            failed.set_exception(ConnectionLost("the session is closed"))
            return failed

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)


class Session:
    """A logged-in session driven from ordinary threads.

    Create it with ``Session.connect(...)`` (same arguments as
    ``AsyncSession.connect``) and end it with ``close()`` or a ``with`` block.
    """

    def __init__(self, runner: _LoopThread, inner: AsyncSession, max_queued: int) -> None:
        """Use ``connect``."""
        self._runner = runner
        self._inner = inner
        self._stopping = threading.Event()
        self.events: queue.Queue[ev.Event] = queue.Queue(maxsize=max_queued)
        self._pump = runner.submit(self._pump_events())

    @classmethod
    def connect(
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
        max_queued_events: int = DEFAULT_MAX_QUEUED_EVENTS,
        tls: ClientTLS | None = None,
        resume_token: bytes | None = None,
        transient: bool = False,
    ) -> Session:
        """Connect and log in, blocking; raises the typed ``ChatError``s.

        ``last_seen_seq``, ``epoch``, ``tls``, ``resume_token`` and
        ``transient`` (log in for one errand, not as a participant) as for
        ``AsyncSession.connect`` (``tls=None``: TLS with trust on first use)."""
        return cls._start(lambda: AsyncSession.connect(
            host, port, username, password, last_seen_seq=last_seen_seq, epoch=epoch,
            timeout=timeout, heartbeat_interval=heartbeat_interval,
            heartbeat_timeout=heartbeat_timeout, max_queued_events=max_queued_events,
            tls=tls, resume_token=resume_token, transient=transient,
        ), max_queued_events)

    @classmethod
    def connect_any(
        cls,
        servers: tuple[ServerAddress, ...],
        username: str,
        password: str,
        *,
        start: int = 0,
        last_seen_seq: int = 0,
        epoch: int = 0,
        timeout: float = 10.0,
        max_queued_events: int = DEFAULT_MAX_QUEUED_EVENTS,
        tls: ClientTLS | None = None,
        resume_token: bytes | None = None,
    ) -> Session:
        """Log in on the first of ``servers`` (from ``start`` on) that takes
        the user, blocking; as ``failover.connect_any``. ``server`` says which."""
        return cls._start(lambda: connect_any(
            servers, username, password, start=start, last_seen_seq=last_seen_seq,
            epoch=epoch, timeout=timeout, max_queued_events=max_queued_events, tls=tls,
            resume_token=resume_token,
        ), max_queued_events)

    @classmethod
    def _start(
        cls, login: Callable[[], Coroutine[Any, Any, AsyncSession]], max_queued_events: int
    ) -> Session:
        runner = _LoopThread()
        try:
            inner = runner.submit(login()).result()
        except BaseException:
            runner.stop()
            raise
        return cls(runner, inner, max_queued_events)

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- state (safe to read from any thread) --------------------------------

    @property
    def username(self) -> str:
        return self._inner.username

    @property
    def trust(self) -> PeerTrust:
        """How the server was trusted (see ``AsyncSession.trust``)."""
        return self._inner.trust

    @property
    def server(self) -> ServerAddress:
        """The server connected to (see ``AsyncSession.server``)."""
        return self._inner.server

    @property
    def new_account(self) -> bool:
        return self._inner.new_account

    @property
    def rejoined(self) -> bool:
        return self._inner.rejoined

    @property
    def last_seq(self) -> int:
        return self._inner.last_seq

    @property
    def epoch(self) -> int:
        return self._inner.epoch

    @property
    def history_reset(self) -> bool:
        return self._inner.history_reset

    @property
    def resume_token(self) -> bytes | None:
        """The token for the next ``connect`` of this user (see ``AsyncSession``)."""
        return self._inner.resume_token

    @property
    def by_resume_token(self) -> bool:
        return self._inner.by_resume_token

    @property
    def participants(self) -> dict[str, ev.ParticipantState]:
        return dict(self._inner.participants)

    @property
    def connected(self) -> bool:
        return self._inner.connected

    @property
    def transient(self) -> bool:
        """Logged in by a transient login (see ``AsyncSession.transient``)."""
        return self._inner.transient

    @property
    def rooms_supported(self) -> bool:
        """The server has rooms and search (see ``AsyncSession.rooms_supported``)."""
        return self._inner.rooms_supported

    @property
    def protocol_version(self) -> int:
        return self._inner.protocol_version

    # -- operations ------------------------------------------------------------

    def send_chat_async(
        self, text: str, to: str | None = None, room: str | None = None
    ) -> concurrent.futures.Future[ev.ChatMessage]:
        return self._runner.submit(self._inner.send_chat(text, to, room))

    def send_chat(
        self, text: str, to: str | None = None, room: str | None = None
    ) -> ev.ChatMessage:
        return self.send_chat_async(text, to, room).result()

    def send_file_async(
        self,
        path: str | PathLike[str],
        to: str | None = None,
        progress: ProgressCallback | None = None,
        *,
        room: str | None = None,
    ) -> concurrent.futures.Future[ev.FileAvailable]:
        """Upload in the background. Progress goes to ``events`` as
        ``Progress("upload", ...)``; ``progress``, if given, is also called,
        on the session's thread."""
        report = self._progress_reporter("upload", str(path), Path(path).name, progress)
        return self._runner.submit(self._inner.send_file(path, to, report, room=room))

    def send_file(
        self,
        path: str | PathLike[str],
        to: str | None = None,
        progress: ProgressCallback | None = None,
        *,
        room: str | None = None,
    ) -> ev.FileAvailable:
        return self.send_file_async(path, to, progress, room=room).result()

    # Rooms and search: see ``AsyncSession`` (rooms.py).

    def create_room_async(
        self, room: str, private: bool = False
    ) -> concurrent.futures.Future[None]:
        return self._runner.submit(self._inner.create_room(room, private))

    def create_room(self, room: str, private: bool = False) -> None:
        self.create_room_async(room, private).result()

    def join_room_async(self, room: str) -> concurrent.futures.Future[None]:
        return self._runner.submit(self._inner.join_room(room))

    def join_room(self, room: str) -> None:
        self.join_room_async(room).result()

    def leave_room_async(self, room: str) -> concurrent.futures.Future[None]:
        return self._runner.submit(self._inner.leave_room(room))

    def leave_room(self, room: str) -> None:
        self.leave_room_async(room).result()

    def invite_async(self, room: str, user: str) -> concurrent.futures.Future[None]:
        return self._runner.submit(self._inner.invite(room, user))

    def invite(self, room: str, user: str) -> None:
        self.invite_async(room, user).result()

    def list_rooms_async(self) -> concurrent.futures.Future[list[ev.RoomInfo]]:
        return self._runner.submit(self._inner.list_rooms())

    def list_rooms(self) -> list[ev.RoomInfo]:
        return self.list_rooms_async().result()

    def search_async(
        self,
        query: str,
        *,
        room: str | None = None,
        sender: str | None = None,
        limit: int = 20,
        before_seq: int = 0,
    ) -> concurrent.futures.Future[SearchPage]:
        return self._runner.submit(
            self._inner.search(
                query, room=room, sender=sender, limit=limit, before_seq=before_seq
            )
        )

    def search(
        self,
        query: str,
        *,
        room: str | None = None,
        sender: str | None = None,
        limit: int = 20,
        before_seq: int = 0,
    ) -> SearchPage:
        return self.search_async(
            query, room=room, sender=sender, limit=limit, before_seq=before_seq
        ).result()

    def download_async(
        self,
        announcement: ev.FileAvailable,
        folder: str | PathLike[str],
        progress: ProgressCallback | None = None,
    ) -> concurrent.futures.Future[Path]:
        """Download in the background; progress as for ``send_file_async``
        (``key`` is the file id)."""
        report = self._progress_reporter(
            "download", str(announcement.file_id), announcement.name, progress
        )
        return self._runner.submit(self._inner.download(announcement, folder, report))

    def download(
        self,
        announcement: ev.FileAvailable,
        folder: str | PathLike[str],
        progress: ProgressCallback | None = None,
    ) -> Path:
        return self.download_async(announcement, folder, progress).result()

    def close(self, timeout: float = 5.0) -> None:
        """Leave normally (goodbye) and stop the background thread. The
        final ``Disconnected`` is on ``events`` when the queue had room."""
        # From now on a full queue drops instead of waiting: nobody may be reading.
        self._stopping.set()
        with contextlib.suppress(ConnectionLost, concurrent.futures.TimeoutError):
            self._runner.submit(self._inner.close(timeout)).result(timeout * 3)
        with contextlib.suppress(
            ConnectionLost, concurrent.futures.TimeoutError, concurrent.futures.CancelledError
        ):
            self._pump.result(timeout)
        self._runner.stop()

    # -- the bridge to the caller's thread -------------------------------------

    async def _pump_events(self) -> None:
        async for event in self._inner.events():
            try:
                self.events.put_nowait(event)
            except queue.Full:
                # Wait for room without blocking the loop (heartbeats go on).
                await asyncio.to_thread(self._put_blocking, event)
            if isinstance(event, Disconnected):
                return

    def _put_blocking(self, event: ev.Event) -> None:
        while not self._stopping.is_set():
            try:
                self.events.put(event, timeout=0.2)
                return
            except queue.Full:
                continue

    def _progress_reporter(
        self, direction: str, key: str, name: str, callback: ProgressCallback | None
    ) -> ProgressCallback:
        last_percent = -1

        def report(done: int, total: int) -> None:
            nonlocal last_percent
            if callback is not None:
                callback(done, total)
            percent = 100 if total == 0 else done * 100 // total
            if percent == last_percent:
                return  # one notice per percent is plenty for a progress bar
            last_percent = percent
            # Progress is advisory: dropped when the queue is full, events never.
            with contextlib.suppress(queue.Full):
                self.events.put_nowait(Progress(direction, key, name, done, total))

        return report


__all__ = ["Session"]
