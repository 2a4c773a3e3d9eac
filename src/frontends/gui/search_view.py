"""The search box and its results.

The box sits above the transcript; the results open in a window of their
own (a plain toplevel, never a nested event loop), newest first, each with
its room (or the other user of a direct conversation), sender and time.
"More" asks the server for the next, older page; clicking a result shows
its conversation in the main window.
"""

from __future__ import annotations

import time
import tkinter as tk
from collections.abc import Callable, Sequence
from tkinter import ttk

from chatproto import SearchHit

from .conversations import Conversation, conversation_of
from .dialogs import place_over
from .i18n import _, ngettext
from .rooms import entry_label
from .safetext import clean

#: Characters of a message shown in its result row.
EXCERPT = 120


def hit_time(timestamp_ms: int) -> str:
    # Results may be months old: the date matters as much as the time.
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp_ms / 1000))


def excerpt(text: str) -> str:
    flat = clean(text, single_line=True)
    return flat if len(flat) <= EXCERPT else flat[:EXCERPT - 1] + "\u2026"


class SearchBox(ttk.Frame):
    def __init__(self, parent: tk.Misc, on_search: Callable[[str], None]) -> None:
        super().__init__(parent)
        self.on_search = on_search
        self.query = tk.StringVar(self)
        ttk.Label(self, text=_("Search:")).pack(side="left")
        self.entry = ttk.Entry(self, textvariable=self.query, width=24)
        self.entry.pack(side="left", fill="x", expand=True, padx=4)
        self.button = ttk.Button(self, text=_("Find"), command=self.submit)
        self.button.pack(side="left")
        self.entry.bind("<Return>", lambda _e: self.submit())
        self.entry.bind("<KP_Enter>", lambda _e: self.submit())

    def submit(self) -> None:
        query = self.query.get().strip()
        if query:
            self.on_search(query)


class SearchWindow(tk.Toplevel):
    """The results of one query; ``add`` appends a page as it arrives."""

    def __init__(self, parent: tk.Misc, me: str, on_pick: Callable[[Conversation], None],
                 on_more: Callable[[], None]) -> None:
        super().__init__(parent)
        self.me = me
        self.on_pick = on_pick
        self.transient(parent.winfo_toplevel())
        self.hits: list[SearchHit] = []
        frame = ttk.Frame(self, padding=10)
        frame.pack(fill="both", expand=True)
        self.status = ttk.Label(frame, text="")
        self.status.grid(row=0, column=0, sticky="w", pady=(0, 6))
        self.tree = ttk.Treeview(frame, columns=("time", "where", "sender", "text"),
                                 show="headings", selectmode="browse", height=14)
        for column, heading, width in (("time", _("Time"), 130), ("where", _("Room"), 110),
                                       ("sender", _("From"), 100),
                                       ("text", _("Message"), 320)):
            self.tree.heading(column, text=heading)
            self.tree.column(column, width=width, stretch=column == "text")
        scroll = ttk.Scrollbar(frame, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scroll.set)
        self.tree.grid(row=1, column=0, sticky="nsew")
        scroll.grid(row=1, column=1, sticky="ns")
        self.more_button = ttk.Button(frame, text=_("More"), command=on_more)
        self.more_button.grid(row=2, column=0, sticky="e", pady=(6, 0))
        frame.rowconfigure(1, weight=1)
        frame.columnconfigure(0, weight=1)
        self.tree.bind("<<TreeviewSelect>>", lambda _e: self._picked())
        self.bind("<Escape>", lambda _e: self.destroy())
        self.geometry("720x380")
        place_over(self, parent)

    def start(self, query: str) -> None:
        """A new query: clear the results, say what is being looked for."""
        self.title(_("Search: {query}").format(query=clean(query, single_line=True)))
        self.hits = []
        self.tree.delete(*self.tree.get_children())
        self.status.configure(text=_("Searching\u2026"))
        self.more_button.state(["disabled"])

    def add(self, hits: Sequence[SearchHit], more: bool) -> None:
        for hit in hits:
            where = entry_label(conversation_of(hit, self.me))
            self.tree.insert("", "end", iid=str(len(self.hits)), values=(
                hit_time(hit.timestamp_ms), where, clean(hit.sender, single_line=True),
                excerpt(hit.text)))
            self.hits.append(hit)
        count = len(self.hits)
        if count == 0:
            self.status.configure(text=_("Nothing found."))
        else:
            text = ngettext("{count} message found", "{count} messages found", count)
            self.status.configure(text=text.format(count=count)
                                  + (" " + _("(older ones: More)") if more else ""))
        self.more_button.state(["!disabled"] if more else ["disabled"])

    def show_failure(self, text: str) -> None:
        self.status.configure(text=text)
        self.more_button.state(["disabled"])

    def searching_more(self) -> None:
        self.more_button.state(["disabled"])

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(time, where, sender, text) of each result as shown."""
        return [tuple(str(v) for v in self.tree.item(key, "values"))  # type: ignore[misc]
                for key in self.tree.get_children()]

    def pick(self, index: int) -> None:
        """Select result ``index``, as a click on it does."""
        self.tree.selection_set(str(index))
        self._picked()

    def _picked(self) -> None:
        selection = self.tree.selection()
        if selection:
            self.on_pick(conversation_of(self.hits[int(selection[0])], self.me))
