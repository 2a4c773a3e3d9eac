"""The forms for creating a room, joining one and inviting someone in.

Like ``dialogs.MessageDialog`` they are ordinary toplevels, never a nested
event loop: network events keep flowing while one is open, and a test finds
them (``open_forms``) and fills them as a user would. A form closes when it
is submitted; the server's answer (or refusal) is the application's to show.
"""

from __future__ import annotations

import gc
import tkinter as tk
from collections.abc import Callable, Sequence
from tkinter import ttk

from chatproto import RoomInfo, username_problem

from .dialogs import open_windows, place_over
from .i18n import _
from .safetext import clean
from .theme import fit_columns


class FormDialog(tk.Toplevel):
    """A titled form with a primary button and Cancel."""

    def __init__(self, parent: tk.Misc, title: str, action: str) -> None:
        super().__init__(parent)
        self.title(title)
        self.transient(parent.winfo_toplevel())
        self.resizable(False, False)
        self.body = ttk.Frame(self, padding=16)
        self.body.pack(fill="both", expand=True)
        self.problem = ttk.Label(self.body, text="", foreground="#b00020", wraplength=320)
        row = ttk.Frame(self, padding=(16, 0, 16, 16))
        row.pack(anchor="e")
        self.ok_button = ttk.Button(row, text=action, command=self.submit)
        self.cancel_button = ttk.Button(row, text=_("Cancel"), command=self.destroy)
        self.ok_button.pack(side="left", padx=(8, 0))
        self.cancel_button.pack(side="left", padx=(8, 0))
        self.bind("<Return>", lambda _e: self.submit())
        self.bind("<Escape>", lambda _e: self.destroy())

    def destroy(self) -> None:
        super().destroy()
        # Free the form's Tk variables now, on the Tk thread: left to the
        # cyclic collector they may be freed on the session's thread, which
        # must not call into Tcl (see app._collect_tk_garbage).
        gc.collect()

    def center(self, parent: tk.Misc) -> None:
        place_over(self, parent)

    def show_problem(self, text: str) -> None:
        self.problem.configure(text=text)
        self.problem.grid(row=90, column=0, columnspan=2, sticky="w", pady=(8, 0))

    def submit(self) -> None:
        raise NotImplementedError


def room_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a room's (room names follow the ID rules)."""
    if not name:
        return _("Type the room's name.")
    if username_problem(name) is not None:
        return _("A room name may contain only letters, digits, '_' and '-' (at most 32); "
                 "accents are fine, mixing alphabets is not.")
    return None


class CreateRoomDialog(FormDialog):
    def __init__(self, parent: tk.Misc, on_create: Callable[[str, bool], None]) -> None:
        super().__init__(parent, _("New room"), _("Create"))
        self.on_create = on_create
        ttk.Label(self.body, text=_("Room name:")).grid(row=0, column=0, sticky="w")
        self.name = tk.StringVar(self)
        self.entry = ttk.Entry(self.body, textvariable=self.name, width=28)
        self.entry.grid(row=0, column=1, sticky="ew", padx=(6, 0))
        self.private = tk.BooleanVar(self, value=False)
        self.private_box = ttk.Checkbutton(
            self.body, variable=self.private,
            text=_("Private: only members see it; they invite others"))
        self.private_box.grid(row=1, column=0, columnspan=2, sticky="w", pady=(8, 0))
        self.center(parent)
        self.entry.focus_set()

    def submit(self) -> None:
        name = self.name.get().strip()
        problem = room_name_problem(name)
        if problem:
            self.show_problem(problem)
            return
        self.destroy()
        self.on_create(name, self.private.get())


class JoinRoomDialog(FormDialog):
    """The public rooms the user is not in yet, with their member counts;
    filled in when the server's list arrives (``show_rooms``)."""

    def __init__(self, parent: tk.Misc, on_join: Callable[[str], None]) -> None:
        super().__init__(parent, _("Join a room"), _("Join"))
        self.on_join = on_join
        self.status = ttk.Label(self.body, text=_("Asking the server for its rooms\u2026"))
        self.status.grid(row=0, column=0, sticky="w", pady=(0, 6))
        self.tree = ttk.Treeview(self.body, columns=("members",), show="tree headings",
                                 selectmode="browse", height=8)
        self.tree.heading("#0", text=_("Room"))
        self.tree.heading("members", text=_("Members"))
        self.tree.column("members", width=70, stretch=False, anchor="e")
        self.tree.grid(row=1, column=0, sticky="nsew")
        self.tree.bind("<Double-1>", lambda _e: self.submit())
        self.ok_button.state(["disabled"])
        self.center(parent)

    def show_rooms(self, rooms: Sequence[RoomInfo]) -> None:
        joinable = sorted((r for r in rooms if not r.member), key=lambda r: r.name.casefold())
        self.tree.delete(*self.tree.get_children())
        for info in joinable:
            self.tree.insert("", "end", iid=info.name,
                             text="# " + clean(info.name, single_line=True),
                             values=(str(info.member_count),))
        fit_columns(self.tree)
        if joinable:
            self.status.configure(text=_("Choose a room to join:"))
            self.tree.selection_set(joinable[0].name)
            self.tree.focus_set()
            self.ok_button.state(["!disabled"])
        else:
            self.status.configure(text=_("There is no other public room yet."))

    def show_failure(self, text: str) -> None:
        self.status.configure(text=text)

    def room_names(self) -> list[str]:
        return [str(key) for key in self.tree.get_children()]

    def submit(self) -> None:
        selection = self.tree.selection()
        if not selection:
            return
        self.destroy()
        self.on_join(str(selection[0]))


class InviteDialog(FormDialog):
    """Invite a user into ``room``: an invite makes them a member at once."""

    def __init__(self, parent: tk.Misc, room: str, people: Sequence[str],
                 on_invite: Callable[[str, str], None]) -> None:
        shown = clean(room, single_line=True)
        super().__init__(parent, _("Invite into #{room}").format(room=shown), _("Invite"))
        self.room = room
        self.on_invite = on_invite
        ttk.Label(self.body, text=_("ID:")).grid(row=0, column=0, sticky="w")
        self.user = ttk.Combobox(self.body, values=list(people), width=24)
        self.user.grid(row=0, column=1, sticky="ew", padx=(6, 0))
        ttk.Label(self.body, wraplength=320, justify="left",
                  text=_("They become a member of #{room} at once.").format(room=shown)).grid(
            row=1, column=0, columnspan=2, sticky="w", pady=(8, 0))
        self.center(parent)
        self.user.focus_set()

    def submit(self) -> None:
        user = self.user.get().strip()
        if not user:
            self.show_problem(_("Type the ID of the person to invite."))
            return
        self.destroy()
        self.on_invite(self.room, user)


def open_forms(root: tk.Misc) -> list[FormDialog]:
    """The forms currently open under ``root``, oldest first."""
    return open_windows(root, FormDialog)
