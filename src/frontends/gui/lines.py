"""What the transcript shows for each event, as (text, tags) segments.

Pure functions, no Tk: the transcript widget only inserts the segments.
Every peer-chosen string goes through ``safetext.clean``; continuation lines
of a message are indented under a bar, so a message can never produce a line
that looks like the start of another user's message.
"""

from __future__ import annotations

import time
from pathlib import Path

from chatproto import (
    ChatMessage,
    FileAvailable,
    Membership,
    MembershipState,
    Presence,
    PresenceState,
    is_room_target,
)

from ..units import human_size
from .i18n import _, ngettext
from .safetext import clean

Segment = tuple[str, tuple[str, ...]]
CONTINUATION = "    \u2502 "


def clock(timestamp_ms: int | None = None) -> str:
    seconds = time.time() if timestamp_ms is None else timestamp_ms / 1000
    return time.strftime("%H:%M", time.localtime(seconds))


def _body(text: str, tags: tuple[str, ...]) -> list[Segment]:
    first, *rest = clean(text).split("\n")
    segments: list[Segment] = [(first, (*tags, "body"))]
    for line in rest:
        segments.append(("\n" + CONTINUATION, (*tags, "continuation")))
        segments.append((line, (*tags, "body")))
    return segments


def _line_tags(sender: str, recipient: str | None, me: str) -> tuple[str, ...]:
    tags: list[str] = []
    if sender == me:
        tags.append("own")
    if recipient is not None and not is_room_target(recipient):
        tags.append("direct")
    return tuple(tags)


def _who(sender: str, recipient: str | None) -> str:
    name = clean(sender, single_line=True)
    if recipient is None or is_room_target(recipient):
        return name  # shown in the room's own transcript
    return _("{sender} \u2192 {recipient} (direct)").format(
        sender=name, recipient=clean(recipient, single_line=True)
    )


def chat_line(message: ChatMessage, me: str) -> list[Segment]:
    tags = _line_tags(message.sender, message.recipient, me)
    return [
        (f"[{clock(message.timestamp_ms)}] ", (*tags, "time")),
        (_who(message.sender, message.recipient) + ": ", (*tags, "sender")),
        *_body(message.text, tags),
    ]


def size_text(size: int) -> str:
    """``17 bytes`` in the window's language; KiB, MiB, GiB are the same in all."""
    if size < 1024:
        return ngettext("{count} byte", "{count} bytes", size).format(count=size)
    return human_size(size)


def shown_path(path: Path) -> str:
    """``path`` as the user thinks of it: ``~/Downloads/x`` under their home."""
    try:
        return str(Path("~") / path.relative_to(Path.home()))
    except (ValueError, RuntimeError):  # not under home, or no home at all
        return str(path)


def file_line(file: FileAvailable, me: str) -> list[Segment]:
    tags = (*_line_tags(file.sender, file.recipient, me), "file")
    text = _("sent the file {name} ({size})").format(
        name=clean(file.name, single_line=True), size=size_text(file.size)
    )
    return [
        (f"[{clock(file.timestamp_ms)}] ", (*tags, "time")),
        (_who(file.sender, file.recipient) + ": ", (*tags, "sender")),
        (text, (*tags, "body")),
    ]


def _presence_text(state: PresenceState, user: str) -> str:
    if state is PresenceState.JOINED:
        return _("{user} has entered").format(user=user)
    if state is PresenceState.LEFT:
        return _("{user} has left").format(user=user)
    if state is PresenceState.DEACTIVATED:
        return _("{user} was deactivated").format(user=user)
    if state is PresenceState.REJOINED:
        return _("{user} has re-entered").format(user=user)
    return f"{user}: {clean(str(state), single_line=True)}"


def participants_text(count: int) -> str:
    return ngettext("{count} participant", "{count} participants", count).format(count=count)


def presence_line(presence: Presence) -> list[Segment]:
    text = _presence_text(presence.state, clean(presence.user, single_line=True))
    tag = "deactivated" if presence.state is PresenceState.DEACTIVATED else "presence"
    return [
        (f"[{clock()}] ", ("presence", "time")),
        (f"*** {text} ({participants_text(presence.participant_count)})", ("presence", tag)),
    ]


def members_text(count: int) -> str:
    return ngettext("{count} member", "{count} members", count).format(count=count)


def membership_line(event: Membership) -> list[Segment]:
    user = clean(event.user, single_line=True)
    room = clean(event.room, single_line=True)
    if event.state is MembershipState.JOINED:
        text = _("{user} joined #{room}").format(user=user, room=room)
    else:
        text = _("{user} left #{room}").format(user=user, room=room)
    return [(f"[{clock()}] ", ("presence", "time")),
            (f"*** {text} ({members_text(event.member_count)})", ("presence",))]


def notice_line(text: str, tag: str = "notice") -> list[Segment]:
    return [(f"[{clock()}] ", (tag, "time")), (f"*** {text}", (tag,))]
