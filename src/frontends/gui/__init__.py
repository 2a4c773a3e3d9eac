"""chat-gui: the Tkinter desktop client, a thin layer over the client session."""

from __future__ import annotations

import sys


def main() -> None:
    import tkinter as tk

    from .app import App

    # Every window and dialog names its parent: a forgotten one raises here
    # instead of opening a stray empty "tk" window (the original's defect).
    tk.NoDefaultRoot()
    try:
        root = tk.Tk(className="lanchat")
    except tk.TclError as exc:
        print(f"chat-gui: cannot open a window: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    App(root)
    root.mainloop()


__all__ = ["main"]
