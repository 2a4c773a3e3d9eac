"""What a typed line asks of the server: a message sent, a room joined, left, listed.

``commands`` says what a line means and the app decides whether it can go
(connected or not) and on which worker; the request itself and the notices
that answer it are here. Free functions of the link, the chat screen and the
app's ``notice`` rather than methods of the app: everything a request may
touch is in its signature.
"""

from __future__ import annotations

from collections.abc import Callable

from chatproto import GENERAL_ROOM, RoomInfo, is_room_target, room_of, room_target, same_target
from chatproto.session import ChatError

from . import commands as cmd
from .i18n import _
from .link import ChatLink
from .render import name
from .screens import ChatScreen

#: The app's ``notice``: one of our own lines (safe already), then its kind.
Notice = Callable[[str, str], None]


def rooms_text(rooms: list[RoomInfo]) -> str:
    """``/rooms``: every room the user may see, with its members and their own place."""
    parts = []
    for room in rooms:
        marks = [_("member")] if room.member else []
        if room.private:
            marks.append(_("private"))
        extra = f", {', '.join(marks)}" if marks else ""
        parts.append(_("#{room} ({count} members{extra})").format(
            room=name(room.name), count=room.member_count, extra=extra))
    return _("Rooms: {rooms}").format(rooms="; ".join(parts) or _("none"))


async def send_line(link: ChatLink, chat: ChatScreen, text: str, to: str | None,
                    notice: Notice) -> None:
    try:
        await link.send_chat(text, to)
    except ChatError as error:
        notice(_("Message not sent: {reason}").format(reason=name(str(error))), "error")
        if not chat.composer.text:
            chat.composer.load_text(text)  # give the user their words back


async def room_command(link: ChatLink, chat: ChatScreen, command: cmd.RoomCommand,
                       notice: Notice) -> None:
    """``/rooms``, ``/join``, ``/create``, ``/leave``: a request, its answer as a notice;
    joining or creating a room makes it where the next line goes."""
    current = chat.recipient
    room = command.room
    if command.verb == "leave" and room is None:
        room = room_of(current) if is_room_target(current) else GENERAL_ROOM
    try:
        if command.verb == "rooms":
            notice(rooms_text(await link.list_rooms()), "notice")
            return
        assert room is not None
        if command.verb == "join":
            await link.join_room(room)
        elif command.verb == "create":
            await link.create_room(room, command.private)
        else:
            await link.leave_room(room)
    except ChatError as error:
        notice(name(str(error)), "error")
        return
    if command.verb == "leave":
        if same_target(current, room_target(room)):  # "/leave Dev" while writing to #dev
            chat.set_recipient(None)
        notice(_("You left #{room}.").format(room=name(room)), "notice")
    else:
        chat.set_recipient(room_target(room))
        notice(_("Now writing to #{room}.").format(room=name(room)), "notice")


__all__ = ["Notice", "room_command", "rooms_text", "send_line"]
