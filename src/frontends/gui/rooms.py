"""The room list beside the transcript: general, the user's rooms, then the
direct conversations, each with its count of unread messages.

Selecting an entry shows its transcript and addresses what is typed next to
it (``on_select``). The buttons below ask the application to create, join,
leave a room or invite someone into the selected one; on a server without
rooms (protocol version 3 and older) they are hidden and the list holds
general and the direct conversations only.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import Any

from .conversations import GENERAL, Conversation, ordered
from .i18n import _
from .safetext import clean
from .theme import fit_columns


def entry_label(conversation: Conversation) -> str:
    """How a conversation is named in the list and on the To: line."""
    name = clean(conversation.name, single_line=True)
    return "# " + name if conversation.is_room else "@ " + name


class RoomActions:
    """What the room list's buttons ask of the application."""

    def __init__(self, create: Callable[[], None], join: Callable[[], None],
                 leave: Callable[[Conversation], None],
                 invite: Callable[[Conversation], None]) -> None:
        self.create = create
        self.join = join
        self.leave = leave
        self.invite = invite


class RoomList(ttk.Frame):
    def __init__(self, parent: tk.Misc, actions: RoomActions,
                 on_select: Callable[[Conversation], None]) -> None:
        super().__init__(parent)
        self.actions = actions
        self.on_select = on_select
        self.conversations: dict[str, Conversation] = {GENERAL.key: GENERAL}
        self.unread: dict[str, int] = {}
        self.current = GENERAL
        self.tree = ttk.Treeview(self, columns=("unread",), show="tree headings",
                                 selectmode="browse", height=12)
        self.tree.heading("#0", text=_("Conversations"))
        self.tree.heading("unread", text=_("Unread"))
        self.tree.column("#0", width=110, stretch=True)
        self.tree.column("unread", width=50, stretch=False, anchor="e")
        self.tree.tag_configure("unread", font="TkDefaultFont 10 bold")
        self.tree.grid(row=0, column=0, sticky="nsew")
        self.tree.bind("<<TreeviewSelect>>", lambda _e: self._picked())
        self.buttons = ttk.Frame(self)
        self.create_button = ttk.Button(self.buttons, text=_("New room\u2026"),
                                        command=actions.create)
        self.join_button = ttk.Button(self.buttons, text=_("Join\u2026"), command=actions.join)
        self.invite_button = ttk.Button(self.buttons, text=_("Invite\u2026"),
                                        command=lambda: actions.invite(self.current))
        self.leave_button = ttk.Button(self.buttons, text=_("Leave"),
                                       command=lambda: actions.leave(self.current))
        for row, column, button in ((0, 0, self.create_button), (0, 1, self.join_button),
                                    (1, 0, self.invite_button), (1, 1, self.leave_button)):
            button.grid(row=row, column=column, sticky="ew", padx=1, pady=1)
        self.buttons.columnconfigure((0, 1), weight=1)
        self.rowconfigure(0, weight=1)
        self.columnconfigure(0, weight=1)
        self.rooms_supported = False
        self.set_rooms_supported(False)
        self._redraw()

    def set_rooms_supported(self, supported: bool) -> None:
        self.rooms_supported = supported
        if supported:
            self.buttons.grid(row=1, column=0, sticky="ew", pady=(4, 0))
        else:
            self.buttons.grid_remove()
        self._update_buttons()

    # -- entries ------------------------------------------------------------------

    def add(self, conversation: Conversation) -> Conversation:
        """The entry for ``conversation``, added if new (the first spelling stays)."""
        known = self.conversations.setdefault(conversation.key, conversation)
        if known is conversation:
            self._redraw()
        return known

    def remove(self, conversation: Conversation) -> None:
        """Drop a room left (never general); its unread count goes with it."""
        if conversation.is_general or conversation.key not in self.conversations:
            return
        del self.conversations[conversation.key]
        self.unread.pop(conversation.key, None)
        if self.current.key == conversation.key:
            self.select(GENERAL)
        self._redraw()

    def rooms(self) -> list[Conversation]:
        """The rooms in the list, general included, in list order."""
        return [c for c in ordered(list(self.conversations.values())) if c.is_room]

    def arrived(self, conversation: Conversation) -> None:
        """A message from someone else arrived in ``conversation``."""
        conversation = self.add(conversation)
        if conversation.key == self.current.key:
            return
        self.unread[conversation.key] = self.unread.get(conversation.key, 0) + 1
        self._show_count(conversation.key)  # on every message: one row, not the list

    def unread_count(self, conversation: Conversation) -> int:
        return self.unread.get(conversation.key, 0)

    def select(self, conversation: Conversation) -> None:
        """Show ``conversation`` (adding it if new), as a click on it does."""
        conversation = self.add(conversation)
        self.tree.selection_set(conversation.key)
        self.tree.see(conversation.key)
        # Now, not when Tk delivers <<TreeviewSelect>>: the caller may type
        # into the conversation right away (that event then changes nothing).
        self._picked()

    def _picked(self) -> None:
        selection = self.tree.selection()
        if not selection or selection[0] not in self.conversations:
            return
        conversation = self.conversations[selection[0]]
        changed = conversation.key != self.current.key
        self.current = conversation
        if self.unread.pop(conversation.key, 0):
            self._show_count(conversation.key)
        self._update_buttons()
        if changed:
            self.on_select(conversation)

    def _update_buttons(self) -> None:
        # General cannot be left, and nobody is invited into it or into a
        # direct conversation.
        own_room = self.current.is_room and not self.current.is_general
        for button in (self.invite_button, self.leave_button):
            button.state(["!disabled"] if own_room else ["disabled"])

    def _row(self, key: str) -> dict[str, Any]:
        count = self.unread.get(key, 0)
        return {"values": (str(count) if count else "",), "tags": ("unread",) if count else ()}

    def _show_count(self, key: str) -> None:
        self.tree.item(key, **self._row(key))
        fit_columns(self.tree)

    def _redraw(self) -> None:
        self.tree.delete(*self.tree.get_children())
        for conversation in ordered(list(self.conversations.values())):
            self.tree.insert("", "end", iid=conversation.key, text=entry_label(conversation),
                             **self._row(conversation.key))
        if self.current.key in self.conversations:
            # Restoring the selection is no new pick: _picked sees the same key.
            self.tree.selection_set(self.current.key)
        fit_columns(self.tree)

    def rows(self) -> list[tuple[str, int]]:
        """(label, unread) as shown, in order, for tests and screen readers."""
        return [(str(self.tree.item(key, "text")), self.unread.get(key, 0))
                for key in self.tree.get_children()]
