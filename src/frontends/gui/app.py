"""The application: one Tk window that shows the login form, then the chat.

Threads: the session runs its socket on its own thread and hands everything
over through queues (its ``events`` and our ``inbox``, fed by future
callbacks). ``_poll`` drains both on the Tk thread every ``POLL_MS``; no
other thread ever touches a widget.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import queue
import tkinter as tk
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from chatproto.session import (
    NO_TLS,
    ClientTLS,
    Disconnected,
    PinRequest,
    SeqStore,
    ServerAddress,
    TrustMode,
    format_servers,
    parse_servers,
)
from chatproto.session.servers import after
from chatproto.session.tls import PIN_FILE_NAME

from . import errors_text, i18n, theme
from .attention import Notifier
from .chat_view import ChatActions, ChatView
from .conversations import Conversation
from .dialogs import MessageDialog, open_dialogs
from .event_flow import EventFlow
from .files_flow import FileFlow
from .i18n import _
from .lines import notice_line
from .link import Link
from .login_view import LoginView, login_problem
from .room_flow import RoomFlow
from .rooms import RoomActions
from .safetext import clean
from .settings import Settings, config_dir, load_settings, save_settings
from .trust import CONFIRM_TOKEN, ask_pin, client_tls

POLL_MS = 40
#: How long a leaving window waits for the server to see its goodbye.
EXIT_GRACE_MS = 5000
#: Events handled per poll: the window repaints between batches even when
#: a flood of messages arrives.
BATCH = 300
#: The chat window's smallest size: room list, transcript and participants
#: side by side, none of them clipped.
CHAT_MIN_SIZE = (620, 380)


def _several(servers: tuple[ServerAddress, ...]) -> str:
    """The list as the user gave it when it has more than one server, else ""."""
    return format_servers(servers) if len(servers) > 1 else ""


class App:
    def __init__(self, root: tk.Tk, folder: Path | None = None) -> None:
        self.root = root
        self.config_folder = folder or config_dir()
        self.settings: Settings = load_settings(self.config_folder)
        #: Futures finished on other threads, handled on the Tk thread.
        self.inbox: queue.SimpleQueue[tuple[int, Future[Any]]] = queue.SimpleQueue()
        self._handlers: dict[int, Callable[[Future[Any]], None]] = {}
        self._tokens = itertools.count()
        self.link: Link | None = None
        self.password = ""
        self.login_view: LoginView | None = None
        self.chat_view: ChatView | None = None
        self.closing = False
        self.destroyed = False
        #: The link that was lost, kept for its address while reconnecting.
        self.lost_link: Link | None = None
        self.tls: ClientTLS = NO_TLS
        #: First-contact questions not answered yet (answered "no" at exit).
        self.pin_answers: list[Future[bool]] = []
        #: A login under way: its link and the future of its connection.
        self.pending: tuple[Link, Future[None]] | None = None
        self.notifier = Notifier(root, lambda: self.settings.attention)
        self.files = FileFlow(self)
        self.rooms = RoomFlow(self)
        self.event_flow = EventFlow(self, SeqStore(self.config_folder / "last_seq.json"),
                                    self.notifier, self.files, self.rooms, self._disconnected)
        theme.apply(root, self.settings.theme)
        i18n.localize_tk(root)
        root.protocol("WM_DELETE_WINDOW", self.quit)
        root.minsize(320, 200)
        self.show_login()
        self._exit_timer = ""
        self._poll_id = root.after(POLL_MS, self._poll)

    # -- plumbing ---------------------------------------------------------------

    def later(self, future: Future[Any], handler: Callable[[Future[Any]], None]) -> None:
        """Run ``handler(future)`` on the Tk thread once ``future`` is done.

        The callback, which runs on another thread and stays referenced by
        the future, holds only the queue and a number: never a Tk object,
        which another thread must not even garbage-collect."""
        token = next(self._tokens)
        self._handlers[token] = handler
        inbox = self.inbox
        future.add_done_callback(lambda done: inbox.put((token, done)))

    def _poll(self) -> None:
        try:
            # Session events first: a transfer's progress notices are queued
            # before its future completes.
            if self.link is not None:
                self._drain_events(self.link)
            for _step in range(BATCH):
                try:
                    token, future = self.inbox.get_nowait()
                except queue.Empty:
                    break
                if token == CONFIRM_TOKEN:
                    self._ask_pin(*future.result())
                    continue
                handler = self._handlers.pop(token, None)
                if handler is not None:
                    handler(future)
        finally:
            if not self.destroyed:
                self._poll_id = self.root.after(POLL_MS, self._poll)

    def _drain_events(self, link: Link) -> None:
        for _step in range(BATCH):
            try:
                event = link.events.get_nowait()
            except queue.Empty:
                break
            self.event_flow.handle(link, event)
            if link is not self.link:
                return

    def dialog(self, title: str, message: str, *, kind: str = "error",
               buttons: list[tuple[str, Callable[[], None] | None]] | None = None) -> MessageDialog:
        return MessageDialog(self.root, title, message, kind=kind, buttons=buttons or [])

    def dialogs(self) -> list[MessageDialog]:
        return open_dialogs(self.root)

    # -- login ------------------------------------------------------------------

    def show_login(self) -> None:
        self.root.title(_("LAN chat \u2014 login"))
        self.login_view = LoginView(self.root, self.settings, self.login, self.quit)
        self.login_view.pack(fill="both", expand=True)
        self.login_view.focus_first_empty()

    def login(self, server: str, port_text: str, username: str, password: str,
              tls: bool = True) -> None:
        problem = login_problem(server, port_text, username, password)
        if problem:
            self.dialog(_("Login"), problem, kind="warning")
            return
        port = int(port_text)
        servers = parse_servers(server, port)  # login_problem has checked it
        first = servers[0]
        assert self.login_view is not None
        self.login_view.set_busy(True, _("Connecting to {server}:{port}\u2026").format(
            server=first.host, port=first.port) if len(servers) == 1 else _(
            "Connecting to {servers}\u2026").format(servers=clean(format_servers(servers))))
        link = Link()
        last_seq, epoch = self.event_flow.seqs.load_mark(first.host, first.port, username)
        self.tls = client_tls(self.config_folder, self.inbox) if tls else NO_TLS
        attempt = link.connect(first.host, first.port, username, password, last_seq, epoch,
                               self.tls, servers=servers)
        self.later(attempt, lambda f: self._login_done(link, f, server, port, password))
        self.pending = (link, attempt)

    def _login_done(self, link: Link, future: Future[None], server: str, port: int,
                    password: str) -> None:
        self.pending = None
        if self.closing or self.login_view is None:
            link.close()
            return
        error = future.exception()
        if error is not None:
            self.login_view.set_busy(False)
            self.dialog(_("Login failed"),
                        errors_text.login_error(error, link.host, link.port, self.pin_file(),
                                                _several(link.servers)))
            return
        self.settings.server, self.settings.port = server, port
        self.settings.username = link.username
        self.settings.tls = self.tls.enabled
        save_settings(self.settings, self.config_folder)
        self.password = password
        self.login_view.destroy()
        self.login_view = None
        _collect_tk_garbage()
        self._open_chat(link)

    def pin_file(self) -> Path:
        return self.config_folder / PIN_FILE_NAME

    def _ask_pin(self, request: PinRequest, answer: Future[bool]) -> None:
        """First contact with a server whose certificate no CA vouches for."""
        self.pin_answers = [a for a in self.pin_answers if not a.done()] + [answer]
        ask_pin(self.root, request, answer)

    # -- chat -------------------------------------------------------------------

    def _open_chat(self, link: Link) -> None:
        self.link = link
        self.event_flow.shown_seq = max(self.event_flow.shown_seq, link.last_seen_seq)
        self.notifier.set_name(link.username)
        reset = self.event_flow.follow_history(link)
        rooms = self.rooms
        actions = ChatActions(self.send_chat, self.files.send_file, self.files.open_folder,
                              self.files.choose_folder, self.reconnect, self.set_attention,
                              RoomActions(rooms.create, rooms.join, rooms.leave, rooms.invite),
                              rooms.search)
        view = self.chat_view = ChatView(self.root, actions, self.settings.download_folder(),
                                         attention=self.settings.attention)
        view.pack(fill="both", expand=True)
        view.participants.reset(link.username, link.participants())
        view.refresh_recipients()
        plain = link.trust is None or link.trust.mode is TrustMode.PLAIN
        view.notice(notice_line(errors_text.trust_text(link.trust),
                                "notice" if plain else "presence"))
        if reset:
            view.notice(notice_line(errors_text.history_reset_text()))
        rooms.opened()
        self.root.geometry("960x580")
        self.root.minsize(*CHAT_MIN_SIZE)
        view.entry.focus_set()

    def send_chat(self, text: str, where: Conversation) -> bool:
        link = self.link
        if link is None or not link.connected():
            return False
        self.later(link.send_chat(text, where), lambda f: self._chat_sent(f, text, where))
        return True

    def _chat_sent(self, future: Future[Any], text: str, where: Conversation) -> None:
        error = future.exception()
        if error is None or self.chat_view is None:
            return
        self.chat_view.append(where, notice_line(
            _("Message not sent: {reason}").format(reason=errors_text.describe(error))))
        if not self.chat_view.draft():
            self.chat_view.entry.insert("1.0", text)  # give the user their words back

    def set_attention(self, on: bool) -> None:
        self.settings.attention = on
        save_settings(self.settings, self.config_folder)
        if not on:
            self.notifier.quiet()

    # -- losing the server, reconnecting, leaving ----------------------------------

    def _disconnected(self, link: Link, event: Disconnected) -> None:
        if event.by_us or self.chat_view is None:
            return
        self.link = None
        link.close()  # gone already: this only stops the session's thread
        message = _("Connection to the server lost: {reason}").format(
            reason=errors_text.disconnect_reason(event))
        self.chat_view.notice(notice_line(message))
        self.chat_view.show_disconnected(message)
        # Nobody's presence is known until the server tells us again.
        self.chat_view.participants.mark_unknown()
        self.lost_link = link
        if event.code in errors_text.ENDED_FOR_GOOD:
            # Logging in again would only be refused: no reconnect offered.
            self.chat_view.reconnect_button.state(["disabled"])
            self.dialog(_("Disconnected"), message)
            return
        self.dialog(_("Disconnected"), message + "\n" + _("Reconnect now?"), kind="question",
                    buttons=[(_("Reconnect"), self.reconnect), (_("Not now"), None)])

    def reconnect(self) -> None:
        old = self.lost_link
        if old is None or self.chat_view is None or self.link is not None:
            return
        for dialog in self.dialogs():
            if dialog.kind == "question":
                dialog.destroy()
        self.chat_view.show_reconnecting(_("Reconnecting\u2026"))
        link = Link()
        flow = self.event_flow
        # The lost session's token spares the server the password check: after a
        # restart every window reconnects at once (the password is the fallback).
        # With several servers, the one after the lost one first: a dead node last.
        self.later(link.connect(old.host, old.port, old.username, self.password, flow.shown_seq,
                                flow.epoch, self.tls, old.resume_token, servers=old.servers,
                                start=after(old.servers, old.server)),
                   lambda f: self._reconnected(link, f))

    def _reconnected(self, link: Link, future: Future[None]) -> None:
        view = self.chat_view
        if view is None or self.closing:
            link.close()
            return
        error = future.exception()
        if error is not None:
            message = errors_text.login_error(error, link.host, link.port, self.pin_file(),
                                              _several(link.servers))
            view.notice(notice_line(message))
            view.show_disconnected(message)
            return
        self.link = link
        reset = self.event_flow.follow_history(link)
        view.show_connected()
        view.participants.reset(link.username, link.participants())
        view.refresh_recipients()
        reconnected = _("Reconnected.") if len(link.servers) < 2 else _(
            "Reconnected to {server}.").format(server=clean(str(link.server)))
        view.notice(notice_line(reconnected, "presence"))
        if reset:
            view.notice(notice_line(errors_text.history_reset_text()))
        self.rooms.opened()

    def quit(self) -> None:
        """Closing the window is a normal leave: say goodbye, then go."""
        if self.closing:
            return
        self.closing = True
        if self.pending is not None:
            # A login still under way: leave properly if it succeeds later.
            pending, attempt = self.pending
            attempt.add_done_callback(lambda _f: pending.close())
        link, self.link = self.link, None
        if link is None:
            self._destroy()
            return
        self.root.title(_("Leaving\u2026"))
        self.later(link.close(), lambda _f: self._destroy())
        self._exit_timer = self.root.after(EXIT_GRACE_MS, self._destroy)

    def _destroy(self) -> None:
        if self.destroyed:
            return
        self.destroyed = True
        for answer in self.pin_answers:
            if not answer.done():
                answer.set_result(False)
        with contextlib.suppress(tk.TclError):  # already gone
            for timer in (self._poll_id, self._exit_timer):
                if timer:
                    self.root.after_cancel(timer)
            self.root.destroy()
        _collect_tk_garbage()


def _collect_tk_garbage() -> None:
    """Free destroyed widgets now, on the Tk thread.

    Widgets and their variables form reference cycles; left to the cyclic
    collector, they may be freed on the session's thread, and a Tk variable
    freed there calls into Tcl from the wrong thread."""
    gc.collect()

