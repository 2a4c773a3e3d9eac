"""What the transcript shows for each event: Rich renderables, no widgets.

Every entry is a grid: the time in its own column, then the sender, then
the text. Continuation lines of a message and lines wrapped by the terminal
stay inside the text column, so no message can produce a line that starts
where the time of a real one does. Every string a peer chose goes through
``frontends.text.escape`` (visible marks for escapes and control
characters, as in chat-cli), and into ``rich.text.Text`` objects only:
nothing is ever read as markup.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from chatproto import (
    ChatMessage,
    FileAvailable,
    Membership,
    MembershipState,
    Presence,
    PresenceState,
    is_room_target,
)

from ..text import escape
from ..units import human_size
from .i18n import _, participants_text

#: ``timestamp_ms`` (or None: now) -> ``HH:MM``. Tests pass a fixed one.
Clock = Callable[[int | None], str]

#: The sender column never takes more than this; a longer name folds.
SENDER_MAX_CELLS = 16

TIME_STYLE = "dim"
OWN_STYLE = "bold green"
SENDER_STYLE = "bold"
DIRECT_STYLE = "magenta"
PRESENCE_STYLE = "grey62"
DEACTIVATED_STYLE = "dark_orange"
NOTICE_STYLE = "yellow"
ERROR_STYLE = "bold red"
GOOD_STYLE = "green"

_KIND_STYLES = {"notice": NOTICE_STYLE, "error": ERROR_STYLE, "good": GOOD_STYLE,
                "presence": PRESENCE_STYLE}


def local_clock(timestamp_ms: int | None = None) -> str:
    seconds = time.time() if timestamp_ms is None else timestamp_ms / 1000
    return time.strftime("%H:%M", time.localtime(seconds))


def name(text: str) -> str:
    """A user or file name on one line, with visible marks."""
    return escape(text)


def body(text: str) -> Text:
    """A message's text: its own line breaks kept, everything else marked."""
    return Text("\n".join(escape(line) for line in text.split("\n")))


def _grid(when: str, who: Text | None, what: Text, style: str = "") -> Table:
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(no_wrap=True, width=5)
    if who is not None:
        table.add_column(max_width=SENDER_MAX_CELLS, overflow="fold")
    table.add_column(ratio=1, overflow="fold")
    cells = [Text(when, style=TIME_STYLE), *((who,) if who is not None else ()), what]
    table.add_row(*cells, style=style)
    return table


def _who(sender: str, recipient: str | None, me: str) -> Text:
    if recipient is None:
        label = name(sender)
    elif is_room_target(recipient):
        label = _("{room} {sender}").format(room=name(recipient), sender=name(sender))
    else:
        label = _("{sender} \u2192 {recipient} (direct)").format(
            sender=name(sender), recipient=name(recipient))
    return Text(label + ":", style=OWN_STYLE if sender == me else SENDER_STYLE)


def _line_style(recipient: str | None) -> str:
    return DIRECT_STYLE if recipient is not None and not is_room_target(recipient) else ""


def chat_entry(message: ChatMessage, me: str, clock: Clock = local_clock) -> RenderableType:
    return _grid(clock(message.timestamp_ms), _who(message.sender, message.recipient, me),
                 body(message.text), _line_style(message.recipient))


def file_entry(file: FileAvailable, me: str, clock: Clock = local_clock) -> RenderableType:
    text = _("sent the file {name} ({size})").format(name=name(file.name),
                                                     size=human_size(file.size))
    return _grid(clock(file.timestamp_ms), _who(file.sender, file.recipient, me),
                 Text(text, style="italic"), _line_style(file.recipient))


def presence_text(state: PresenceState, user: str) -> str:
    """The GUI's phrases (the original's, in Korean); ``user`` already marked."""
    if state is PresenceState.JOINED:
        return _("{user} has entered").format(user=user)
    if state is PresenceState.LEFT:
        return _("{user} has left").format(user=user)
    if state is PresenceState.DEACTIVATED:
        return _("{user} was deactivated").format(user=user)
    if state is PresenceState.REJOINED:
        return _("{user} has re-entered").format(user=user)
    return f"{user}: {escape(str(state))}"


def presence_entry(presence: Presence, clock: Clock = local_clock) -> RenderableType:
    text = presence_text(presence.state, name(presence.user))
    style = DEACTIVATED_STYLE if presence.state is PresenceState.DEACTIVATED else PRESENCE_STYLE
    return _grid(clock(None), None,
                 Text(f"*** {text} ({participants_text(presence.participant_count)})"), style)


def membership_text(event: Membership) -> str:
    """A room's member coming or going: a notice, not a line of its own."""
    text = (_("{user} joined #{room} ({count} members)")
            if event.state is MembershipState.JOINED
            else _("{user} left #{room} ({count} members)"))
    return text.format(user=name(event.user), room=name(event.room), count=event.member_count)


def notice_entry(text: str, kind: str = "notice", clock: Clock = local_clock) -> RenderableType:
    """One of our own lines (``text`` already safe): ``notice``, ``error``,
    ``good`` or ``presence``."""
    return _grid(clock(None), None, Text(f"*** {text}"), _KIND_STYLES.get(kind, NOTICE_STYLE))


def shown_path(path: Path) -> str:
    """``path`` as the user thinks of it (``~/Downloads/x``), marked."""
    try:
        return escape(str(Path("~") / path.relative_to(Path.home())))
    except (ValueError, RuntimeError):  # not under home, or no home at all
        return escape(str(path))


__all__ = [
    "Clock",
    "body",
    "chat_entry",
    "file_entry",
    "local_clock",
    "membership_text",
    "name",
    "notice_entry",
    "presence_entry",
    "presence_text",
    "shown_path",
]
