"""``send``, ``send-file`` and ``users``: log in, do one thing, leave
(the room commands and ``search`` are in ``rooms.py``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from chatproto.session import SKIP_REPLAY, AsyncSession, ChatError, connect_any

from .exitcodes import ExitCode
from .explain import login_failure
from .options import Target, report_trust
from .render import escape, participant_count


async def _open(target: Target) -> AsyncSession:
    # These commands never read events: keep none. A transient login is not a
    # presence: nobody sees the caller join and leave, ``users`` does not count
    # it, and it works while the same user listens elsewhere. A version 2
    # server gets an ordinary login instead, without the replay of history
    # (that is the listener's job).
    session = await connect_any(
        target.server_list,
        target.user,
        target.password,
        last_seen_seq=SKIP_REPLAY,
        keep_events=False,
        tls=target.tls,
        transient=True,
    )
    report_trust(session.trust)
    return session


async def login(target: Target) -> AsyncSession:
    try:
        return await _open(target)
    except ChatError as exc:
        raise login_failure(exc, target.tls, target.user) from None


async def send_text(
    target: Target, text: str, to: str | None, room: str | None = None
) -> ExitCode:
    async with await login(target) as session:
        await session.send_chat(text, to, room)
    return ExitCode.OK


async def send_file(
    target: Target, path: Path, to: str | None, room: str | None = None
) -> ExitCode:
    bar: Any = None
    shown = 0

    def progress(done: int, total: int) -> None:
        nonlocal bar, shown
        if bar is None:
            bar = click.progressbar(length=total, label=escape(path.name), file=sys.stderr)
            bar.__enter__()
        bar.update(done - shown)
        shown = done

    show_bar = sys.stderr.isatty()
    try:
        async with await login(target) as session:
            await session.send_file(path, to, progress if show_bar else None, room=room)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    return ExitCode.OK


async def list_users(target: Target, as_json: bool) -> ExitCode:
    async with await login(target) as session:
        participants = dict(session.participants)
    if as_json:
        rows = [{"user": name, "state": str(state)} for name, state in participants.items()]
        click.echo(json.dumps(rows, ensure_ascii=False))
        return ExitCode.OK
    width = max((len(escape(name)) for name in participants), default=0)
    for name, state in sorted(participants.items()):
        click.echo(f"{escape(name).ljust(width)}  {state}")
    click.echo(participant_count(len(participants)))
    return ExitCode.OK
