"""The login form: server, port, ID, password, Login and Cancel."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from chatproto import is_valid_username
from chatproto.session import ServerListError, parse_servers

from .i18n import _
from .safetext import clean
from .settings import Settings

LoginHandler = Callable[[str, str, str, str, bool], None]
#: Pixels between a label and its entry.
LABEL_GAP = 10


class LoginView(ttk.Frame):
    def __init__(
        self,
        parent: tk.Misc,
        settings: Settings,
        on_login: LoginHandler,
        on_cancel: Callable[[], None],
    ) -> None:
        super().__init__(parent, padding=16)
        self._on_login = on_login
        self.server = tk.StringVar(self, settings.server)
        self.port = tk.StringVar(self, str(settings.port))
        self.username = tk.StringVar(self, settings.username)
        self.password = tk.StringVar(self, "")
        self.tls = tk.BooleanVar(self, settings.tls)
        self.entries: dict[str, ttk.Entry] = {}
        fields = (
            ("server", _("Server"), self.server, ""),
            ("port", _("Port"), self.port, ""),
            ("username", _("ID"), self.username, ""),
            ("password", _("Password"), self.password, "\u2022"),
        )
        for row, (key, label, variable, mask) in enumerate(fields):
            # A gap between each label and its field, whatever the language's
            # longest label ("Password", "비밀번호") and the theme's padding.
            ttk.Label(self, text=label).grid(row=row, column=0, sticky="w", pady=3,
                                             padx=(0, LABEL_GAP))
            entry = ttk.Entry(self, textvariable=variable, width=28, show=mask)
            entry.grid(row=row, column=1, sticky="ew", pady=3)
            entry.bind("<Return>", lambda _e: self.submit())
            entry.bind("<KP_Enter>", lambda _e: self.submit())
            self.entries[key] = entry
        self.columnconfigure(1, weight=1)
        self.tls_check = ttk.Checkbutton(
            self, text=_("Encrypted connection (TLS)"), variable=self.tls)
        self.tls_check.grid(row=len(fields), column=1, sticky="w", pady=(4, 0))

        buttons = ttk.Frame(self)
        buttons.grid(row=len(fields) + 1, column=0, columnspan=2, sticky="e", pady=(10, 0))
        self.login_button = ttk.Button(buttons, text=_("Login"), command=self.submit)
        self.cancel_button = ttk.Button(buttons, text=_("Cancel"), command=on_cancel)
        self.login_button.pack(side="left", padx=(0, 6))
        self.cancel_button.pack(side="left")

        self.status = ttk.Label(self, text="", foreground="#555555")
        self.status.grid(row=len(fields) + 2, column=0, columnspan=2, sticky="w", pady=(10, 0))
        self.spinner = ttk.Progressbar(self, mode="indeterminate", length=200)
        self.busy = False

    def focus_first_empty(self) -> None:
        for key, variable in (
            ("server", self.server), ("username", self.username), ("password", self.password)
        ):
            if not variable.get():
                self.entries[key].focus_set()
                return
        self.entries["password"].focus_set()

    def submit(self) -> None:
        if self.busy:
            return
        self._on_login(
            self.server.get().strip(), self.port.get().strip(),
            self.username.get().strip(), self.password.get(), bool(self.tls.get()),
        )

    def set_busy(self, busy: bool, message: str = "") -> None:
        """Show that a login is under way; the form stays responsive but
        cannot be submitted twice."""
        self.busy = busy
        state = ["disabled"] if busy else ["!disabled"]
        for entry in self.entries.values():
            entry.state(state)
        self.tls_check.state(state)
        self.login_button.state(state)
        self.status.configure(text=message)
        if busy:
            self.spinner.grid(row=7, column=0, columnspan=2, sticky="ew", pady=(6, 0))
            self.spinner.start(15)
        else:
            self.spinner.stop()
            self.spinner.grid_remove()


def login_problem(server: str, port_text: str, username: str, password: str) -> str:
    if not server:
        return _("Please enter the server's address.")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        return _("The port must be a number between 1 and 65535.")
    try:
        parse_servers(server, int(port_text))
    except ServerListError as exc:
        return _("The list of servers is not valid: {reason}").format(reason=clean(str(exc)))
    if not username:
        return _("Please enter your ID.")
    if not is_valid_username(username):
        return _("An ID may contain only letters, digits, '_' and '-' (at most 32); "
                 "accents are fine, mixing alphabets is not.")
    if not password:
        return _("Please enter your password.")
    return ""
