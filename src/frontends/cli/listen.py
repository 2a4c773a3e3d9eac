"""``listen``: stay logged in, print every event, download every file.

The last sequence number printed is saved after each line, so a listener
that is killed and started again asks the server for exactly what it has
not printed yet. Ctrl-C and SIGTERM are a normal leave (goodbye, exit 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import click

from chatproto import ChatMessage, Event, FileAvailable, Presence
from chatproto.session import AsyncSession, Disconnected, FileRefused, SeqStore, partial_path

from .exitcodes import ExitCode
from .options import PROG, Target, report_trust
from .render import (
    escape,
    event_time,
    human_chat,
    human_file,
    human_presence,
    json_line,
    json_record,
)

T = TypeVar("T")


class _Stopped(Exception):
    """Ctrl-C or SIGTERM arrived."""


class Listener:
    def __init__(
        self,
        target: Target,
        as_json: bool,
        download_dir: Path | None,
        store: SeqStore,
    ) -> None:
        self.target = target
        self.as_json = as_json
        self.download_dir = download_dir
        self.store = store
        self.printed_seq = 0
        #: The server history ``printed_seq`` belongs to (0: not known yet).
        self.epoch = 0
        self.stop = asyncio.Event()

    async def run(self) -> ExitCode:
        self._install_signal_handlers()
        t = self.target
        self.printed_seq, self.epoch = self.store.load_mark(t.host, t.port, t.user)
        try:
            session = await self._until_stopped(
                AsyncSession.connect(
                    t.host, t.port, t.user, t.password, last_seen_seq=self.printed_seq,
                    epoch=self.epoch, tls=t.tls,
                )
            )
        except _Stopped:
            return ExitCode.OK  # stopped before the login completed
        report_trust(session.trust)
        self._follow_history(session)
        try:
            while True:
                event = await self._until_stopped(session.next_event())
                if isinstance(event, Disconnected):
                    click.echo(f"{PROG}: {escape(event.message)}", err=True)
                    return ExitCode.CONNECTION_LOST
                await self._until_stopped(self._handle(session, event))
        except _Stopped:
            await session.close()
            return ExitCode.OK

    async def _until_stopped(self, work: Awaitable[T]) -> T:
        task = asyncio.ensure_future(work)
        stopper = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        raise _Stopped

    async def _handle(self, session: AsyncSession, event: Event) -> None:
        seq = getattr(event, "seq", None)
        if isinstance(seq, int) and seq <= self.printed_seq:
            return  # already printed by an earlier run
        when = event_time(event)
        if isinstance(event, ChatMessage):
            line = json_line(json_record(event, when)) if self.as_json else human_chat(event, when)
        elif isinstance(event, Presence):
            line = (
                json_line(json_record(event, when)) if self.as_json else human_presence(event, when)
            )
        elif isinstance(event, FileAvailable):
            path, note = await self._download(session, event)
            if self.as_json:
                line = json_line(json_record(event, when, path))
            else:
                line = human_file(event, when, path, note)
        else:
            return
        try:
            click.echo(line)
        except BrokenPipeError:
            # The reader went away (`listen | head`): a normal leave, and no
            # complaint from the interpreter when it flushes stdout at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise _Stopped from None
        if isinstance(seq, int):
            self._remember(seq)

    async def _download(
        self, session: AsyncSession, event: FileAvailable
    ) -> tuple[Path | None, str]:
        if self.download_dir is None:
            return None, ""
        part = partial_path(self.download_dir, event.name, event.sha256)
        if part.exists() and 0 < part.stat().st_size < event.size:
            click.echo(
                f"{PROG}: resuming {escape(event.name)} from byte {part.stat().st_size}", err=True
            )
        try:
            return await session.download(event, self.download_dir), ""
        except FileRefused as exc:
            click.echo(f"{PROG}: download of {escape(event.name)} failed: {escape(str(exc))}",
                       err=True)
            return None, f" (download failed: {exc.code})"

    def _follow_history(self, session: AsyncSession) -> None:
        """Take the server's history epoch; after a reset, print it all again."""
        if session.history_reset:
            click.echo(f"{PROG}: the server's history is not the one seen before (its data "
                       "was reset or replaced): replaying it from the start", err=True)
            self.printed_seq = 0
        if session.epoch != self.epoch:
            self.epoch = session.epoch
            self._remember(self.printed_seq)

    def _remember(self, seq: int) -> None:
        self.printed_seq = seq
        t = self.target
        try:
            self.store.save(t.host, t.port, t.user, seq, self.epoch)
        except OSError as exc:
            click.echo(f"{PROG}: cannot save the last seen message: {exc}", err=True)

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            # Windows has no add_signal_handler: Ctrl-C ends it there instead.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, self.stop.set)


async def listen(
    target: Target, as_json: bool, download_dir: Path | None, state_file: Path | None
) -> ExitCode:
    listener = Listener(target, as_json, download_dir, SeqStore(state_file))
    return await listener.run()
