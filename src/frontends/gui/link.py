"""The GUI's handle on one chat session: every call returns at once.

``chatproto.session.Session`` already runs the socket on its own thread
and has non-blocking forms of its operations; logging in and leaving block,
so they run on a short-lived worker thread here. The results come back as
futures, which the application turns into work for the Tk thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from os import PathLike
from pathlib import Path
from typing import TypeVar

from chatproto import ChatMessage, Event, FileAvailable, ParticipantState, RoomInfo
from chatproto.session import (
    ClientTLS,
    ConnectionLost,
    PeerTrust,
    SearchPage,
    ServerAddress,
    Session,
)

from .conversations import Conversation

T = TypeVar("T")


def in_thread(work: Callable[[], T], name: str) -> Future[T]:
    future: Future[T] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(work())
        except BaseException as exc:  # handed to the Tk thread, which reports it
            future.set_exception(exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


def _failed(error: BaseException) -> Future[T]:
    future: Future[T] = Future()
    future.set_exception(error)
    return future


class Link:
    def __init__(self) -> None:
        self.session: Session | None = None
        #: The first server of the list (the last seq is kept under it).
        self.host = ""
        self.port = 0
        #: Every server of the list, and the one that took the login.
        self.servers: tuple[ServerAddress, ...] = ()
        self.server: ServerAddress | None = None
        self.username = ""
        self.last_seen_seq = 0
        #: The server's history epoch, and whether it is not the one
        #: ``last_seen_seq`` came from (then everything is replayed).
        self.epoch = 0
        self.history_reset = False
        self.trust: PeerTrust | None = None
        #: The server's token for logging in again without the password
        #: (after a lost connection); in memory only, like the password.
        self.resume_token: bytes | None = None
        #: Replaced by the session's own queue once logged in.
        self.events: queue.Queue[Event] = queue.Queue()

    def connect(
        self, host: str, port: int, username: str, password: str, last_seen_seq: int,
        epoch: int, tls: ClientTLS, resume_token: bytes | None = None,
        servers: tuple[ServerAddress, ...] = (), start: int = 0,
    ) -> Future[None]:
        """Log in on the first of ``servers`` (from index ``start`` on; none:
        ``host`` and ``port``) that takes the user; with ``resume_token`` (a
        reconnect) the password is sent only if the server refuses the token."""
        self.host, self.port, self.username = host, port, username
        self.servers = servers or (ServerAddress(host, port),)
        self.last_seen_seq = last_seen_seq

        def login() -> None:
            session = Session.connect_any(self.servers, username, password, start=start,
                                          last_seen_seq=last_seen_seq, epoch=epoch, tls=tls,
                                          resume_token=resume_token)
            self.session = session
            self.server = session.server
            self.username = session.username
            self.resume_token = session.resume_token
            self.epoch, self.history_reset = session.epoch, session.history_reset
            self.events = session.events
            self.trust = session.trust

        return in_thread(login, "chat-login")

    def connected(self) -> bool:
        return self.session is not None and self.session.connected

    def participants(self) -> dict[str, ParticipantState]:
        if self.session is None:
            return {}
        return self.session.participants

    def rooms_supported(self) -> bool:
        return self.session is not None and self.session.rooms_supported

    def send_chat(self, text: str, where: Conversation) -> Future[ChatMessage]:
        if self.session is None:
            return _failed(ConnectionLost("not connected"))
        return self.session.send_chat_async(text, to=where.to, room=where.room)

    def send_file(self, path: str | PathLike[str], where: Conversation
                  ) -> Future[FileAvailable]:
        if self.session is None:
            return _failed(ConnectionLost("not connected"))
        return self.session.send_file_async(path, to=where.to, room=where.room)

    def create_room(self, room: str, private: bool) -> Future[None]:
        if self.session is None:
            return _failed(ConnectionLost("not connected"))
        return self.session.create_room_async(room, private)

    def join_room(self, room: str) -> Future[None]:
        if self.session is None:
            return _failed(ConnectionLost("not connected"))
        return self.session.join_room_async(room)

    def leave_room(self, room: str) -> Future[None]:
        if self.session is None:
            return _failed(ConnectionLost("not connected"))
        return self.session.leave_room_async(room)

    def invite(self, room: str, user: str) -> Future[None]:
        if self.session is None:
            return _failed(ConnectionLost("not connected"))
        return self.session.invite_async(room, user)

    def list_rooms(self) -> Future[list[RoomInfo]]:
        if self.session is None:
            return _failed(ConnectionLost("not connected"))
        return self.session.list_rooms_async()

    def search(self, query: str, before_seq: int) -> Future[SearchPage]:
        if self.session is None:
            return _failed(ConnectionLost("not connected"))
        return self.session.search_async(query, before_seq=before_seq)

    def download(self, file: FileAvailable, folder: Path) -> Future[Path]:
        if self.session is None:
            return _failed(ConnectionLost("not connected"))
        return self.session.download_async(file, folder)

    def close(self) -> Future[None]:
        """Say goodbye and stop the session's thread (on a worker thread)."""
        session, self.session = self.session, None
        if session is None:
            done: Future[None] = Future()
            done.set_result(None)
            return done
        return in_thread(session.close, "chat-close")
