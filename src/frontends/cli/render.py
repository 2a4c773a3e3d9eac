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

from chatproto import ChatMessage, Event, FileAvailable, Presence, participant_count_text

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
    if event.recipient is not None:
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


def human_file(event: FileAvailable, when: datetime, path: Path | None, note: str = "") -> str:
    direct = f" (direct to {escape(event.recipient)})" if event.recipient is not None else ""
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
            "to": event.recipient,
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
    if isinstance(event, FileAvailable):
        return {
            "type": "file",
            "seq": event.seq,
            "ts": ts,
            "from": event.sender,
            "to": event.recipient,
            "name": event.name,
            "size": event.size,
            "sha256": event.sha256.hex(),
            "path": str(path) if path is not None else None,
        }
    raise TypeError(f"no JSON form for {type(event).__name__}")


def connection_record(state: str, when: datetime, **details: Any) -> dict[str, Any]:
    """The listener's own notice that its connection was ``lost`` or ``restored``."""
    ts = when.astimezone().isoformat(timespec="milliseconds")
    return {"type": "connection", "seq": None, "ts": ts, "state": state, **details}


_JSON_UNSAFE = re.compile(r"[\u0080-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def json_line(record: dict[str, Any]) -> str:
    """One line of JSON; line separators and bidi controls are \\u-escaped
    (still the same JSON string) so they cannot split or reorder the line."""
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


__all__ = [
    "connection_record",
    "escape",
    "event_time",
    "human_chat",
    "human_file",
    "human_presence",
    "json_line",
    "json_record",
]
