"""One line (or one JSON object) per event, safe to put on a terminal.

Human output escapes control characters, ANSI escapes and bidi overrides
visibly and indents continuation lines, so no message can paint over the
screen or forge a line that looks like another user's.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chatproto import (
    ChatMessage,
    Event,
    FileAvailable,
    Membership,
    Presence,
    SearchHit,
    is_room_target,
    participant_count_text,
)

from ..text import escape  # shared with chat-tui; re-exported here
from ..units import human_size

TIME_PREFIX_WIDTH = len("[00:00:00] ")
_CONTINUATION = " " * TIME_PREFIX_WIDTH


def _clock(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M:%S")


def event_time(event: Event, now: datetime | None = None) -> datetime:
    if isinstance(event, ChatMessage | FileAvailable):
        return datetime.fromtimestamp(event.timestamp_ms / 1000, tz=UTC)
    return now or datetime.now(tz=UTC)


#: ``3 participants``, ``1 participant``: the phrase the server log uses too.
participant_count = participant_count_text


def _participants(count: int) -> str:
    return f"({participant_count(count)})"


def human_chat(event: ChatMessage, when: datetime) -> str:
    who = escape(event.sender)
    if is_room_target(event.recipient):
        head = f"[{_clock(when)}] #{escape(event.room or '')} <{who}>"
    elif event.recipient is not None:
        head = f"[{_clock(when)}] (direct) <{who} -> {escape(event.recipient)}>"
    else:
        head = f"[{_clock(when)}] <{who}>"
    lines = event.text.split("\n")
    body = [escape(line) for line in lines]
    return "\n".join([f"{head} {body[0]}", *(_CONTINUATION + line for line in body[1:])])


def human_presence(event: Presence, when: datetime) -> str:
    return (
        f"[{_clock(when)}] * {escape(event.user)} {event.state.value} "
        f"{_participants(event.participant_count)}"
    )


def member_count_text(count: int) -> str:
    """``1 member``, ``3 members``."""
    return "1 member" if count == 1 else f"{count} members"


def human_membership(event: Membership, when: datetime) -> str:
    return (
        f"[{_clock(when)}] #{escape(event.room)} * {escape(event.user)} {event.state.value} "
        f"({member_count_text(event.member_count)})"
    )


def human_file(event: FileAvailable, when: datetime, path: Path | None, note: str = "") -> str:
    if is_room_target(event.recipient):
        direct = f" (in #{escape(event.room or '')})"
    elif event.recipient is not None:
        direct = f" (direct to {escape(event.recipient)})"
    else:
        direct = ""
    where = f", saved as {escape(str(path))}" if path is not None else ""
    return (
        f"[{_clock(when)}] * {escape(event.sender)} sent the file {escape(event.name)} "
        f"({human_size(event.size)}){direct}{where}{note}"
    )


def json_record(event: Event, when: datetime, path: Path | None = None) -> dict[str, Any]:
    ts = when.astimezone().isoformat(timespec="milliseconds")
    if isinstance(event, ChatMessage):
        return {
            "type": "chat",
            "seq": event.seq,
            "ts": ts,
            "from": event.sender,
            "to": _user_of(event.recipient),
            "room": event.room,
            "text": event.text,
        }
    if isinstance(event, Presence):
        return {
            "type": "presence",
            "seq": None,
            "ts": ts,
            "user": event.user,
            "state": event.state.value,
            "participants": event.participant_count,
        }
    if isinstance(event, Membership):
        return {
            "type": "member",
            "seq": None,
            "ts": ts,
            "room": event.room,
            "user": event.user,
            "state": event.state.value,
            "members": event.member_count,
        }
    if isinstance(event, FileAvailable):
        return {
            "type": "file",
            "seq": event.seq,
            "ts": ts,
            "from": event.sender,
            "to": _user_of(event.recipient),
            "room": event.room,
            "name": event.name,
            "size": event.size,
            "sha256": event.sha256.hex(),
            "path": str(path) if path is not None else None,
        }
    raise TypeError(f"no JSON form for {type(event).__name__}")


def _user_of(recipient: str | None) -> str | None:
    # "to" stays what it always was, a user or null; the room has its own field.
    return None if is_room_target(recipient) else recipient


def _date_clock(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def hit_place(hit: SearchHit, me: str) -> str:
    """``#room`` for a room's message (``#general`` too), ``@user`` for a
    direct one: the other party of the conversation."""
    if hit.room is not None:
        return f"#{hit.room}"
    other = hit.recipient if hit.sender == me else hit.sender
    return f"@{other}"


def human_hit(hit: SearchHit, me: str) -> str:
    """One search result on one line: the text's line breaks are escaped."""
    when = datetime.fromtimestamp(hit.timestamp_ms / 1000, tz=UTC)
    return (
        f"[{_date_clock(when)}] {escape(hit_place(hit, me))} <{escape(hit.sender)}> "
        f"{escape(hit.text)}  (seq {hit.seq})"
    )


def hit_record(hit: SearchHit) -> dict[str, Any]:
    when = datetime.fromtimestamp(hit.timestamp_ms / 1000, tz=UTC)
    return {
        "seq": hit.seq,
        "ts": when.astimezone().isoformat(timespec="milliseconds"),
        "room": hit.room,
        "from": hit.sender,
        "to": _user_of(hit.recipient),
        "text": hit.text,
    }


def connection_record(state: str, when: datetime, **details: Any) -> dict[str, Any]:
    """The listener's own notice that its connection was ``lost`` or ``restored``."""
    ts = when.astimezone().isoformat(timespec="milliseconds")
    return {"type": "connection", "seq": None, "ts": ts, "state": state, **details}


_JSON_UNSAFE = re.compile(r"[\u0080-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def json_line(record: dict[str, Any] | list[dict[str, Any]]) -> str:
    """One line of JSON; line separators and bidi controls are \\u-escaped
    (still the same JSON string) so they cannot split or reorder the line."""
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


__all__ = [
    "connection_record",
    "escape",
    "event_time",
    "hit_place",
    "hit_record",
    "human_chat",
    "human_file",
    "human_hit",
    "human_membership",
    "human_presence",
    "json_line",
    "json_record",
]
