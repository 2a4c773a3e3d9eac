"""Rooms and search: the requests behind the room list's buttons and the
search box, and the membership events the server sends.

Every answer comes back on the Tk thread through ``Host.later``; a refusal
is one translated sentence in a dialog, never a traceback.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from chatproto import Membership, MembershipState, RoomInfo
from chatproto.session import SearchPage

from . import errors_text
from .conversations import Conversation, room
from .host import Host
from .i18n import _
from .lines import membership_line, notice_line
from .room_dialogs import CreateRoomDialog, InviteDialog, JoinRoomDialog
from .safetext import clean
from .search_view import SearchWindow


class RoomFlow:
    def __init__(self, host: Host) -> None:
        self.host = host
        self.results: SearchWindow | None = None
        self.query = ""
        self.next_before_seq = 0
        #: Bumped by every new query: a late page of an older one is dropped.
        self.generation = 0

    # -- after each login --------------------------------------------------------

    def opened(self) -> None:
        """Logged in (again): show rooms only if the server has them, and
        list the user's own."""
        link, view = self.host.link, self.host.chat_view
        if link is None or view is None:
            return
        supported = link.rooms_supported()
        view.set_rooms_supported(supported)
        if supported:
            self.host.later(link.list_rooms(), self._listed)

    def _listed(self, future: Future[list[RoomInfo]]) -> None:
        view = self.host.chat_view
        if view is None:
            return
        error = future.exception()
        if error is not None:
            view.notice(notice_line(_("The list of rooms is not available: {reason}").format(
                reason=errors_text.describe(error))))
            return
        mine = {room(info.name).key: room(info.name) for info in future.result() if info.member}
        for conversation in list(view.rooms.conversations.values()):
            # Left while this window was away (another window of the user's).
            if conversation.is_room and not conversation.is_general \
                    and conversation.key not in mine:
                view.drop_room(conversation)
        for conversation in mine.values():
            view.transcript_of(conversation)

    def membership(self, event: Membership, me: str) -> None:
        view = self.host.chat_view
        if view is None:
            return
        where = room(event.room)
        if event.user == me and event.state is MembershipState.LEFT:
            view.drop_room(where)
            return
        view.append(where, membership_line(event))

    # -- the room list's buttons -----------------------------------------------------

    def _refused(self, future: Future[Any], what: str) -> bool:
        """Show why a request failed; True if it did."""
        error = future.exception()
        if error is None:
            return False
        self.host.dialog(_("Rooms"), what + " " + errors_text.describe(error))
        return True

    def _report(self, future: Future[Any], what: str) -> None:
        self._refused(future, what)

    def create(self) -> None:
        CreateRoomDialog(self.host.root, self._create)

    def _create(self, name: str, private: bool) -> None:
        link = self.host.link
        if link is None:
            return
        what = _("Room #{room} not created:").format(room=clean(name, single_line=True))
        self.host.later(link.create_room(name, private),
                        lambda f: self._entered(f, what, name))

    def _entered(self, future: Future[None], what: str, name: str) -> None:
        if self._refused(future, what) or self.host.chat_view is None:
            return
        self.host.chat_view.rooms.select(room(name))

    def join(self) -> None:
        link = self.host.link
        if link is None:
            return
        dialog = JoinRoomDialog(self.host.root, self._join)

        def listed(future: Future[list[RoomInfo]]) -> None:
            if not dialog.winfo_exists():
                return
            error = future.exception()
            if error is None:
                dialog.show_rooms(future.result())
            else:
                dialog.show_failure(errors_text.describe(error))

        self.host.later(link.list_rooms(), listed)

    def _join(self, name: str) -> None:
        link = self.host.link
        if link is None:
            return
        what = _("Could not join #{room}:").format(room=clean(name, single_line=True))
        self.host.later(link.join_room(name), lambda f: self._entered(f, what, name))

    def leave(self, conversation: Conversation) -> None:
        if not conversation.is_room or conversation.is_general:
            return
        name = clean(conversation.name, single_line=True)
        self.host.dialog(_("Leave #{room}").format(room=name),
                         _("Leave #{room}? Its messages stop reaching you.").format(room=name),
                         kind="question",
                         buttons=[(_("Leave"), lambda: self._leave(conversation)),
                                  (_("Cancel"), None)])

    def _leave(self, conversation: Conversation) -> None:
        link = self.host.link
        if link is None:
            return
        what = _("Could not leave #{room}:").format(
            room=clean(conversation.name, single_line=True))

        def done(future: Future[None]) -> None:
            if not self._refused(future, what) and self.host.chat_view is not None:
                self.host.chat_view.drop_room(conversation)

        self.host.later(link.leave_room(conversation.name), done)

    def invite(self, conversation: Conversation) -> None:
        view = self.host.chat_view
        if view is None or not conversation.is_room or conversation.is_general:
            return
        me = view.participants.me
        people = sorted((n for n in view.participants.states if n != me), key=str.casefold)
        InviteDialog(self.host.root, conversation.name, people, self._invite)

    def _invite(self, name: str, user: str) -> None:
        link = self.host.link
        if link is None:
            return
        what = _("{user} not invited into #{room}:").format(
            user=clean(user, single_line=True), room=clean(name, single_line=True))
        self.host.later(link.invite(name, user), lambda f: self._report(f, what))

    # -- search ---------------------------------------------------------------------

    def search(self, query: str) -> None:
        link, view = self.host.link, self.host.chat_view
        if link is None or view is None:
            return
        if self.results is None or not self.results.winfo_exists():
            self.results = SearchWindow(self.host.root, view.participants.me,
                                        on_pick=self._picked, on_more=self.more)
        self.results.start(query)
        self.results.lift()
        self.query, self.next_before_seq = query, 0
        self.generation += 1
        self._ask(0)

    def more(self) -> None:
        if self.results is not None and self.next_before_seq:
            self.results.searching_more()
            self._ask(self.next_before_seq)

    def _ask(self, before_seq: int) -> None:
        link = self.host.link
        if link is None:
            return
        generation = self.generation
        self.host.later(link.search(self.query, before_seq),
                        lambda f: self._found(f, generation))

    def _found(self, future: Future[SearchPage], generation: int) -> None:
        window = self.results
        if generation != self.generation or window is None or not window.winfo_exists():
            return
        error = future.exception()
        if error is not None:
            window.show_failure(_("Search failed: {reason}").format(
                reason=errors_text.describe(error)))
            return
        page = future.result()
        self.next_before_seq = page.next_before_seq
        window.add(page.hits, page.more)

    def _picked(self, conversation: Conversation) -> None:
        view = self.host.chat_view
        if view is not None:
            view.rooms.select(conversation)
