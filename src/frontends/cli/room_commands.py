"""The click side of the room commands and ``search`` (``rooms.py`` runs them)."""

from __future__ import annotations

from collections.abc import Callable

import click

from .checks import check_recipient, check_room
from .exitcodes import ExitCode
from .options import Target, run
from .rooms import create_room, invite, join_room, leave_room, list_rooms, search


def add_room_commands(cli: click.Group, target_of: Callable[[click.Context], Target]) -> None:
    """Add ``rooms``, ``create``, ``join``, ``leave``, ``invite`` and
    ``search`` to ``cli``; ``target_of`` logs the context's options in."""

    def room_target(ctx: click.Context, room: str) -> Target:
        # A name no room can have is refused before a password is asked for.
        check_room(room, ExitCode.REQUEST_REFUSED)
        return target_of(ctx)

    @cli.command(help="Print the rooms you can see (public ones and your private ones): "
                      "member counts, whether you are a member, private.")
    @click.option("--json", "as_json", is_flag=True,
                  help="A JSON list of {room, members, private, member}.")
    @click.pass_context
    def rooms(ctx: click.Context, as_json: bool) -> None:
        run(list_rooms(target_of(ctx), as_json))

    @cli.command(help="Create ROOM with you as its only member; --private: only members see "
                      "it, and members invite others.")
    @click.argument("room")
    @click.option("--private", is_flag=True, help="Visible to its members only.")
    @click.pass_context
    def create(ctx: click.Context, room: str, private: bool) -> None:
        run(create_room(room_target(ctx, room), room, private))

    @cli.command(help="Become a member of the public room ROOM.")
    @click.argument("room")
    @click.pass_context
    def join(ctx: click.Context, room: str) -> None:
        run(join_room(room_target(ctx, room), room))

    @cli.command(help="Stop being a member of ROOM (general cannot be left).")
    @click.argument("room")
    @click.pass_context
    def leave(ctx: click.Context, room: str) -> None:
        run(leave_room(room_target(ctx, room), room))

    @cli.command("invite", help="Make USER a member of ROOM at once (you must be a member).")
    @click.argument("room")
    @click.argument("user")
    @click.pass_context
    def invite_command(ctx: click.Context, room: str, user: str) -> None:
        check_recipient(user, ExitCode.REQUEST_REFUSED)
        run(invite(room_target(ctx, room), room, user))

    @cli.command("search", help="Search the messages you may see (your rooms, your direct "
                                "messages) for QUERY: every word must occur. Newest first, "
                                "each with its room (@user for a direct message), sender, "
                                "time and seq.")
    @click.argument("query")
    @click.option("--room", metavar="ROOM", help="Only this room (general too).")
    @click.option("--from", "sender", metavar="USER", help="Only messages from this user.")
    @click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
                  help="At most this many results (past 100, fetched in pages).")
    @click.option("--json", "as_json", is_flag=True,
                  help="A JSON list of {seq, ts, room, from, to, text}.")
    @click.pass_context
    def search_command(
        ctx: click.Context, query: str, room: str | None, sender: str | None, limit: int,
        as_json: bool,
    ) -> None:
        if not query.strip():
            raise click.UsageError("the query is blank: there is nothing to search for")
        check_room(room, ExitCode.REQUEST_REFUSED)
        check_recipient(sender, ExitCode.REQUEST_REFUSED)
        run(search(target_of(ctx), query, room, sender, limit, as_json))


__all__ = ["add_room_commands"]
