"""The application: login, then the chat, on Textual's asyncio loop.

The session (``chatproto.session.AsyncSession``, through ``ChatLink``) runs
on the same loop as the widgets, so there is no thread and no queue: events
are shown as they arrive, transfers are tasks beside them. What is shown is
what the session gives; every peer string is marked by ``render``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

import attrs
from textual.app import App
from textual.worker import Worker

from chatproto import (
    ChatMessage,
    FileAvailable,
    Membership,
    ParticipantState,
    Presence,
    apply_presence,
)
from chatproto.session import (
    AsyncSession,
    ChatError,
    ClientTLS,
    Disconnected,
    PinRequest,
    SeqStore,
    ServerAddress,
    TrustMode,
    format_servers,
    parse_servers,
)
from chatproto.session.reconnect import Backoff, RetryPlan

from ..gui import errors_text
from . import commands as cmd
from .downloads import Transfers
from .i18n import _
from .link import Account, ChatLink
from .outgoing import room_command, send_line
from .render import (
    Clock,
    chat_entry,
    file_entry,
    local_clock,
    membership_text,
    name,
    notice_entry,
    presence_entry,
    shown_path,
)
from .screens import ChatScreen, LoginForm, LoginScreen, TrustScreen, login_problem
from .styles import CSS
from .widgets import Composer

#: How long leaving waits for the server to take our goodbye.
LEAVE_GRACE_SECONDS = 5.0


def _several(servers: tuple[ServerAddress, ...]) -> str:
    """The list as the user gave it when it has more than one server, else ""."""
    return format_servers(servers) if len(servers) > 1 else ""


@attrs.frozen
class Launch:
    """What the command line gave: the form's first values and the rest."""

    form: LoginForm
    tls: ClientTLS
    download_dir: Path
    state_file: Path | None = None

    @property
    def complete(self) -> bool:
        """Everything needed to log in without asking."""
        return bool(self.form.user and self.form.password)


def help_text() -> str:
    return _("Enter sends, Ctrl+J starts a new line, Up recalls what you sent. Commands: "
             "{commands}").format(commands=", ".join(cmd.USAGE))


class ChatApp(App[int]):
    CSS = CSS
    ENABLE_COMMAND_PALETTE = False
    TITLE = "chat-tui"

    def __init__(self, launch: Launch, *, clock: Clock = local_clock,
                 backoff: Backoff | None = None) -> None:
        super().__init__()
        self.launch = launch
        self.clock = clock
        self.backoff = backoff
        self.seqs = SeqStore(launch.state_file)
        self.link: ChatLink | None = None
        self.transfers: Transfers | None = None
        self.chat: ChatScreen | None = None
        self.states: dict[str, ParticipantState] = {}
        self.leaving = False
        # Bound here, not in BINDINGS: their labels are translated, and the
        # language is chosen before the app is made (tests switch it).
        # Textual's own Ctrl+Q and Ctrl+C (quit unasked, a hint) make way.
        for key in ("ctrl+q", "ctrl+c"):
            self._bindings.key_to_bindings.pop(key, None)
        for keys, action, label, show, priority in (
            ("ctrl+q", "leave", _("Quit"), True, True),
            ("ctrl+c", "leave", "", False, True),
            ("ctrl+j", "newline", _("New line"), True, False),
            ("ctrl+t", "recipient", _("To:"), True, False),
            ("ctrl+r", "reconnect", _("Reconnect"), True, False),
        ):
            self._bindings.bind(keys, action, label, show=show, priority=priority)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The chat's keys only in the chat (and in its footer); Ctrl+R only
        while the connection is down."""
        if action in ("newline", "recipient"):
            return isinstance(self.screen, ChatScreen)
        if action == "reconnect":
            return (isinstance(self.screen, ChatScreen) and self.link is not None
                    and not self.link.connected)
        return True

    # -- start and login ---------------------------------------------------------

    def on_mount(self) -> None:
        if not self.is_headless:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                # A normal leave, as /quit: the others see "left", not "deactivated".
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(signum, self._signalled)
        locked = self.launch.tls.ca_file is not None or self.launch.tls.fingerprint is not None
        self.push_screen(LoginScreen(self.launch.form, tls_locked=locked))
        if self.launch.complete:
            self.call_after_refresh(self.login, self.launch.form)

    def _signalled(self) -> None:
        self.run_worker(self.action_leave(), group="leave", exclusive=True)

    def on_login_screen_submitted(self, message: LoginScreen.Submitted) -> None:
        self.login(message.form)

    def login(self, form: LoginForm) -> None:
        screen = self.screen
        problem = login_problem(form)
        if problem is not None:
            if isinstance(screen, LoginScreen):
                screen.show_status(problem, error=True)
            return
        if isinstance(screen, LoginScreen):
            servers = parse_servers(form.host, int(form.port))
            status = (_("Connecting to {server}:{port}\u2026").format(
                server=name(servers[0].host), port=servers[0].port) if len(servers) == 1
                else _("Connecting to {servers}\u2026").format(
                    servers=name(format_servers(servers))))
            screen.show_status(status, busy=True)
        self.run_worker(self._login(form), group="login", exclusive=True, exit_on_error=False)

    def _tls(self, enabled: bool) -> ClientTLS:
        tls = self.launch.tls
        if not enabled:
            return ClientTLS(enabled=False)
        # The first-use question is asked here, in a dialog (chat-cli accepts unasked).
        return attrs.evolve(tls, enabled=True, confirm=self._confirm_pin)

    async def _confirm_pin(self, request: PinRequest) -> bool:
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def reply(trusted: bool | None) -> None:
            if not answer.done():
                answer.set_result(bool(trusted))

        self.push_screen(TrustScreen(request), reply)
        return await answer

    async def _login(self, form: LoginForm) -> None:
        tls = self._tls(form.tls)
        servers = parse_servers(form.host, int(form.port))
        account = Account(servers[0].host, servers[0].port, form.user, form.password, tls,
                          servers)
        link = ChatLink(account, self.seqs, self, self.backoff)
        try:
            session = await link.login()
        except ChatError as error:
            screen = self.screen
            if isinstance(screen, LoginScreen):
                screen.show_status(errors_text.login_error(
                    error, account.host, account.port, tls.pins.path,
                    _several(servers)), error=True)
            return
        if self.leaving:
            await link.leave()
            return
        self.link = link
        self.transfers = Transfers(link, self.launch.download_dir, self, self._downloaded,
                                   self._uploaded)
        self.chat = ChatScreen(session.username, self._where(session))
        await self.switch_screen(self.chat)
        await self.chat.ready.wait()
        self._opened(session)
        self.run_worker(link.follow(), group="link", exit_on_error=False)

    def _where(self, session: AsyncSession) -> str:
        """The title's server: the one connected to, ``host:port``."""
        return str(session.server)

    def _opened(self, session: AsyncSession) -> None:
        trust = session.trust
        plain = trust.mode is TrustMode.PLAIN
        self.notice(name(errors_text.trust_text(trust)), "error" if plain else "presence")
        self.notice(_("Files you receive are saved in {folder}").format(
            folder=shown_path(self.launch.download_dir)), "presence")
        self._show_participants(session)

    def _show_participants(self, session: AsyncSession) -> None:
        self.states = dict(session.participants)
        if self.chat is not None:
            self.chat.show_participants(self.states, len(self.states))

    # -- what the link hands on (LinkListener) ------------------------------------

    def notice(self, text: str, kind: str = "notice") -> None:
        if self.chat is not None:
            self.chat.add(notice_entry(text, kind, self.clock))

    def link_event(self, event: ChatMessage | FileAvailable | Presence | Membership) -> None:
        chat = self.chat
        if chat is None:
            return
        if isinstance(event, Membership):
            self.notice(membership_text(event))
        elif isinstance(event, ChatMessage):
            chat.add(chat_entry(event, chat.me, self.clock))
        elif isinstance(event, FileAvailable):
            chat.add(file_entry(event, chat.me, self.clock))
            if event.sender != chat.me and self.transfers is not None:
                self.transfers.download(event)
        else:
            apply_presence(self.states, event)
            # The server's count is the truth even if an event was missed.
            chat.show_participants(self.states, event.participant_count)
            chat.add(presence_entry(event, self.clock))

    def link_history_reset(self) -> None:
        self.notice(errors_text.history_reset_text())

    def link_lost(self, lost: Disconnected) -> None:
        self.notice(_("Connection to the server lost: {reason}").format(
            reason=name(lost.message)), "error")
        self._status(_("Reconnecting\u2026"))
        self.refresh_bindings()

    def link_retry_failed(self, error: ChatError, plan: RetryPlan) -> None:
        self._status(_("Reconnecting\u2026") + f" ({plan.failures}: {name(error.message)})")

    def link_restored(self, session: AsyncSession, attempts: int) -> None:
        if self.chat is not None:
            self.chat.show_where(self._where(session))
        self.notice(_("Reconnected."), "good")
        self._status("")
        self.refresh_bindings()
        self._show_participants(session)
        if self.transfers is not None:
            self.transfers.resume()

    def link_gave_up(self, error: ChatError) -> None:
        link = self.link
        where = (link.account.host, link.account.port) if link else ("", 0)
        pins = link.account.tls.pins.path if link else Path()
        several = _several(link.account.server_list) if link else ""
        self.notice(errors_text.login_error(error, where[0], where[1], pins, several), "error")
        self.notice(_("Ctrl+R tries again."))
        self._status(_("Disconnected"))

    def _status(self, text: str) -> None:
        if self.chat is not None:
            self.chat.show_status(text)

    # -- transfers (TransferView) ------------------------------------------------------

    def transfer_started(self, key: str, label: str, total: int) -> None:
        if self.chat is not None:
            self.chat.transfers.start(key, label, total)

    def transfer_progress(self, key: str, done: int, total: int) -> None:
        if self.chat is not None:
            self.chat.transfers.progress(key, done, total)

    def transfer_finished(self, key: str) -> None:
        if self.chat is not None:
            self.chat.transfers.finish(key)

    def _downloaded(self, file: FileAvailable, path: Path | None,
                    error: ChatError | None) -> None:
        if path is not None:
            self.notice(_("{name} saved as {path}").format(name=name(file.name),
                                                           path=shown_path(path)), "good")
        else:
            self.notice(_("{name} not saved: {reason}").format(
                name=name(file.name), reason=name(str(error))), "error")

    def _uploaded(self, path: Path, announced: FileAvailable | None,
                  error: ChatError | None) -> None:
        if error is not None:
            self.notice(_("File not sent: {reason}").format(reason=name(str(error))), "error")

    # -- the input line (what it asks of the server: outgoing) ---------------------------

    def on_composer_submitted(self, message: Composer.Submitted) -> None:
        command = cmd.parse(message.text)
        if command is None:
            return
        chat = self.chat
        if chat is None:
            return
        if isinstance(command, cmd.Say | cmd.DirectMessage):
            to = command.user if isinstance(command, cmd.DirectMessage) else chat.recipient
            if self.link is None or not self.link.connected:
                # Kept in the input: nothing is lost, Enter again once back.
                self.notice(_("Not connected: nothing was sent."), "error")
                return
            chat.composer.remember(message.text)
            self.run_worker(send_line(self.link, chat, command.text, to, self.notice),
                            group="send", exit_on_error=False)
            return
        chat.composer.remember(message.text)
        if isinstance(command, cmd.SetRecipient):
            chat.set_recipient(command.user)
        elif isinstance(command, cmd.SendFile):
            if self.transfers is not None and self.link is not None and self.link.connected:
                self.transfers.upload(command.path, chat.recipient)
            else:
                self.notice(_("Not connected: nothing was sent."), "error")
        elif isinstance(command, cmd.Quit):
            self.run_worker(self.action_leave(), group="leave", exclusive=True)
        elif isinstance(command, cmd.Help):
            self.notice(help_text())
        elif isinstance(command, cmd.RoomCommand):
            if self.link is None or not self.link.connected:
                self.notice(_("Not connected: nothing was sent."), "error")
            else:
                self.run_worker(room_command(self.link, chat, command, self.notice),
                                group="rooms", exit_on_error=False)
        else:
            self.notice(command.message, "error")

    def action_newline(self) -> None:
        if self.chat is not None:
            self.chat.composer.focus()
            self.chat.composer.action_newline()

    def action_recipient(self) -> None:
        if self.chat is not None:
            self.chat.choose_recipient()

    def action_reconnect(self) -> None:
        if self.link is not None and not self.link.connected:
            self.link.retry()

    # -- leaving ----------------------------------------------------------------------------

    async def action_leave(self) -> None:
        """``/quit``, Ctrl+C, Ctrl+Q, SIGINT, SIGTERM: a goodbye, then exit."""
        if self.leaving:
            return
        self.leaving = True
        self.workers.cancel_group(self, "login")
        self.notice(_("Leaving\u2026"))
        link = self.link
        if link is not None:
            waiting: list[Worker[None]] = [w for w in self.workers if w.group == "link"]
            for worker in waiting:
                if link.connected:
                    continue  # it ends by itself when the goodbye is answered
                worker.cancel()  # waiting to reconnect: stop now
            if self.transfers is not None:
                self.transfers.cancel()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(link.leave(), LEAVE_GRACE_SECONDS * 2)
        self.exit(0)


__all__ = ["ChatApp", "Launch"]
