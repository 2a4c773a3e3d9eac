"""One progress bar per running upload and download."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from .i18n import _
from .lines import size_text
from .safetext import clean

#: A finished row stays this long so that short transfers are seen at all.
LINGER_MS = 5000


class TransferRow:
    def __init__(self, parent: ttk.Frame, direction: str, name: str, total: int) -> None:
        self.frame = ttk.Frame(parent)
        arrow = "\u2191" if direction == "upload" else "\u2193"
        self.label = ttk.Label(
            self.frame, text=f"{arrow} {clean(name, single_line=True)}", width=24
        )
        self.bar = ttk.Progressbar(self.frame, mode="determinate", maximum=max(total, 1))
        self.status = ttk.Label(self.frame, text="", width=16)
        self.label.pack(side="left")
        self.bar.pack(side="left", fill="x", expand=True, padx=6)
        self.status.pack(side="left")
        self.frame.pack(fill="x", pady=1)
        self.total = total
        self.done = 0
        self.finished = False
        #: Distinct values the bar showed (bounded), so tests can see it move.
        self.shown: list[int] = []

    def update(self, done: int, total: int) -> None:
        if total != self.total:
            self.total = total
            self.bar.configure(maximum=max(total, 1))
        self.done = done
        self.bar.configure(value=done)
        if total > 0:
            self.status.configure(text=f"{done * 100 // total}% {size_text(total)}")
        if len(self.shown) < 1000 and (not self.shown or self.shown[-1] != done):
            self.shown.append(done)

    def finish(self, text: str) -> None:
        self.finished = True
        self.status.configure(text=text)


class TransferPanel(ttk.Frame):
    """Rows keyed by (direction, key): the local path of an upload, the
    file id of a download, as in the session's ``Progress`` notices."""

    def __init__(self, parent: tk.Misc) -> None:
        super().__init__(parent)
        self.rows: dict[tuple[str, str], TransferRow] = {}
        #: Finished rows, kept (bounded) for tests and for a last look.
        self.history: list[TransferRow] = []
        # Progress notices and the end of a transfer travel by different
        # queues: a late notice must not revive a finished row.
        self._finished: dict[tuple[str, str], None] = {}

    def start(self, direction: str, key: str, name: str, total: int) -> None:
        self._finished.pop((direction, key), None)
        if (direction, key) not in self.rows:
            self.rows[(direction, key)] = TransferRow(self, direction, name, total)

    def progress(self, direction: str, key: str, name: str, done: int, total: int) -> None:
        if (direction, key) in self._finished:
            return
        self.start(direction, key, name, total)
        self.rows[(direction, key)].update(done, total)

    def finish(self, direction: str, key: str, name: str, ok: bool) -> None:
        self.start(direction, key, name, 0)
        row = self.rows.pop((direction, key))
        self._finished[(direction, key)] = None
        if len(self._finished) > 1000:
            del self._finished[next(iter(self._finished))]
        if ok:
            row.update(row.total, row.total)
        row.finish(_("done") if ok else _("failed"))
        self.history = [*self.history[-49:], row]
        self.after(LINGER_MS, row.frame.destroy)
