"""``rooms``, ``create``, ``join``, ``leave``, ``invite`` and ``search``:
one request each, on a transient login as ``send`` has (``commands.py``)."""

from __future__ import annotations

import json

import click

from chatproto import SearchHit
from chatproto.limits import MAX_SEARCH_LIMIT

from .commands import login
from .exitcodes import ExitCode
from .options import PROG, Target
from .render import escape, hit_record, human_hit, json_line, member_count_text


async def list_rooms(target: Target, as_json: bool) -> ExitCode:
    async with await login(target) as session:
        rooms = sorted(await session.list_rooms(), key=lambda room: room.name.casefold())
    if as_json:
        rows = [
            {"room": r.name, "members": r.member_count, "private": r.private, "member": r.member}
            for r in rooms
        ]
        click.echo(json.dumps(rows, ensure_ascii=False))
        return ExitCode.OK
    width = max((len(escape(room.name)) + 1 for room in rooms), default=0)
    for room in rooms:
        members = member_count_text(room.member_count)
        notes = [n for n, on in (("private", room.private), ("you are a member", room.member))
                 if on]
        tail = f"  ({', '.join(notes)})" if notes else ""
        click.echo(f"{('#' + escape(room.name)).ljust(width)}  {members}{tail}")
    return ExitCode.OK


async def create_room(target: Target, room: str, private: bool) -> ExitCode:
    async with await login(target) as session:
        await session.create_room(room, private)
    return ExitCode.OK


async def join_room(target: Target, room: str) -> ExitCode:
    async with await login(target) as session:
        await session.join_room(room)
    return ExitCode.OK


async def leave_room(target: Target, room: str) -> ExitCode:
    async with await login(target) as session:
        await session.leave_room(room)
    return ExitCode.OK


async def invite(target: Target, room: str, user: str) -> ExitCode:
    async with await login(target) as session:
        await session.invite(room, user)
    return ExitCode.OK


async def search(
    target: Target, query: str, room: str | None, sender: str | None, limit: int, as_json: bool
) -> ExitCode:
    """Up to ``limit`` results, newest first; past one request's 100, page
    on with ``before_seq`` as the protocol says."""
    hits: list[SearchHit] = []
    more = True
    before = 0
    async with await login(target) as session:
        me = session.username
        while more and len(hits) < limit:
            page = await session.search(
                query, room=room, sender=sender, limit=min(limit - len(hits), MAX_SEARCH_LIMIT),
                before_seq=before,
            )
            hits.extend(page.hits)
            more, before = page.more and bool(page.hits), page.next_before_seq
    if as_json:
        click.echo(json_line([hit_record(hit) for hit in hits]))
        return ExitCode.OK
    for hit in hits:
        click.echo(human_hit(hit, me))
    if more:
        click.echo(f"{PROG}: older results exist (raise --limit to see them)", err=True)
    return ExitCode.OK


__all__ = ["create_room", "invite", "join_room", "leave_room", "list_rooms", "search"]
