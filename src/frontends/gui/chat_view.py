"""The chat window's content: transcript, participants, transfers, entry."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from pathlib import Path
from tkinter import ttk

from .i18n import _
from .lines import shown_path
from .participants import ParticipantList
from .theme import wrap_beside
from .transcript import Transcript
from .transfers import TransferPanel


class ChatActions:
    """What the chat view asks of the application."""

    def __init__(
        self,
        send: Callable[[str, str | None], bool],
        send_file: Callable[[str | None], None],
        open_folder: Callable[[], None],
        choose_folder: Callable[[], None],
        reconnect: Callable[[], None],
        set_attention: Callable[[bool], None] = lambda _on: None,
    ) -> None:
        self.send = send
        self.send_file = send_file
        self.open_folder = open_folder
        self.choose_folder = choose_folder
        self.reconnect = reconnect
        #: The "alert on new messages" box was ticked (True) or unticked.
        self.set_attention = set_attention


class ChatView(ttk.Frame):
    def __init__(self, parent: tk.Misc, actions: ChatActions, folder: Path, *,
                 attention: bool = True) -> None:
        super().__init__(parent, padding=6)
        self.actions = actions
        self.everyone = _("Everyone")

        self.banner = ttk.Frame(self, padding=(0, 0, 0, 6))
        self.banner_label = ttk.Label(self.banner, text="", foreground="#b00020")
        self.reconnect_button = ttk.Button(
            self.banner, text=_("Reconnect"), command=actions.reconnect
        )
        self.reconnect_button.pack(side="right", anchor="n")
        # Packed after the button, wrapped beside it: a long message (a changed
        # certificate) shows whole instead of pushing the button off.
        self.banner_label.pack(side="left", fill="x", expand=True)
        wrap_beside(self.banner_label, self.banner, self.reconnect_button)

        panes = ttk.PanedWindow(self, orient="horizontal")
        self.transcript = Transcript(panes)
        self.participants = ParticipantList(panes, on_pick=self.address_to)
        panes.add(self.transcript, weight=4)
        self._style_mentions()
        # A theme switch restyles the transcript: the highlight follows it.
        self.transcript.text.bind("<<ThemeChanged>>", lambda _e: self._style_mentions(),
                                  add="+")
        panes.add(self.participants, weight=1)
        panes.grid(row=1, column=0, sticky="nsew")

        self.transfers = TransferPanel(self)
        self.transfers.grid(row=2, column=0, sticky="ew", pady=(4, 0))

        folder_row = ttk.Frame(self)
        folder_row.grid(row=3, column=0, sticky="ew", pady=(4, 0))
        ttk.Label(folder_row, text=_("Downloads:")).pack(side="left")
        self.folder_label = ttk.Label(folder_row, text=shown_path(folder))
        self.folder_label.pack(side="left", padx=4, fill="x", expand=True)
        self.open_folder_button = ttk.Button(
            folder_row, text=_("Open folder"), command=actions.open_folder
        )
        self.choose_folder_button = ttk.Button(
            folder_row, text=_("Change\u2026"), command=actions.choose_folder
        )
        self.choose_folder_button.pack(side="right")
        self.open_folder_button.pack(side="right", padx=4)
        self.attention = tk.BooleanVar(self, value=attention)
        self.attention_box = ttk.Checkbutton(
            folder_row, text=_("Alert on new messages"), variable=self.attention,
            command=lambda: actions.set_attention(self.attention.get()),
        )
        self.attention_box.pack(side="right", padx=(4, 8))

        compose = ttk.Frame(self)
        compose.grid(row=4, column=0, sticky="ew", pady=(6, 0))
        ttk.Label(compose, text=_("To:")).grid(row=0, column=0, sticky="nw", padx=(0, 4))
        self.recipient = ttk.Combobox(compose, state="readonly", width=14, values=[self.everyone])
        self.recipient.set(self.everyone)
        self.recipient.grid(row=0, column=1, sticky="nw")
        self.entry = tk.Text(compose, height=3, width=40, wrap="word", undo=True)
        self.entry.grid(row=0, column=2, sticky="ew", padx=6)
        self.entry.bind("<Return>", self._on_return)
        self.entry.bind("<KP_Enter>", self._on_return)
        self.entry.bind("<Shift-Return>", self._on_shift_return)
        buttons = ttk.Frame(compose)
        buttons.grid(row=0, column=3, sticky="n")
        self.send_button = ttk.Button(buttons, text=_("Send"), command=self.submit)
        self.file_button = ttk.Button(
            buttons, text=_("File\u2026"), command=lambda: actions.send_file(self.recipient_name())
        )
        self.send_button.pack(fill="x")
        self.file_button.pack(fill="x", pady=(4, 0))
        compose.columnconfigure(2, weight=1)

        self.rowconfigure(1, weight=1)
        self.columnconfigure(0, weight=1)

    def _style_mentions(self) -> None:
        """A message naming the user (app.py tags it ``mention``) is shaded
        in a warm tone, light or dark after the transcript's own background."""
        text = self.transcript.text
        red, green, blue = text.winfo_rgb(str(text.cget("background")))
        dark = (0.299 * red + 0.587 * green + 0.114 * blue) / 65535 < 0.5
        shade = "#4d4318" if dark else "#fff1b8"
        text.tag_configure("mention", background=shade, lmargincolor=shade,
                           rmargincolor=shade)
        text.tag_raise("mention")

    # -- composing ------------------------------------------------------------

    def _on_return(self, _event: tk.Event[tk.Text]) -> str:
        self.submit()
        return "break"

    def _on_shift_return(self, _event: tk.Event[tk.Text]) -> str:
        self.entry.insert("insert", "\n")
        self.entry.see("insert")
        return "break"

    def draft(self) -> str:
        return self.entry.get("1.0", "end-1c")

    def submit(self) -> None:
        text = self.draft()
        if not text.strip():
            return
        if self.actions.send(text, self.recipient_name()):
            self.entry.delete("1.0", "end")

    def recipient_name(self) -> str | None:
        chosen = self.recipient.get()
        return None if chosen in ("", self.everyone) else chosen

    def address_to(self, name: str | None) -> None:
        if name is None or name == self.participants.me:
            self.recipient.set(self.everyone)
        else:
            self.recipient.set(name)
        self.entry.focus_set()

    def refresh_recipients(self) -> None:
        others = [n for n in sorted(self.participants.states, key=str.casefold)
                  if n != self.participants.me]
        self.recipient.configure(values=[self.everyone, *others])
        if self.recipient_name() not in (None, *others):
            self.recipient.set(self.everyone)

    # -- connection state -------------------------------------------------------

    def show_disconnected(self, message: str) -> None:
        self.banner_label.configure(text=message)
        self.reconnect_button.state(["!disabled"])
        self.banner.grid(row=0, column=0, sticky="ew")
        for button in (self.send_button, self.file_button):
            button.state(["disabled"])

    def show_reconnecting(self, message: str) -> None:
        self.banner_label.configure(text=message)
        self.reconnect_button.state(["disabled"])

    def show_connected(self) -> None:
        self.banner.grid_remove()
        for button in (self.send_button, self.file_button):
            button.state(["!disabled"])

    def set_folder(self, folder: Path) -> None:
        self.folder_label.configure(text=shown_path(folder))
