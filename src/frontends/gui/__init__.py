"""chat-gui: the Tkinter desktop client, a thin layer over the client session."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tkinter as tk

    from .app import App

#: What ends a desktop session (logout, shutdown, a closed terminal, Ctrl-C):
#: each is a normal leave, with a goodbye, as closing the window is.
LEAVE_SIGNALS = ("SIGTERM", "SIGHUP", "SIGINT")
#: How often the Tk loop looks for a signal that arrived: a Python signal
#: handler must not touch Tk, so it only raises a flag read here.
SIGNAL_TICK_MS = 100

TK_MISSING = ("chat-gui: Python's Tkinter is not installed: install the python3-tk package "
              "(Debian/Ubuntu: sudo apt install python3-tk; Fedora: python3-tkinter)")

DESCRIPTION = "The LAN chat desktop client: a window that logs in to a chat-server."
EPILOG = """\
The login window asks for the server, port, ID and password and remembers all
but the password. Environment: CHAT_CONFIG_DIR, the folder of the settings and
of the pinned server certificates (default ~/.config/lanchat); LANGUAGE or LANG,
the language (ko for Korean, which needs a CJK font such as fonts-nanum);
CHAT_OPEN_COMMAND, the program that opens the download folder. SIGTERM, SIGHUP
and Ctrl-C leave the chat with a goodbye, as closing the window does.
"""


def _parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(prog="chat-gui", description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def _is_tkinter(error: ImportError) -> bool:
    name = error.name or ""
    return name in ("tkinter", "_tkinter") or name.startswith("tkinter.")


def main(argv: Sequence[str] | None = None) -> None:
    # Parsed before Tk is imported: --help needs neither Tkinter nor a display.
    _parser().parse_args(argv)
    try:
        import tkinter as tk

        from .app import App
    except ImportError as exc:
        if not _is_tkinter(exc):
            raise
        print(TK_MISSING, file=sys.stderr)
        raise SystemExit(1) from None

    # Every window and dialog names its parent: a forgotten one raises here
    # instead of opening a stray empty "tk" window (the original's defect).
    tk.NoDefaultRoot()
    try:
        root = tk.Tk(className="lanchat")
    except tk.TclError as exc:
        print(f"chat-gui: cannot open a window: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    app = App(root)
    _leave_on_signals(root, app)
    root.mainloop()


def _leave_on_signals(root: tk.Tk, app: App) -> None:
    """SIGTERM and its kin quit the app as its window's close button does."""
    received: list[int] = []

    def note(signum: int, _frame: object) -> None:
        received.append(signum)

    for name in LEAVE_SIGNALS:
        signum = getattr(signal, name, None)
        if signum is not None:
            signal.signal(signum, note)

    def tick() -> None:
        if app.destroyed:
            return
        if received:
            app.quit()  # says goodbye, then destroys the window; a second signal waits
        root.after(SIGNAL_TICK_MS, tick)

    root.after(SIGNAL_TICK_MS, tick)


__all__ = ["LEAVE_SIGNALS", "TK_MISSING", "main"]
