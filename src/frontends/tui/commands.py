"""What a line typed into the input means: a message, or one of the commands.

Pure parsing, no I/O: ``parse(text)`` returns one of the small classes below.
A line that starts with ``/`` is a command; ``//`` sends the rest with one
``/`` (to say ``/quit`` without quitting). ``/rooms``, ``/join``, ``/create``
and ``/leave`` parse into ``RoomCommand``, which the app sends to the server as
the protocol's room requests (``outgoing.room_command``).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import attrs

from chatproto.limits import username_problem
from chatproto.targets import is_general

from ..text import escape
from .i18n import _


@attrs.frozen
class Say:
    """Send ``text`` to the recipient chosen in *To:*."""

    text: str


@attrs.frozen
class DirectMessage:
    """``/msg USER TEXT``: send ``text`` to ``user`` only."""

    user: str
    text: str


@attrs.frozen
class SetRecipient:
    """``/to USER`` (``None``: ``/to`` or ``/to *``, everyone)."""

    user: str | None


@attrs.frozen
class SendFile:
    """``/send PATH``: upload to the recipient chosen in *To:*."""

    path: Path


@attrs.frozen
class Quit:
    """``/quit``: leave with a goodbye."""


@attrs.frozen
class Help:
    """``/help``: list the commands."""


@attrs.frozen
class RoomCommand:
    """``/join ROOM``, ``/leave [ROOM]``, ``/rooms``, ``/create ROOM [private]``."""

    verb: str
    room: str | None
    private: bool = False


@attrs.frozen
class Problem:
    """A line that cannot be carried out; ``message`` says why (safe to show)."""

    message: str


Command = Say | DirectMessage | SetRecipient | SendFile | Quit | Help | RoomCommand | Problem

#: The commands, for ``/help`` and the docs.
USAGE = ("/msg USER TEXT", "/to USER", "/to #ROOM", "/to *", "/send PATH", "/rooms",
         "/join ROOM", "/create ROOM [private]", "/leave [ROOM]", "/help", "/quit")
ROOM_VERBS = frozenset({"join", "leave", "rooms", "create"})


def _split_first(rest: str) -> tuple[str, str]:
    """The first word of ``rest`` and what follows it (newlines kept)."""
    rest = rest.lstrip()
    for index, ch in enumerate(rest):
        if ch.isspace():
            return rest[:index], rest[index + 1:]
    return rest, ""


def _usage(usage: str) -> Problem:
    return Problem(_("Usage: {usage}").format(usage=usage))


def _bad_name(user: str) -> Problem | None:
    problem = username_problem(user)
    if problem is None:
        return None
    return Problem(_("{user} cannot be a user ID: {reason}").format(user=escape(user),
                                                                   reason=problem))


def _path(argument: str) -> Path | Problem:
    argument = argument.strip()
    if not argument:
        return _usage("/send PATH")
    if argument[0] in "'\"":
        try:
            words = shlex.split(argument)
        except ValueError:
            words = []
        if len(words) != 1:
            return _usage("/send PATH")
        argument = words[0]
    return Path(argument).expanduser()


def parse(line: str) -> Command | None:
    """The command ``line`` asks for; ``None`` for a blank line (nothing to do)."""
    if not line.strip():
        return None
    if not line.startswith("/"):
        return Say(line)
    if line.startswith("//"):
        return Say(line[1:])
    word, rest = _split_first(line[1:])
    verb = word.lower()
    if verb in ("msg", "m"):
        user, text = _split_first(rest)
        if not user or not text.strip():
            return _usage("/msg USER TEXT")
        return _bad_name(user) or DirectMessage(user, text)
    if verb == "to":
        user, extra = _split_first(rest)
        if extra.strip():
            return _usage("/to USER")
        if user in ("", "*"):
            return SetRecipient(None)
        if user.startswith("#"):
            room = user[1:]
            if is_general(room):
                return SetRecipient(None)
            return _bad_name(room) or SetRecipient(user)
        return _bad_name(user) or SetRecipient(user)
    if verb == "send":
        path = _path(rest)
        return path if isinstance(path, Problem) else SendFile(path)
    if verb in ("quit", "exit", "q"):
        return Quit()
    if verb in ("help", "?"):
        return Help()
    if verb in ROOM_VERBS:
        room, _extra = _split_first(rest)
        room = room.removeprefix("#")
        if verb in ("join", "create") and not room:
            return _usage(f"/{verb} ROOM")
        if room and verb != "rooms":
            problem = _bad_name(room)
            if problem is not None:
                return problem
        private = verb == "create" and _extra.strip().lower() in ("private", "--private")
        return RoomCommand(verb, room or None, private)
    return Problem(_("Unknown command: /{command}. /help lists the commands.").format(
        command=escape(word)))


__all__ = [
    "USAGE",
    "Command",
    "DirectMessage",
    "Help",
    "Problem",
    "Quit",
    "RoomCommand",
    "Say",
    "SendFile",
    "SetRecipient",
    "parse",
]
