"""Driving real chat-gui windows from a test, in this process.

Each ``GuiClient`` is the real ``App`` in its own Tk interpreter (its own
root window on the Xvfb display). The test thread is the Tk thread: it pumps
every live window with ``update()`` while it waits for a condition, so
after-callbacks, the session queue polling and redraws all run for real.
Input goes through the widgets (``event_generate`` of key presses, button
``invoke``), as a user's clicks and keys would.
"""

from __future__ import annotations

import gc
import json
import subprocess
import time
import tkinter as tk
from collections.abc import Callable
from pathlib import Path

import support
from frontends.gui.app import App
from frontends.gui.conversations import Conversation, direct, room
from frontends.gui.dialogs import MessageDialog
from frontends.gui.settings import SETTINGS_FILE

TIMEOUT = 15.0
_live: list[GuiClient] = []


def pump(timeout: float = 0.0) -> None:
    """Process pending events of every live window (for ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        for client in list(_live):
            client.update()
        if time.monotonic() >= deadline:
            return
        time.sleep(0.005)


def wait_until(condition: Callable[[], object], timeout: float = TIMEOUT, what: str = "") -> None:
    """Pump every window until ``condition()`` is true; fail after ``timeout``."""

    def pumped() -> bool:
        pump()
        return bool(condition())

    support.wait_until(pumped, timeout, what)


def xdotool(*args: str) -> list[str]:
    out = subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=10)
    return out.stdout.split("\n") if out.stdout else []


def visible_window_names() -> list[str]:
    """Titles of every mapped window on the display that has a title."""
    names = []
    for window in xdotool("search", "--onlyvisible", "--name", ""):
        if window.strip():
            names.extend(n for n in xdotool("getwindowname", window.strip()) if n)
    return names


class GuiClient:
    def __init__(self, config_dir: Path, downloads: Path) -> None:
        config_dir.mkdir(parents=True, exist_ok=True)
        downloads.mkdir(parents=True, exist_ok=True)
        settings = config_dir / SETTINGS_FILE
        if not settings.exists():
            settings.write_text(json.dumps({"download_dir": str(downloads)}), encoding="utf-8")
        self.config_dir = config_dir
        self.downloads = downloads
        self.root = tk.Tk()
        self.app = App(self.root, config_dir)
        self.alive = True
        _live.append(self)
        pump()

    def update(self) -> None:
        if self.alive:
            try:
                self.root.update()
            except tk.TclError:
                self._gone()

    def _gone(self) -> None:
        self.alive = False
        if self in _live:
            _live.remove(self)

    def exists(self) -> bool:
        if not self.alive:
            return False
        try:
            self.root.winfo_exists()
        except tk.TclError:
            self._gone()
        return self.alive

    # -- the login window -------------------------------------------------------

    def fill_login(self, host: str, port: int, user: str, password: str,
                   tls: bool = False) -> None:
        """Fill the form; test servers run without TLS unless a test says so."""
        view = self.app.login_view
        assert view is not None, "the login window is not shown"
        view.tls.set(tls)
        view.server.set(host)
        view.port.set(str(port))
        view.username.set(user)
        view.password.set(password)

    def press_enter(self, widget: tk.Misc) -> None:
        widget.focus_force()
        pump()
        widget.event_generate("<Return>")
        pump()

    def login(self, host: str, port: int, user: str, password: str = "pw") -> None:
        self.fill_login(host, port, user, password)
        assert self.app.login_view is not None
        self.press_enter(self.app.login_view.entries["password"])
        wait_until(lambda: self.app.chat_view is not None or self.dialogs(),
                   what=f"{user} to log in")
        assert self.app.chat_view is not None, [d.message for d in self.dialogs()]
        pump()

    def dialogs(self) -> list[MessageDialog]:
        return self.app.dialogs() if self.exists() else []

    # -- the chat window ----------------------------------------------------------

    @property
    def chat(self):  # type: ignore[no-untyped-def]
        view = self.app.chat_view
        assert view is not None, "the chat window is not shown"
        return view

    def transcript(self, conversation: str | None = None) -> str:
        """The transcript on screen, or that of ``conversation`` ("#dev" for
        a room, a user's name for a direct conversation), without showing it."""
        if conversation is None:
            return str(self.chat.transcript.content())
        found = self.chat.transcripts.get(named(conversation).key)
        return "" if found is None else str(found.content())

    def select(self, conversation: str) -> None:
        """Click ``conversation`` in the room list, as a user would."""
        key = named(conversation).key
        tree = self.chat.rooms.tree
        wait_until(lambda: tree.exists(key), what=f"{conversation} in the room list")
        tree.see(key)
        pump()
        x, y, width, height = tree.bbox(key)  # type: ignore[misc]
        tree.event_generate("<ButtonPress-1>", x=x + width // 2, y=y + height // 2)
        tree.event_generate("<ButtonRelease-1>", x=x + width // 2, y=y + height // 2)
        wait_until(lambda: self.chat.rooms.current.key == key, what=f"{conversation} shown")

    def type_message(self, text: str) -> None:
        self.chat.entry.delete("1.0", "end")
        self.chat.entry.insert("1.0", text)

    def say(self, text: str, to: str | None = None) -> None:
        """Type ``text`` and press Enter, as a user would."""
        self.chat.address_to(to)
        self.type_message(text)
        self.press_enter(self.chat.entry)

    def say_here(self, text: str) -> None:
        """Type ``text`` and press Enter in the conversation on screen."""
        self.type_message(text)
        self.press_enter(self.chat.entry)

    def wait_for_text(self, text: str, timeout: float = TIMEOUT,
                      conversation: str | None = None) -> None:
        wait_until(lambda: text in self.transcript(conversation), timeout,
                   what=f"{text!r} in the transcript of {self.root.title()!r}"
                        f" ({conversation or 'on screen'}):\n"
                        + self.transcript(conversation))

    def double_click(self, widget: tk.Misc, x: int, y: int) -> None:
        """Two clicks at (x, y) of ``widget``, close enough to be a double click."""
        for _ in range(2):
            widget.event_generate("<ButtonPress-1>", x=x, y=y)
            widget.event_generate("<ButtonRelease-1>", x=x, y=y)
        pump()

    def pick_participant(self, name: str) -> None:
        """Double-click ``name`` in the participant list."""
        tree = self.chat.participants.tree
        tree.see(name)
        pump()
        x, y, width, height = tree.bbox(name)  # type: ignore[misc]
        self.double_click(tree, x + width // 2, y + height // 2)

    def close_window(self) -> None:
        """What the window manager does when the user clicks the X."""
        self.root.tk.call(self.root.protocol("WM_DELETE_WINDOW"))

    def destroy(self) -> None:
        if self.exists():
            if not self.app.closing:
                self.close_window()
            wait_until(lambda: not self.exists(), what="the window to close")
        self._gone()
        # Free the Tk objects here, on the Tk thread (see app._collect_tk_garbage).
        gc.collect()


def named(conversation: str) -> Conversation:
    """``#dev`` is a room, anything else a user's direct conversation."""
    return room(conversation[1:]) if conversation.startswith("#") else direct(conversation)


def toplevels(root: tk.Misc) -> list[str]:
    """Path names of the mapped toplevel windows of ``root``'s interpreter
    (menus, which Tk also makes toplevels, count only while posted)."""
    found = [str(root)] if root.winfo_ismapped() else []
    pending = list(root.tk.splitlist(root.tk.call("winfo", "children", ".")))
    while pending:
        path = str(pending.pop(0))
        if root.tk.call("winfo", "toplevel", path) == path and root.tk.getboolean(
                root.tk.call("winfo", "ismapped", path)):
            found.append(path)
        pending.extend(root.tk.splitlist(root.tk.call("winfo", "children", path)))
    return found


FILE_DIALOG = ".__tk_filedialog"
CHOOSE_DIR_DIALOG = ".__tk_choosedir"


def answer_tk_dialog(client: GuiClient, dialog: str, path: Path | None,
                     open_it: Callable[[], object]) -> dict[str, object]:
    """Open one of Tk's file dialogs with ``open_it`` and answer it like a
    user: type ``path`` in its entry and press OK (``None``: press Cancel).

    The dialog runs a nested event loop until it is answered, so the answer
    comes from ``after`` callbacks; the first records what is on screen
    while the dialog is open. Whatever happens, the dialog is closed by the
    deadline, so a failing test fails instead of hanging."""
    seen: dict[str, object] = {}
    tcl = client.root.tk
    deadline = time.monotonic() + TIMEOUT

    def is_open() -> bool:
        return bool(tcl.getboolean(tcl.call("winfo", "exists", dialog))) and bool(
            tcl.getboolean(tcl.call("winfo", "ismapped", dialog)))

    def answer() -> None:
        if not is_open():
            if not seen and time.monotonic() < deadline:
                client.root.after(20, answer)
            return
        if time.monotonic() > deadline:
            tcl.call("destroy", dialog)
            return
        if not seen:
            seen["toplevels"] = toplevels(client.root)
            seen["transient_for"] = str(tcl.call("wm", "transient", dialog))
            seen["dialog_title"] = str(tcl.call("wm", "title", dialog))
            seen["windows"] = visible_window_names()
        if path is None:
            tcl.call(f"{dialog}.contents.f2.cancel", "invoke")
        else:
            # The directory chooser first enters a typed folder, then takes
            # it on the second OK, as it does for a user.
            tcl.call(f"{dialog}.contents.f2.ent", "delete", 0, "end")
            tcl.call(f"{dialog}.contents.f2.ent", "insert", 0, str(path))
            tcl.call(f"{dialog}.contents.f2.ok", "invoke")
        client.root.after(50, answer)

    client.root.after(20, answer)
    open_it()  # returns when the dialog has closed
    assert seen, f"the dialog {dialog} never appeared"
    return seen


def pick_file(client: GuiClient, path: Path | None) -> dict[str, object]:
    """Click File and answer the real file dialog with ``path`` (None: Cancel)."""
    return answer_tk_dialog(client, FILE_DIALOG, path, client.chat.file_button.invoke)
