"""The read-only transcript: a Text widget users can select and copy from
but not type into, that follows the newest line."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Sequence
from tkinter import ttk

from .lines import Segment
from .theme import palette

#: Lines kept on screen; older ones are dropped so memory stays bounded.
MAX_LINES = 5000
#: Pixels between the text and the transcript's left and right edges.
MARGIN = 6


class Transcript(ttk.Frame):
    def __init__(self, parent: tk.Misc) -> None:
        super().__init__(parent)
        # A modest requested width: in a small window the participant list
        # keeps the room its names need. No padx: the side margins are tag
        # margins (``line``), which an own message's shading covers too.
        self.text = tk.Text(
            self, wrap="word", state="disabled", height=18, width=26, padx=0, pady=4,
            takefocus=False, cursor="arrow", borderwidth=0, highlightthickness=0,
        )
        scroll = ttk.Scrollbar(self, orient="vertical", command=self.text.yview)
        self.text.configure(yscrollcommand=scroll.set)
        self.text.grid(row=0, column=0, sticky="nsew")
        scroll.grid(row=0, column=1, sticky="ns")
        self.rowconfigure(0, weight=1)
        self.columnconfigure(0, weight=1)
        self._style_tags()

    def _style_tags(self) -> None:
        text = self.text
        colours = palette(text)
        text.configure(background=colours.base, foreground=colours.text,
                       insertbackground=colours.text)
        text.tag_configure("line", lmargin1=MARGIN, lmargin2=MARGIN, rmargin=MARGIN,
                           spacing1=1, spacing3=1)
        text.tag_configure("time", foreground=colours.time)
        text.tag_configure("sender", foreground=colours.sender, font="TkDefaultFont 10 bold")
        # An own message is shaded edge to edge on every line, one-line or not:
        # the tag covers each line's newline (Tk then paints to the right
        # edge, wrapped lines included) and both margins.
        text.tag_configure("own", background=colours.own, lmargincolor=colours.own,
                           rmargincolor=colours.own)
        text.tag_configure("direct", foreground=colours.direct)
        text.tag_configure("continuation", foreground=colours.continuation)
        text.tag_configure("presence", foreground=colours.presence)
        text.tag_configure("deactivated", foreground=colours.deactivated)
        text.tag_configure("file", foreground=colours.file)
        text.tag_configure("saved", foreground=colours.file)
        text.tag_configure("notice", foreground=colours.notice, font="TkDefaultFont 10 bold")
        # Later tags win: own/direct colours override the generic sender colour.
        text.tag_raise("own")
        text.tag_raise("direct")

    def append(self, segments: Sequence[Segment]) -> None:
        text = self.text
        text.configure(state="normal")
        for chunk, tags in segments:
            text.insert("end", chunk, ("line", *tags))
        # Every line ends with its own newline, tagged like the whole line, so
        # that a line's background reaches the right edge.
        text.insert("end", "\n", ("line", *_common(segments)))
        # The widget's own final newline is an empty line after ours.
        excess = int(text.index("end-1c").split(".")[0]) - 1 - MAX_LINES
        if excess > 0:
            text.delete("1.0", f"{excess + 1}.0")
        text.configure(state="disabled")
        text.see("end")

    def content(self) -> str:
        return self.text.get("1.0", "end-1c").removesuffix("\n")

    def lines(self) -> list[str]:
        return self.content().split("\n")


def _common(segments: Sequence[Segment]) -> tuple[str, ...]:
    """The tags every segment of a line has: the line's own, not a part's."""
    if not segments:
        return ()
    first, *rest = (tags for _chunk, tags in segments)
    return tuple(tag for tag in first if all(tag in tags for tags in rest))
