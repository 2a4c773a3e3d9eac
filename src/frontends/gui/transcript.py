"""The read-only transcript: a Text widget users can select and copy from
but not type into, that follows the newest line."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Sequence
from tkinter import ttk

from .lines import Segment

#: Lines kept on screen; older ones are dropped so memory stays bounded.
MAX_LINES = 5000


class Transcript(ttk.Frame):
    def __init__(self, parent: tk.Misc) -> None:
        super().__init__(parent)
        self.text = tk.Text(
            self, wrap="word", state="disabled", height=18, width=60, padx=6, pady=4,
            takefocus=False, cursor="arrow",
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
        text.tag_configure("time", foreground="#7a7a7a")
        text.tag_configure("sender", foreground="#1f4e99", font="TkDefaultFont 10 bold")
        text.tag_configure("own", background="#eaf4ea")
        text.tag_configure("direct", foreground="#7b2a8c")
        text.tag_configure("continuation", foreground="#9a9a9a")
        text.tag_configure("presence", foreground="#606060")
        text.tag_configure("deactivated", foreground="#a0522d")
        text.tag_configure("file", foreground="#005f5f")
        text.tag_configure("saved", foreground="#005f5f")
        text.tag_configure("notice", foreground="#b00020", font="TkDefaultFont 10 bold")
        # Later tags win: own/direct colours override the generic sender colour.
        text.tag_raise("own")
        text.tag_raise("direct")

    def append(self, segments: Sequence[Segment]) -> None:
        text = self.text
        text.configure(state="normal")
        if text.index("end-1c") != "1.0":
            text.insert("end", "\n")
        for chunk, tags in segments:
            text.insert("end", chunk, tags)
        excess = int(text.index("end-1c").split(".")[0]) - MAX_LINES
        if excess > 0:
            text.delete("1.0", f"{excess + 1}.0")
        text.configure(state="disabled")
        text.see("end")

    def content(self) -> str:
        return self.text.get("1.0", "end-1c")

    def lines(self) -> list[str]:
        return self.content().split("\n")
