"""What the session reports, put on screen: each numbered message once.

Moved out of ``app.py`` with the history mark it needs (the last message
shown and the server history it belongs to), so the window shows nothing
twice across reconnects and after a restart. The loss of the connection is
handed back to the application, which owns reconnecting.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from chatproto import ChatMessage, FileAvailable, Membership, Presence
from chatproto.session import Disconnected, Progress, SeqStore

from .attention import Notifier
from .chat_view import ChatView
from .conversations import GENERAL, Conversation, conversation_of
from .files_flow import FileFlow
from .host import Host
from .lines import chat_line, file_line, presence_line
from .link import Link
from .mentions import mentions
from .room_flow import RoomFlow


class EventFlow:
    def __init__(self, host: Host, seqs: SeqStore, notifier: Notifier, files: FileFlow,
                 rooms: RoomFlow, lost: Callable[[Link, Disconnected], None]) -> None:
        self.host = host
        self.seqs = seqs
        self.notifier = notifier
        self.files = files
        self.rooms = rooms
        self.lost = lost
        self.shown_seq = 0
        #: The server history ``shown_seq`` belongs to.
        self.epoch = 0

    def handle(self, link: Link, event: object) -> None:
        view = self.host.chat_view
        if view is None:
            return
        me = link.username
        if isinstance(event, ChatMessage):
            if self._is_new(event.seq):
                where = conversation_of(event, me)
                line = chat_line(event, me)
                if event.sender != me and mentions(event.text, me):
                    line = [(chunk, (*tags, "mention")) for chunk, tags in line]
                view.append(where, line)
                if event.sender != me:
                    self._arrived(view, where)
        elif isinstance(event, FileAvailable):
            if self._is_new(event.seq):
                where = conversation_of(event, me)
                view.append(where, file_line(event, me))
                if event.sender != me:
                    self._arrived(view, where)
                    self.files.download(link, event)
        elif isinstance(event, Presence):
            # Presence is server-wide, as in the original: general's news.
            view.participants.apply(event)
            view.refresh_recipients()
            view.append(GENERAL, presence_line(event))
        elif isinstance(event, Membership):
            self.rooms.membership(event, me)
        elif isinstance(event, Progress):
            # The session sends at most one per percent: cheap to show them all.
            view.transfers.progress(event.direction, event.key, event.name, event.done,
                                    event.total)
        elif isinstance(event, Disconnected):
            self.lost(link, event)

    def _arrived(self, view: ChatView, where: Conversation) -> None:
        view.rooms.arrived(where)
        self.notifier.arrived()

    def follow_history(self, link: Link) -> bool:
        """Take the server's history epoch; after a reset (the server's data
        was replaced) everything it replays is new. True after a reset."""
        if link.history_reset:
            self.shown_seq = 0
        if link.epoch != self.epoch:
            self.epoch = link.epoch
            self._remember(link, self.shown_seq)
        return link.history_reset

    def _is_new(self, seq: int) -> bool:
        if seq <= self.shown_seq:
            return False  # replayed again after a reconnect: already on screen
        self.shown_seq = seq
        if self.host.link is not None:
            self._remember(self.host.link, seq)
        return True

    def _remember(self, link: Link, seq: int) -> None:
        # A failure only costs a longer replay next time.
        with contextlib.suppress(OSError):
            self.seqs.save(link.host, link.port, link.username, seq, self.epoch)
