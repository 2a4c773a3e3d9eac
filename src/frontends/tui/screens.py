"""The screens: the login form, the first-use certificate question, the chat."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import ClassVar

import attrs
from rich.console import RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Select, Static

from chatproto import ParticipantState, is_valid_username
from chatproto.session import PinRequest, ServerListError, parse_servers

from .i18n import _
from .render import name
from .widgets import Composer, ParticipantList, Transcript, TransferPanel

#: The *To:* choice that means everyone (no user can have an empty name).
EVERYONE = ""
#: Narrower than this, the participant list is hidden (``/to`` still works).
NARROW_COLUMNS = 60


@attrs.frozen
class LoginForm:
    host: str
    port: str
    user: str
    password: str = attrs.field(repr=False)
    tls: bool = True


def login_problem(form: LoginForm) -> str | None:
    """What is missing or wrong in the form, in the GUI's words."""
    if not form.host.strip():
        return _("Please enter the server's address.")
    if not form.port.isdigit() or not 1 <= int(form.port) <= 65535:
        return _("The port must be a number between 1 and 65535.")
    try:
        parse_servers(form.host, int(form.port))
    except ServerListError as exc:
        return _("The list of servers is not valid: {reason}").format(reason=name(str(exc)))
    if not form.user:
        return _("Please enter your ID.")
    if not is_valid_username(form.user):
        return _("An ID may contain only letters, digits, '_' and '-' (at most 32); "
                 "accents are fine, mixing alphabets is not.")
    if not form.password:
        return _("Please enter your password.")
    return None


class LoginScreen(Screen[None]):
    """Server, port, ID, password (hidden) and TLS; Enter in any field logs in."""

    class Submitted(Message):
        def __init__(self, form: LoginForm) -> None:
            super().__init__()
            self.form = form

    def __init__(self, form: LoginForm, *, tls_locked: bool = False) -> None:
        super().__init__()
        self.form = form
        #: ``--ca`` or ``--fingerprint`` given: TLS cannot be switched off here.
        self.tls_locked = tls_locked

    def compose(self) -> ComposeResult:
        with Vertical(id="login-box"):
            yield Static(Text(_("LAN chat \u2014 login"), style="bold"), id="login-title")
            with Grid(id="login-fields"):
                for key, label, value in (
                    ("host", _("Server"), self.form.host), ("port", _("Port"), self.form.port),
                    ("user", _("ID"), self.form.user),
                    ("password", _("Password"), self.form.password),
                ):
                    yield Label(Text(label), classes="field-label")
                    yield Input(value, id=key, password=key == "password",
                                restrict=r"[0-9]*" if key == "port" else None)
            with Horizontal(id="login-buttons"):
                yield Checkbox(_("Encrypted connection (TLS)"), self.form.tls, id="tls",
                               disabled=self.tls_locked)
                yield Button(_("Login"), id="login", variant="primary")
                yield Button(_("Cancel"), id="cancel")
            yield Static("", id="login-status")
        yield Footer()

    def on_mount(self) -> None:
        for key in ("host", "port", "user", "password"):
            field = self.query_one(f"#{key}", Input)
            if not field.value:
                field.focus()
                return
        self.query_one("#password", Input).focus()

    def current(self) -> LoginForm:
        def value(key: str) -> str:
            return self.query_one(f"#{key}", Input).value

        return LoginForm(value("host").strip(), value("port").strip(), value("user").strip(),
                         value("password"), self.query_one("#tls", Checkbox).value)

    @on(Input.Submitted)
    @on(Button.Pressed, "#login")
    def _submit(self) -> None:
        form = self.current()
        problem = login_problem(form)
        if problem:
            self.show_status(problem, error=True)
            return
        self.post_message(self.Submitted(form))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.app.exit(0)

    def show_status(self, text: str, *, error: bool = False, busy: bool = False) -> None:
        """``text`` is safe already (peer text marked)."""
        self.query_one("#login-status", Static).update(
            Text(text, style="bold red" if error else "italic"))
        self.query_one("#login", Button).disabled = busy


class TrustScreen(ModalScreen[bool]):
    """First contact with a server whose certificate no CA vouches for: its
    fingerprint, to compare with the server's log, and Trust or Cancel."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "refuse", show=False)]

    def __init__(self, request: PinRequest) -> None:
        super().__init__()
        self.request = request

    def compose(self) -> ComposeResult:
        r = self.request
        message = _(
            "This is the first connection to {server}:{port}. Its certificate "
            "fingerprint is:\n\n{fingerprint}\n\nCompare it with the fingerprint in "
            "the server's start-up log. Trust this server and remember its certificate?"
        ).format(server=name(r.host), port=r.port, fingerprint=r.fingerprint)
        with Vertical(id="trust-box"):
            yield Static(Text(_("New server certificate"), style="bold"), id="trust-title")
            yield Static(Text(message), id="trust-message")
            with Horizontal(id="trust-buttons"):
                yield Button(_("Trust"), id="trust", variant="warning")
                yield Button(_("Cancel"), id="refuse", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#refuse", Button).focus()  # the safe answer is the default

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "trust")

    def action_refuse(self) -> None:
        self.dismiss(False)


class ChatScreen(Screen[None]):
    """Transcript and participants side by side, transfers, then *To:* and the input."""

    def __init__(self, me: str, where: str) -> None:
        super().__init__()
        self.me = me
        self.where = where
        self.status = ""
        #: Set once every part is composed and mounted: until then nothing
        #: may be shown in it (Textual composes a screen's parts in turns).
        self.ready = asyncio.Event()
        self._recipient = EVERYONE
        self._states: dict[str, ParticipantState] = {}

    def compose(self) -> ComposeResult:
        # Not Textual's Header: its title watchers can fire after it is gone
        # when the app exits right after the screen came up.
        yield Static(self._title_text(), id="title-bar")
        with Horizontal(id="main"):
            yield Transcript(id="transcript")
            yield ParticipantList(id="participants")
        yield TransferPanel(id="transfers")
        with Horizontal(id="compose"):
            yield Select[str](self._options(), value=EVERYONE, allow_blank=False, id="to",
                              prompt=_("To:"))
            yield Composer(id="input")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Composer).focus()
        self.ready.set()

    def on_resize(self) -> None:
        # Below 60 columns the transcript needs the room more than the list.
        self.participants.set_class(self.size.width < NARROW_COLUMNS, "-narrow")

    def _title_text(self) -> Text:
        title = Text(name(self.me), style="bold")
        title.append(f"  {name(self.where)}", style="dim")
        if self.status:
            title.append(f"  \u2014 {self.status}", style="bold yellow")
        return title

    def show_where(self, where: str) -> None:
        """The server now connected to (after a failover to another one)."""
        self.where = where
        self.query_one("#title-bar", Static).update(self._title_text())

    def show_status(self, status: str) -> None:
        """``status`` (safe already) beside the title; empty: all is well."""
        self.status = status
        self.query_one("#title-bar", Static).update(self._title_text())

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    @property
    def participants(self) -> ParticipantList:
        return self.query_one(ParticipantList)

    @property
    def transfers(self) -> TransferPanel:
        return self.query_one(TransferPanel)

    def add(self, entry: RenderableType) -> None:
        self.transcript.add(entry)

    def show_participants(self, states: Mapping[str, ParticipantState], count: int) -> None:
        self._states = dict(states)
        self.participants.show(self.me, states, count)
        self._refresh_recipients()

    # -- To: -----------------------------------------------------------------------

    @property
    def recipient(self) -> str | None:
        return self._recipient or None

    def _options(self) -> list[tuple[RenderableType, str]]:
        others = sorted((n for n in self._states if n != self.me), key=str.casefold)
        if self._recipient and self._recipient not in others:
            others.append(self._recipient)  # gone for now: still the chosen one
        return [(Text(_("Everyone")), EVERYONE),
                *((Text("\u2192 " + name(user)), user) for user in others)]

    def _refresh_recipients(self) -> None:
        select = self.query_one("#to", Select)
        if not select.query("#label"):
            # Textual composes a Select's parts after the screen is mounted;
            # a value set before then would be shown by a part not there yet.
            self.call_after_refresh(self._refresh_recipients)
            return
        with select.prevent(Select.Changed):
            select.set_options(self._options())
            select.value = self._recipient

    def set_recipient(self, user: str | None) -> None:
        self._recipient = user or EVERYONE
        self._refresh_recipients()

    @on(Select.Changed, "#to")
    def _recipient_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self._recipient = event.value
        self.composer.focus()

    @on(ParticipantList.Picked)
    def _picked(self, event: ParticipantList.Picked) -> None:
        self.set_recipient(None if event.user == self.me else event.user)
        self.composer.focus()

    def choose_recipient(self) -> None:
        select = self.query_one("#to", Select)
        select.focus()
        select.expanded = True


__all__ = ["EVERYONE", "ChatScreen", "LoginForm", "LoginScreen", "TrustScreen", "login_problem"]
