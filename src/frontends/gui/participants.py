"""The participant list: every counted user with their state, and the count.

While the connection is down nobody's state is known (the server may be
restarting, people leave meanwhile): the list keeps the names but shows
them greyed as "unknown" until the next login brings the real states."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable, Mapping
from tkinter import ttk

from chatproto import ParticipantState, Presence, apply_presence

from .i18n import _
from .lines import participants_text
from .safetext import clean
from .theme import fit_columns

#: The tag and shown state of every row while the connection is down.
UNKNOWN = "unknown"


def state_label(state: ParticipantState | None) -> str:
    if state is None:
        return _("unknown")
    if state == ParticipantState.DEACTIVATED:
        return _("deactivated")
    return _("active")


class ParticipantList(ttk.Frame):
    def __init__(self, parent: tk.Misc, on_pick: Callable[[str], None]) -> None:
        super().__init__(parent)
        self.states: dict[str, ParticipantState] = {}
        self.me = ""
        #: False from a lost connection until the next login's list.
        self.known = True
        self.count_label = ttk.Label(self, text=participants_text(0))
        self.count_label.grid(row=0, column=0, sticky="w", pady=(0, 4))
        self.tree = ttk.Treeview(
            self, columns=("state",), show="tree headings", selectmode="browse", height=12
        )
        self.tree.heading("#0", text=_("ID"))
        self.tree.heading("state", text=_("State"))
        self.tree.column("#0", width=100, stretch=True)
        self.tree.column("state", width=100, stretch=False)
        self.tree.tag_configure("deactivated", foreground="#a0522d")
        self.tree.tag_configure("me", font="TkDefaultFont 10 bold")
        self.tree.tag_configure(UNKNOWN, foreground="#9a9a9a")
        self.tree.grid(row=1, column=0, sticky="nsew")
        self.rowconfigure(1, weight=1)
        self.columnconfigure(0, weight=1)
        # A double click addresses the next message or file to that user.
        self.tree.bind("<Double-1>", lambda _e: self._pick(on_pick))
        self.tree.bind("<Return>", lambda _e: self._pick(on_pick))

    def _pick(self, on_pick: Callable[[str], None]) -> None:
        name = self.selected()
        if name is not None:
            on_pick(name)

    def selected(self) -> str | None:
        selection = self.tree.selection()
        return str(selection[0]) if selection else None

    def reset(self, me: str, states: Mapping[str, ParticipantState]) -> None:
        self.me = me
        self.states = dict(states)
        self.known = True
        self._redraw(len(self.states))

    def mark_unknown(self) -> None:
        """The connection is lost: keep the names, show no state as current."""
        self.known = False
        self._redraw(len(self.states))

    def apply(self, presence: Presence) -> None:
        apply_presence(self.states, presence)
        # The server's count is the truth even if we missed an event.
        self._redraw(presence.participant_count)

    def _redraw(self, count: int) -> None:
        selected = self.selected()
        self.tree.delete(*self.tree.get_children())
        for name in sorted(self.states, key=str.casefold):
            state = self.states[name] if self.known else None
            tags = [str(state) if state is not None else UNKNOWN]
            if name == self.me:
                tags.append("me")
            self.tree.insert(
                "", "end", iid=name, text=clean(name, single_line=True),
                values=(state_label(state),), tags=tags,
            )
        if selected in self.states:
            self.tree.selection_set(selected)
        fit_columns(self.tree)  # names must not clip in a small window
        text = participants_text(count) if self.known else _("Participants: unknown")
        self.count_label.configure(text=text)

    def shown_state(self, name: str) -> str:
        return str(self.states[name]) if self.known else UNKNOWN

    def rows(self) -> list[tuple[str, str]]:
        """(name, state) as shown, for tests and screen readers."""
        return [(name, self.shown_state(name)) for name in self.tree.get_children()]
