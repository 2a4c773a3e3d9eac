"""How a client connection ends: the deadlines the sweeper checks, the Error
that tells the peer why, the close and its linger, the server's shutdown.

Every close, whatever its reason, ends in ``ClientEndings._close``, and
whether it ever finishes is decided here (the ``CLOSE_LINGER`` after an
Error, the abort of a peer that does not read): one piece to read, apart
from ``client``'s events in. ``ClientEndings`` is a part of
``client.ClientProtocol`` and of nothing else; a mixin rather than a helper
object, so that these stay the connection's own methods (the sweeper, the
account watch, the server's stop and the TLS and WebSocket connections call
them on it) at no extra cost per call.
"""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING

from chatproto import (
    Error,
    ErrorCode,
    Event,
    Goodbye,
    PreparedEvent,
    RemoteProtocolError,
    ServerConnection,
)

from .context import ServerContext
from .log import log
from .outbox import Outbox

#: How long a connection closed after an Error still reads (and drops) what
#: its peer sends before it is aborted (``ClientEndings._close``).
CLOSE_LINGER = 2.0
_MAX_ERROR_MESSAGE = 1000


def _short(message: str) -> str:
    return message.encode("utf-8")[:_MAX_ERROR_MESSAGE].decode("utf-8", "ignore")


class ClientEndings:
    """The endings of a ``client.ClientProtocol``."""

    # Its slots are the connection's (no instance dict): only the ones
    # assigned here are declared here, the rest by ``ClientProtocol``.
    __slots__ = ("_abort_at", "_login_deadline", "_session_over")

    #: When an unauthenticated connection is closed (checked by the
    #: server's ``TimeoutSweeper``, like the heartbeat); inf once logged in.
    _login_deadline: float
    #: Once closed: when the sweeper aborts the transport if it has not
    #: reported ``connection_lost`` yet (its peer does not read).
    _abort_at: float
    #: The session is over for the hub: ``_end_session`` does nothing more.
    _session_over: bool

    if TYPE_CHECKING:  # ``ClientProtocol``'s, which this is a part of
        address: str
        conn: ServerConnection
        ctx: ServerContext
        outbox: Outbox
        transport: asyncio.Transport | None
        _events_paused: bool

        @property
        def username(self) -> str | None: ...

        @property
        def closed(self) -> bool: ...

        def queue(self, event: Event | PreparedEvent) -> None: ...

        def _end_session(self, *, left: bool, reason: str = "") -> None: ...

    # -- heartbeat and timeouts -------------------------------------------------

    def check_deadlines(self, now: float) -> None:
        """Ping an idle session, drop a dead one, close a connection that did
        not log in in time, abort one that is still closing (called by the
        server's ``TimeoutSweeper``)."""
        if self.closed:
            if now >= self._abort_at:
                self._abort_at = math.inf
                self.abort()
            return
        timer = self.conn.get_timer()  # the heartbeat, once logged in
        if timer is None:
            if now >= self._login_deadline:
                self._login_too_late(now)
            return
        if now < timer:
            return
        try:
            ping = self.conn.handle_timer(now)
        except RemoteProtocolError as exc:  # timed out: a whole frame is a sign of life
            self._fail(exc.code, exc.message, reason=exc.message)
            return
        if ping is not None:
            self.queue(ping)

    def _login_too_late(self, now: float) -> None:
        if self._events_paused:
            # A login is being checked (its hash may wait behind many others):
            # the peer did its part in time.
            self._login_deadline = now + self.ctx.config.login_timeout
            return
        if self.username is None:
            log.info("connection from %s closed: no login in time", self.address)
            self._fail(ErrorCode.TIMEOUT, "no login in time")

    # -- endings -------------------------------------------------------------------

    def _close(self, *, linger: bool = False) -> None:
        """Flush and close normally; every close, whatever its reason, ends here.

        ``transport.close()`` waits until the unsent bytes are written, which
        is never for a peer that does not read: if ``connection_lost`` has not
        come by the sweeper's next pass, it aborts the transport (``abort``),
        so that the connection's buffers, fetches and slot are freed.

        ``linger`` (after an Error): end our stream but read on, dropping
        what comes, until the peer closes, for at most ``CLOSE_LINGER``
        seconds. A socket closed with bytes unread resets the connection: a
        peer still sending (the body of a frame too large) would get a
        broken pipe, and the reset can destroy the Error before it is read."""
        if self.closed or self.transport is None:
            return
        self.outbox.close(linger=linger)
        now = asyncio.get_running_loop().time()
        self._abort_at = now + CLOSE_LINGER if linger else now

    def _fail(self, code: str, message: str, reason: str = "", *, left: bool = False) -> None:
        """Tell the peer why in an Error frame, then close; ``left``: the user
        has left (else, if logged in, it is deactivated)."""
        if self.closed:
            return
        self.queue(Error(code, _short(message)))
        self._end_session(left=left, reason=reason or message)
        self._close(linger=True)

    def end_by_admin(self, code: str, message: str) -> None:
        """An administrator ended this user's session (account disabled or
        deleted): an Error with ``code`` and the reason, and the user has left."""
        self._fail(code, message, left=True)

    def shutdown(self, message: str) -> None:
        """The server stops: Goodbye, flush, close (the user is not 'left')."""
        if self.closed:
            self.outbox.end_linger()
            return
        self._session_over = True
        self.queue(Goodbye(message))
        self._close()

    def abort(self) -> None:
        """Close at once, dropping what is unsent (``Outbox.abort``)."""
        self.outbox.abort()
