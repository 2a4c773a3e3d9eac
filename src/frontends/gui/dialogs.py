"""Dialogs that never block the Tk event loop.

``tkinter.messagebox`` runs a nested event loop until the user answers;
these are ordinary toplevels, transient to their parent window, so network
events keep flowing while one is open and a test can find, read and answer
them like a user would (``open_dialogs``).
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable, Sequence
from tkinter import ttk
from typing import TypeVar

from .i18n import _

Button = tuple[str, Callable[[], None] | None]


class MessageDialog(tk.Toplevel):
    """A titled message with one or more buttons; every button closes it."""

    def __init__(
        self,
        parent: tk.Misc,
        title: str,
        message: str,
        *,
        kind: str = "error",
        buttons: Sequence[Button] = (),
        on_dismiss: Callable[[], None] | None = None,
        wraplength: int = 360,
    ) -> None:
        super().__init__(parent)
        self.kind = kind
        self.message = message
        self.title(title)
        self.transient(parent.winfo_toplevel())
        self.resizable(False, False)
        frame = ttk.Frame(self, padding=16)
        frame.pack(fill="both", expand=True)
        ttk.Label(frame, text=message, wraplength=wraplength, justify="left").pack(
            anchor="w", pady=(0, 12)
        )
        row = ttk.Frame(frame)
        row.pack(anchor="e")
        self.buttons: dict[str, ttk.Button] = {}
        for label, action in buttons or [(_("OK"), None)]:
            button = ttk.Button(row, text=label, command=self._answerer(action))
            button.pack(side="left", padx=(8, 0))
            self.buttons[label] = button
        first = next(iter(self.buttons.values()))
        first.focus_set()
        self.bind("<Return>", lambda _e: first.invoke())
        # Closing it without a button (Escape, the X) is its own answer.
        self.bind("<Escape>", lambda _e: self._answer(on_dismiss))
        self.protocol("WM_DELETE_WINDOW", lambda: self._answer(on_dismiss))
        place_over(self, parent)

    def _answerer(self, action: Callable[[], None] | None) -> Callable[[], None]:
        return lambda: self._answer(action)

    def _answer(self, action: Callable[[], None] | None) -> None:
        self.destroy()
        if action is not None:
            action()


def place_over(window: tk.Toplevel, parent: tk.Misc) -> None:
    """Put ``window`` over the middle of ``parent``'s window, a little high."""
    top = parent.winfo_toplevel()
    window.update_idletasks()
    x = top.winfo_rootx() + max(0, (top.winfo_width() - window.winfo_reqwidth()) // 2)
    y = top.winfo_rooty() + max(0, (top.winfo_height() - window.winfo_reqheight()) // 3)
    window.geometry(f"+{x}+{y}")


W = TypeVar("W", bound=tk.Misc)


def open_windows(root: tk.Misc, kind: type[W]) -> list[W]:
    """The widgets of ``kind`` currently open under ``root``, oldest first."""
    found: list[W] = []
    pending = list(root.winfo_children())
    while pending:
        widget = pending.pop(0)
        if isinstance(widget, kind):
            found.append(widget)
        pending.extend(widget.winfo_children())
    return found


def open_dialogs(root: tk.Misc) -> list[MessageDialog]:
    """The message dialogs currently open under ``root``, oldest first."""
    return open_windows(root, MessageDialog)
