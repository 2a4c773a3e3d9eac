"""Asking for the user's attention: the unread count, the bell, and the
urgency hint of a window on X11.

Tk 8.6 offers no urgency on X11 (``wm attributes`` knows ``-topmost``,
``-zoomed``, ``-fullscreen``, ``-alpha`` and ``-type``), yet that is what
desktops show as a flashing task bar entry. So the ICCCM urgency bit is set
in the window's ``WM_HINTS`` with Xlib itself, through ctypes, on a short
connection of our own. The hints belong to Tk's wrapper window, the parent
of the toplevel's own window (the one the window manager manages), whatever
the window manager reparents it into.

Where that is not possible (Windows, macOS, no libX11) the callers still
have the bell: ``set_urgent`` just says it could not.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import tkinter as tk
from collections.abc import Callable

#: ``XUrgencyHint`` in Xutil.h.
URGENCY_HINT = 1 << 8

_Display = ctypes.c_void_p
_Window = ctypes.c_ulong


class _WMHints(ctypes.Structure):
    # Xutil.h's XWMHints: Bool is an int, XID and Pixmap an unsigned long.
    _fields_ = [
        ("flags", ctypes.c_long),
        ("input", ctypes.c_int),
        ("initial_state", ctypes.c_int),
        ("icon_pixmap", ctypes.c_ulong),
        ("icon_window", ctypes.c_ulong),
        ("icon_x", ctypes.c_int),
        ("icon_y", ctypes.c_int),
        ("icon_mask", ctypes.c_ulong),
        ("window_group", ctypes.c_ulong),
    ]


_HintsPointer = ctypes.POINTER(_WMHints)


@functools.cache
def _xlib() -> ctypes.CDLL | None:
    """libX11 with the prototypes we call, or None where there is none."""
    for name in (ctypes.util.find_library("X11"), "libX11.so.6"):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        lib.XOpenDisplay.restype = _Display
        lib.XCloseDisplay.argtypes = [_Display]
        lib.XQueryTree.argtypes = [
            _Display, _Window, ctypes.POINTER(_Window), ctypes.POINTER(_Window),
            ctypes.POINTER(ctypes.POINTER(_Window)), ctypes.POINTER(ctypes.c_uint),
        ]
        lib.XQueryTree.restype = ctypes.c_int
        lib.XFree.argtypes = [ctypes.c_void_p]
        lib.XGetWMHints.argtypes = [_Display, _Window]
        lib.XGetWMHints.restype = _HintsPointer
        lib.XAllocWMHints.argtypes = []
        lib.XAllocWMHints.restype = _HintsPointer
        lib.XSetWMHints.argtypes = [_Display, _Window, _HintsPointer]
        lib.XFlush.argtypes = [_Display]
        return lib
    return None


def _wrapper(lib: ctypes.CDLL, display: int, window: int) -> int | None:
    root, parent = _Window(), _Window()
    children = ctypes.POINTER(_Window)()
    count = ctypes.c_uint()
    if not lib.XQueryTree(display, window, ctypes.byref(root), ctypes.byref(parent),
                          ctypes.byref(children), ctypes.byref(count)):
        return None
    if children:
        lib.XFree(children)
    # A toplevel's own window sits in Tk's wrapper; if it sits right in the
    # root window, there is no wrapper and it is the managed one itself.
    return window if parent.value in (0, root.value) else int(parent.value)


def set_urgent(window: tk.Misc, urgent: bool) -> bool:
    """Set or clear the urgency hint of ``window``'s toplevel; False where
    this windowing system or machine cannot."""
    top = window.winfo_toplevel()
    if str(top.tk.call("tk", "windowingsystem")) != "x11":
        return False
    lib = _xlib()
    if lib is None:
        return False
    top.update_idletasks()  # the wrapper exists once the window is made
    display = lib.XOpenDisplay(top.winfo_screen().encode())
    if not display:
        return False
    try:
        managed = _wrapper(lib, display, top.winfo_id())
        if managed is None:
            return False
        hints = lib.XGetWMHints(display, managed) or lib.XAllocWMHints()
        if not hints:
            return False
        try:
            # Tk's own hints (input, initial state) stay as they are.
            if urgent:
                hints.contents.flags |= URGENCY_HINT
            else:
                hints.contents.flags &= ~URGENCY_HINT
            lib.XSetWMHints(display, managed, hints)
            lib.XFlush(display)
        finally:
            lib.XFree(hints)
        return True
    finally:
        lib.XCloseDisplay(display)


class Notifier:
    """The unread count in the title, the bell and the urgency hint.

    A message counts when it arrives while no window of ours has the focus;
    the focus coming back (to any of our windows) clears the count and the
    hint. ``enabled`` is read at every arrival: the setting may change."""

    def __init__(self, root: tk.Tk, enabled: Callable[[], bool]) -> None:
        self.root = root
        self.enabled = enabled
        self.unread = 0
        self.urgent = False
        self.name = ""
        self._bell_due = ""
        root.bind_all("<FocusIn>", lambda _e: self.seen(), add="+")

    def has_focus(self) -> bool:
        # ``focus`` names our focus window only while this application has
        # the display's focus; empty while another program has it.
        return bool(str(self.root.tk.call("focus")))

    def set_name(self, name: str) -> None:
        """What the title says besides the count (the user's ID)."""
        self.name = name
        self._show()

    def arrived(self) -> None:
        """A message or file from someone else, shown just now."""
        if self.has_focus():
            return
        self.unread += 1
        self._show()
        if not self.enabled():
            return
        if not self._bell_due:
            # One ring for a whole batch (a replay after a reconnect), not one each.
            self._bell_due = self.root.after_idle(self._ring)
        if not self.urgent:
            self.urgent = True
            set_urgent(self.root, True)

    def _ring(self) -> None:
        self._bell_due = ""
        with contextlib.suppress(tk.TclError):  # the window closed meanwhile
            self.root.bell()

    def seen(self) -> None:
        if self.unread:
            self.unread = 0
            self._show()
        self.quiet()

    def quiet(self) -> None:
        """Take the urgency hint back (the user is here, or turned it off)."""
        if self.urgent:
            self.urgent = False
            set_urgent(self.root, False)

    def _show(self) -> None:
        if self.name:
            self.root.title(f"({self.unread}) {self.name}" if self.unread else self.name)
