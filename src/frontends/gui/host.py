"""What the parts of the application split out of ``app.py`` need of it.

A Protocol, not the ``App`` class: they are given the application without
importing it (no import cycle, and each part can be read on its own)."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Protocol

from .chat_view import ChatView
from .dialogs import MessageDialog
from .link import Link
from .settings import Settings


class Host(Protocol):
    root: tk.Tk
    link: Link | None
    chat_view: ChatView | None
    settings: Settings
    config_folder: Path

    def later(self, future: Future[Any], handler: Callable[[Future[Any]], None]) -> None:
        """Run ``handler(future)`` on the Tk thread once ``future`` is done."""

    def dialog(self, title: str, message: str, *, kind: str = "error",
               buttons: list[tuple[str, Callable[[], None] | None]] | None = None
               ) -> MessageDialog: ...
