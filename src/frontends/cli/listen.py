"""``listen``: stay logged in, print every event, download every file.

The last sequence number printed is saved after each line, so a listener
that is killed and started again asks the server for exactly what it has
not printed yet. A lost connection (a server restart, the network) is one
notice, then logins again after growing waits (``chatproto.session.reconnect``)
with the lost session's resume token and the last seq printed, so the replay
brings exactly what was missed, then one notice when it is back. With
several servers (``--host a:9000,b:9000``) each attempt goes over the list,
starting with the one after the server lost, so a dead node is tried last;
the notice then names the server it is back on. ``--once``
exits instead (9). A refusal another attempt would only repeat (a wrong
password, a changed certificate, a disabled account) ends it with its own
exit code, and so does a session the server ended because an administrator
disabled or deleted the account: no retry is tried. Ctrl-C and SIGTERM are
a normal leave (goodbye, exit 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import sys
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import click

from chatproto import ChatMessage, Event, FileAvailable, Membership, Presence
from chatproto.session import (
    AsyncSession,
    ChatError,
    ConnectionLost,
    Disconnected,
    FileRefused,
    SeqStore,
    ServerAddress,
    connect_any,
    partial_path,
)
from chatproto.session.reconnect import Backoff, RetryPlan, reconnect
from chatproto.session.servers import after

from .exitcodes import ExitCode
from .explain import account_ended, login_failure
from .options import PROG, Target, report_trust
from .render import (
    connection_record,
    escape,
    event_time,
    human_chat,
    human_file,
    human_membership,
    human_presence,
    json_line,
    json_record,
)

T = TypeVar("T")

#: A session that lasted this long was not "lost again at once": the next
#: loss starts with short waits again.
STABLE_SECONDS = 30.0


class _Stopped(Exception):
    """Ctrl-C or SIGTERM arrived."""


class _Interrupted(Exception):
    """The connection was lost in the middle of an event (its download)."""


class Listener:
    def __init__(
        self,
        target: Target,
        as_json: bool,
        download_dir: Path | None,
        store: SeqStore,
        once: bool = False,
        backoff: Backoff | None = None,
    ) -> None:
        self.target = target
        self.as_json = as_json
        self.download_dir = download_dir
        self.store = store
        self.once = once
        self.backoff = backoff
        self.printed_seq = 0
        #: The server history ``printed_seq`` belongs to (0: not known yet).
        self.epoch = 0
        self.stop = asyncio.Event()

    async def run(self) -> ExitCode:
        self._install_signal_handlers()
        t = self.target
        self.printed_seq, self.epoch = self.store.load_mark(t.host, t.port, t.user)
        session: AsyncSession | None = None
        plan: RetryPlan | None = None
        loop = asyncio.get_running_loop()
        try:
            session = await self._until_stopped(self._login(None, 0))
            self._follow_history(session)
            while True:
                since, seen = loop.time(), self.printed_seq
                lost = await self._follow(session)
                ended = account_ended(lost.code, lost.message)
                if ended is not None:
                    self._note(escape(ended))
                    return ExitCode.ACCOUNT_DISABLED
                if self.once:
                    self._note(escape(lost.message))
                    return ExitCode.CONNECTION_LOST
                self._emit_lost(lost)
                if (plan is None or self.printed_seq > seen
                        or loop.time() - since >= STABLE_SECONDS):
                    plan = RetryPlan(self.backoff)
                else:
                    # Lost again at once, nothing new printed: a server that
                    # breaks every session (a bad frame in the replay) must
                    # meet growing waits, not a login twice a second.
                    plan.failed(ConnectionLost(lost.message))
                token, failed_before = session.resume_token, plan.failures
                start, session = after(t.server_list, session.server), None
                session = await self._until_stopped(
                    reconnect(functools.partial(self._login, token, start), plan)
                )
                self._emit_restored(plan.failures - failed_before + 1, session.server)
                self._follow_history(session)
        except _Stopped:
            if session is not None:
                await session.close()
            return ExitCode.OK

    async def _login(self, resume_token: bytes | None, start: int) -> AsyncSession:
        """Log in, asking for what came after the last line printed, on the
        first server from index ``start`` on that takes it. A token (from the
        session that was lost) spares the server the password check; a stale
        one costs a round trip, then the password goes instead."""
        t = self.target
        try:
            session = await connect_any(
                t.server_list, t.user, t.password, start=start,
                last_seen_seq=self.printed_seq, epoch=self.epoch, tls=t.tls,
                resume_token=resume_token,
            )
        except ChatError as exc:
            raise login_failure(exc, t.tls, t.user) from None
        report_trust(session.trust)
        return session

    async def _follow(self, session: AsyncSession) -> Disconnected:
        """Print ``session``'s events until it ends; its ``Disconnected``."""
        interrupted = False
        while True:
            event = await self._until_stopped(session.next_event())
            if isinstance(event, Disconnected):
                return event
            if interrupted:
                # Not printed, so not remembered: the replay after the next
                # login brings them again, from the interrupted one on.
                continue
            try:
                await self._until_stopped(self._handle(session, event))
            except _Interrupted:
                interrupted = True

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
            return  # already printed, by an earlier run or before a reconnect
        # The server's stamp for chat and files: a replayed line keeps the
        # time it was said, not the time it reached us.
        when = event_time(event)
        if isinstance(event, ChatMessage):
            line = json_line(json_record(event, when)) if self.as_json else human_chat(event, when)
        elif isinstance(event, Presence):
            line = (
                json_line(json_record(event, when)) if self.as_json else human_presence(event, when)
            )
        elif isinstance(event, Membership):
            line = (
                json_line(json_record(event, when))
                if self.as_json
                else human_membership(event, when)
            )
        elif isinstance(event, FileAvailable):
            path, note = await self._download(session, event)
            if self.as_json:
                line = json_line(json_record(event, when, path))
            else:
                line = human_file(event, when, path, note)
        else:
            return
        self._emit(line)
        if isinstance(seq, int):
            self._remember(seq)

    def _emit(self, line: str) -> None:
        try:
            click.echo(line)
        except BrokenPipeError:
            # The reader went away (`listen | head`): a normal leave, and no
            # complaint from the interpreter when it flushes stdout at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise _Stopped from None

    def _note(self, message: str) -> None:
        """A notice on stderr; ``message`` is escaped already."""
        click.echo(f"{PROG}: {message}", err=True)

    def _emit_lost(self, lost: Disconnected) -> None:
        if self.as_json:
            record = connection_record("lost", datetime.now(tz=UTC), code=lost.code,
                                       reason=lost.message)
            self._emit(json_line(record))
        else:
            self._note(f"connection lost ({escape(lost.message)}); reconnecting")

    def _emit_restored(self, attempts: int, server: ServerAddress) -> None:
        # The server is named only when there is a choice of them.
        several = len(self.target.server_list) > 1
        if self.as_json:
            where = {"server": str(server)} if several else {}
            record = connection_record("restored", datetime.now(tz=UTC), attempts=attempts,
                                       **where)
            self._emit(json_line(record))
        else:
            tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
            on = f" to {escape(str(server))}" if several else ""
            self._note(f"connection restored{on} (after {tries})")

    async def _download(
        self, session: AsyncSession, event: FileAvailable
    ) -> tuple[Path | None, str]:
        if self.download_dir is None:
            return None, ""
        part = partial_path(self.download_dir, event.name, event.sha256)
        if part.exists() and 0 < part.stat().st_size < event.size:
            self._note(f"resuming {escape(event.name)} from byte {part.stat().st_size}")
        try:
            return await session.download(event, self.download_dir), ""
        except FileRefused as exc:
            self._note(f"download of {escape(event.name)} failed: {escape(str(exc))}")
            return None, f" (download failed: {exc.code})"
        except ConnectionLost:
            # Resumed from its .part file when the replay brings it again.
            raise _Interrupted from None

    def _follow_history(self, session: AsyncSession) -> None:
        """Take the server's history epoch; after a reset, print it all again."""
        if session.history_reset:
            self._note("the server's history is not the one seen before (its data was reset "
                       "or replaced): replaying it from the start")
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
            self._note(f"cannot save the last seen message: {escape(str(exc))}")

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            # Windows has no add_signal_handler: Ctrl-C ends it there instead.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, self.stop.set)


async def listen(
    target: Target, as_json: bool, download_dir: Path | None, state_file: Path | None,
    once: bool = False,
) -> ExitCode:
    listener = Listener(target, as_json, download_dir, SeqStore(state_file), once)
    return await listener.run()
