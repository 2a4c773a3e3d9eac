"""The chat window's content: the room list, one transcript per
conversation (only the selected one shown), participants, transfers, the
search box and the entry.

*To:* follows the selected conversation and the other way round: picking a
room or a person on the To: line selects their conversation."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable, Sequence
from pathlib import Path
from tkinter import ttk

from .conversations import GENERAL, Conversation, direct
from .i18n import _
from .lines import Segment, shown_path
from .participants import ParticipantList
from .rooms import RoomActions, RoomList
from .search_view import SearchBox
from .theme import wrap_beside
from .transcript import Transcript
from .transfers import TransferPanel


class ChatActions:
    """What the chat view asks of the application."""

    def __init__(
        self,
        send: Callable[[str, Conversation], bool],
        send_file: Callable[[Conversation], None],
        open_folder: Callable[[], None],
        choose_folder: Callable[[], None],
        reconnect: Callable[[], None],
        set_attention: Callable[[bool], None] = lambda _on: None,
        rooms: RoomActions | None = None,
        search: Callable[[str], None] = lambda _query: None,
    ) -> None:
        self.send = send
        self.send_file = send_file
        self.open_folder = open_folder
        self.choose_folder = choose_folder
        self.reconnect = reconnect
        #: The "alert on new messages" box was ticked (True) or unticked.
        self.set_attention = set_attention
        self.rooms = rooms or RoomActions(lambda: None, lambda: None, lambda _c: None,
                                          lambda _c: None)
        self.search = search


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

        self.search_box = SearchBox(self, actions.search)

        panes = ttk.PanedWindow(self, orient="horizontal")
        self.rooms = RoomList(panes, actions.rooms, on_select=self._show)
        self.stack = ttk.Frame(panes)
        self.stack.rowconfigure(0, weight=1)
        self.stack.columnconfigure(0, weight=1)
        self.transcripts: dict[str, Transcript] = {}
        self.participants = ParticipantList(panes, on_pick=self.address_to)
        panes.add(self.rooms, weight=1)
        panes.add(self.stack, weight=4)
        panes.add(self.participants, weight=1)
        panes.grid(row=2, column=0, sticky="nsew")
        self.shown = self.transcripts[GENERAL.key] = self._new_transcript()
        self.shown.grid(row=0, column=0, sticky="nsew")

        self.transfers = TransferPanel(self)
        self.transfers.grid(row=3, column=0, sticky="ew", pady=(4, 0))

        folder_row = ttk.Frame(self)
        folder_row.grid(row=4, column=0, sticky="ew", pady=(4, 0))
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
        compose.grid(row=5, column=0, sticky="ew", pady=(6, 0))
        ttk.Label(compose, text=_("To:")).grid(row=0, column=0, sticky="nw", padx=(0, 4))
        self.recipient = ttk.Combobox(compose, state="readonly", width=14, values=[self.everyone])
        self.recipient.set(self.everyone)
        self.recipient.grid(row=0, column=1, sticky="nw")
        self.recipient.bind("<<ComboboxSelected>>", lambda _e: self._recipient_picked())
        #: The To: line's entries and the conversation each selects.
        self.targets: dict[str, Conversation] = {self.everyone: GENERAL}
        self.entry = tk.Text(compose, height=3, width=40, wrap="word", undo=True)
        self.entry.grid(row=0, column=2, sticky="ew", padx=6)
        self.entry.bind("<Return>", self._on_return)
        self.entry.bind("<KP_Enter>", self._on_return)
        self.entry.bind("<Shift-Return>", self._on_shift_return)
        buttons = ttk.Frame(compose)
        buttons.grid(row=0, column=3, sticky="n")
        self.send_button = ttk.Button(buttons, text=_("Send"), command=self.submit)
        self.file_button = ttk.Button(
            buttons, text=_("File\u2026"), command=lambda: actions.send_file(self.rooms.current)
        )
        self.send_button.pack(fill="x")
        self.file_button.pack(fill="x", pady=(4, 0))
        compose.columnconfigure(2, weight=1)

        self.rowconfigure(2, weight=1)
        self.columnconfigure(0, weight=1)

    def set_rooms_supported(self, supported: bool) -> None:
        """Rooms and search exist on this server (protocol version 4 on)."""
        self.rooms.set_rooms_supported(supported)
        if supported:
            self.search_box.grid(row=1, column=0, sticky="ew", pady=(0, 6))
        else:
            self.search_box.grid_remove()

    # -- conversations ----------------------------------------------------------

    @property
    def transcript(self) -> Transcript:
        """The transcript on screen: the selected conversation's."""
        return self.shown

    def transcript_of(self, conversation: Conversation) -> Transcript:
        """``conversation``'s transcript, made (and listed) on first use."""
        conversation = self.rooms.add(conversation)
        found = self.transcripts.get(conversation.key)
        if found is None:
            found = self.transcripts[conversation.key] = self._new_transcript()
            self.refresh_recipients()
        return found

    def _new_transcript(self) -> Transcript:
        made = Transcript(self.stack)
        self._style_mentions(made)
        # A theme switch restyles the transcript: the highlight follows it.
        made.text.bind("<<ThemeChanged>>", lambda _e: self._style_mentions(made), add="+")
        return made

    def append(self, conversation: Conversation, line: Sequence[Segment]) -> None:
        self.transcript_of(conversation).append(line)

    def notice(self, line: Sequence[Segment]) -> None:
        """A notice about the connection: in general, and in the conversation
        on screen if it is another, so the user sees it wherever they are."""
        self.append(GENERAL, line)
        if self.shown is not self.transcripts[GENERAL.key]:
            self.shown.append(line)

    def drop_room(self, conversation: Conversation) -> None:
        """A room left: its entry and its transcript go."""
        self.rooms.remove(conversation)  # selects general if it was shown
        gone = self.transcripts.pop(conversation.key, None)
        if gone is not None and not conversation.is_general:
            gone.destroy()
        self.refresh_recipients()

    def _show(self, conversation: Conversation) -> None:
        transcript = self.transcript_of(conversation)
        if transcript is not self.shown:
            self.shown.grid_remove()
            self.shown = transcript
            transcript.grid(row=0, column=0, sticky="nsew")
            transcript.text.see("end")
        self.recipient.set(self._target_label(conversation))
        self.refresh_recipients()

    def _target_label(self, conversation: Conversation) -> str:
        if conversation.is_general:
            return self.everyone
        return ("#" if conversation.is_room else "") + conversation.name

    def _recipient_picked(self) -> None:
        target = self.targets.get(self.recipient.get())
        if target is not None:
            self.rooms.select(target)
        self.entry.focus_set()

    def _style_mentions(self, transcript: Transcript) -> None:
        """A message naming the user (app.py tags it ``mention``) is shaded
        in a warm tone, light or dark after the transcript's own background."""
        text = transcript.text
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
        if self.actions.send(text, self.rooms.current):
            self.entry.delete("1.0", "end")

    def address_to(self, name: str | None) -> None:
        """Address what comes next to ``name`` (None: everyone, in general):
        their direct conversation is selected, opened if new."""
        if name is None or name == self.participants.me:
            self.rooms.select(GENERAL)
        else:
            self.rooms.select(direct(name))
        self.entry.focus_set()

    def refresh_recipients(self) -> None:
        """The To: line offers general, the rooms, the others present and
        every direct conversation open."""
        me = self.participants.me
        targets = [GENERAL, *(c for c in self.rooms.rooms() if not c.is_general)]
        people = {direct(n).key: direct(n) for n in self.participants.states if n != me}
        for conversation in self.rooms.conversations.values():
            if not conversation.is_room:
                people.setdefault(conversation.key, conversation)
        targets += sorted(people.values(), key=lambda c: c.name.casefold())
        self.targets = {self._target_label(c): c for c in targets}
        self.recipient.configure(values=list(self.targets))
        self.recipient.set(self._target_label(self.rooms.current))

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
