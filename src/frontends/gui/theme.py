"""The window's looks: the Sun Valley ttk theme (sv-ttk), light or dark.

The ``theme`` setting is ``system`` (the default: dark when the desktop
prefers dark), ``light``, ``dark`` or ``classic`` (Tk's own theme, without
sv-ttk). Linux has no single answer to "does the user prefer dark?": we ask
``GTK_THEME`` first (``Adwaita:dark``; set by users and by some desktops),
then GNOME's ``color-scheme`` (and, for older desktops, the ``gtk-theme``
name) through ``gsettings`` when it is installed, else light.

Widgets that ttk does not draw (the transcript's Text and its tags) take
their colours from ``palette``, which follows the theme in use.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tkinter as tk
from collections.abc import Mapping
from tkinter import font as tkfont
from tkinter import ttk

THEMES = ("system", "light", "dark", "classic")
_DARK_TTK_THEME = "sun-valley-dark"
#: A desktop that does not answer at once is taken as not preferring dark.
_GSETTINGS_TIMEOUT = 2.0
#: Pixels around a tree cell's text, and before the text of the tree column.
_CELL_PADDING = 16
_TREE_INDENT = 20
#: Pixels between a wrapped label and the widget beside it.
_WRAP_GAP = 12


@dataclasses.dataclass(frozen=True)
class Palette:
    base: str
    text: str
    time: str
    sender: str
    own: str
    direct: str
    continuation: str
    presence: str
    deactivated: str
    file: str
    notice: str


LIGHT = Palette(base="#ffffff", text="#1c1c1c", time="#6f6f6f", sender="#1f4e99",
                own="#e3f1e3", direct="#7b2a8c", continuation="#8a8a8a",
                presence="#5a5a5a", deactivated="#a0522d", file="#005f5f", notice="#b00020")
DARK = Palette(base="#1c1c1c", text="#f0f0f0", time="#9a9a9a", sender="#8ab4f8",
               own="#233b28", direct="#d7a6e6", continuation="#7d7d7d",
               presence="#b0b0b0", deactivated="#e0a070", file="#5fc8c8", notice="#ff7a8a")


def system_prefers_dark(environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    gtk_theme = environ.get("GTK_THEME", "")
    if gtk_theme:
        return "dark" in gtk_theme.lower()
    gsettings = shutil.which("gsettings", path=environ.get("PATH"))
    if gsettings is None:
        return False
    scheme = _gsetting(gsettings, "color-scheme")
    if scheme is not None:
        return "dark" in scheme
    name = _gsetting(gsettings, "gtk-theme")
    return name is not None and "dark" in name.lower()


def _gsetting(gsettings: str, key: str) -> str | None:
    """A key of ``org.gnome.desktop.interface``; None when it has none."""
    try:
        done = subprocess.run(
            [gsettings, "get", "org.gnome.desktop.interface", key],
            capture_output=True, text=True, timeout=_GSETTINGS_TIMEOUT, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def resolve(setting: str, environ: Mapping[str, str] | None = None) -> str:
    """``light``, ``dark`` or ``classic`` for a setting (unknown: ``system``)."""
    if setting in ("light", "dark", "classic"):
        return setting
    return "dark" if system_prefers_dark(environ) else "light"


def apply(root: tk.Tk, setting: str) -> str:
    """Put the theme ``setting`` asks for on ``root``; returns the one used."""
    chosen = resolve(setting)
    if chosen == "classic":
        return chosen
    try:
        import sv_ttk
    except ImportError:  # a source checkout without its dependencies: still usable
        return "classic"
    sv_ttk.set_theme(chosen, root)
    return chosen


def palette(widget: tk.Misc) -> Palette:
    """The transcript's colours for the theme ``widget`` is drawn with."""
    return DARK if ttk.Style(widget).theme_use() == _DARK_TTK_THEME else LIGHT


def fit_columns(tree: ttk.Treeview, cap: int = 260) -> None:
    """Make every column of ``tree`` as wide as its widest cell or heading
    (at most ``cap`` pixels), in the fonts the rows are drawn with: the
    tree then asks for the room its names need, and a small window does
    not clip them while there is room to give."""
    style = ttk.Style(tree)
    row_font = tkfont.Font(root=tree, font=style.lookup("Treeview", "font") or "TkDefaultFont")
    heading_font = tkfont.Font(
        root=tree, font=style.lookup("Treeview.Heading", "font") or "TkHeadingFont")
    fonts: dict[str, tkfont.Font] = {}
    columns = ["#0", *tree["columns"]]
    widths = {c: heading_font.measure(str(tree.heading(c, "text"))) + _CELL_PADDING
              for c in columns}
    for item in tree.get_children():
        font = row_font
        for tag in tree.item(item, "tags"):
            tag_font = str(tree.tag_configure(tag, "font") or "")
            if tag_font:
                font = fonts.setdefault(tag_font, tkfont.Font(root=tree, font=tag_font))
        cells = [str(tree.item(item, "text")), *map(str, tree.item(item, "values"))]
        for column, cell in zip(columns, cells, strict=False):
            # The tree column also holds the indent where a child's mark would be.
            extra = _TREE_INDENT if column == "#0" else 0
            widths[column] = max(widths[column], font.measure(cell) + _CELL_PADDING + extra)
    for column, width in widths.items():
        tree.column(column, width=min(width, cap), minwidth=min(width, cap))


def wrap_beside(label: ttk.Label, container: tk.Misc, beside: tk.Misc | None = None) -> None:
    """Wrap ``label``'s text to the width ``container`` leaves it (less what
    ``beside`` takes), so a long message shows whole, on several lines,
    instead of being cut at the window's edge."""

    def rewrap(_event: object = None) -> None:
        taken = beside.winfo_reqwidth() + _WRAP_GAP if beside is not None else 0
        label.configure(wraplength=max(container.winfo_width() - taken, 100))

    label.configure(justify="left")
    container.bind("<Configure>", rewrap, add="+")
