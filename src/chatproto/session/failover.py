"""Connecting to the first server of a list that answers, and failing over.

``connect_any`` tries the servers of a list in order: one that refuses the
connection, cannot be reached, breaks the handshake or says "not now"
(``reconnect.retryable``: full, shutting down, the user still active there)
makes it try the next one at once. A refusal the next server would only
repeat stops it: a wrong password (trying it on every node would only meet
their shared rate limit sooner), and above all a refused certificate. A node
whose pinned certificate changed is an alarm, not an outage: failing over
past it to another node would let whoever answers there decide the user's
trust, so it ends the attempt like it does for one server (docs/client.md).

``reconnect_any`` is the loop after a lost session: ``reconnect``'s growing,
jittered waits, and each attempt one round over the list that starts at the
server after the one lost (a dead node is tried last, not first), logging in
by the lost session's resume token (no password check on a cluster's other
node, which shares the token table) with its ``last_seq`` and ``epoch`` (the
replay brings exactly what was missed; a server with another history says
``history_reset`` and replays it all).
"""

from __future__ import annotations

from collections.abc import Callable

from .asyncsession import AsyncSession
from .core import DEFAULT_MAX_QUEUED_EVENTS
from .errors import ChatError, ServerUnreachable
from .reconnect import RetryPlan, reconnect, retryable
from .servers import ServerAddress, after, rotation
from .tls import ClientTLS

#: ``on_skip(server, error)``: ``server`` failed with ``error``; the next one is tried.
SkipCallback = Callable[[ServerAddress, ChatError], None]


async def connect_any(
    servers: tuple[ServerAddress, ...],
    username: str,
    password: str,
    *,
    start: int = 0,
    on_skip: SkipCallback | None = None,
    last_seen_seq: int = 0,
    epoch: int = 0,
    timeout: float = 10.0,
    heartbeat_interval: float = 15.0,
    heartbeat_timeout: float = 45.0,
    keep_events: bool = True,
    max_queued_events: int = DEFAULT_MAX_QUEUED_EVENTS,
    tls: ClientTLS | None = None,
    resume_token: bytes | None = None,
    transient: bool = False,
) -> AsyncSession:
    """The session of the first server, from index ``start`` on (wrapping),
    that logs the user in; its ``server`` says which. The other arguments are
    ``AsyncSession.connect``'s. When every server fails with a retryable
    error, the last one is raised (all unreachable: one ``ServerUnreachable``
    naming each); a failure that is not retryable is raised at once."""
    if not servers:
        raise ServerUnreachable("no server to connect to")
    order = rotation(servers, start)
    unreachable: list[str] = []
    last: ChatError | None = None
    for server in order:
        try:
            return await AsyncSession.connect(
                server.host, server.port, username, password,
                last_seen_seq=last_seen_seq, epoch=epoch, timeout=timeout,
                heartbeat_interval=heartbeat_interval, heartbeat_timeout=heartbeat_timeout,
                keep_events=keep_events, max_queued_events=max_queued_events, tls=tls,
                resume_token=resume_token, transient=transient,
            )
        except ChatError as error:
            if not retryable(error):
                raise
            last = error
            if isinstance(error, ServerUnreachable):
                unreachable.append(error.message)
            if on_skip is not None:
                on_skip(server, error)
    assert last is not None
    if len(order) > 1 and len(unreachable) == len(order):
        raise ServerUnreachable("no server answered: " + "; ".join(unreachable))
    raise last


async def reconnect_any(
    servers: tuple[ServerAddress, ...],
    lost: AsyncSession,
    password: str,
    plan: RetryPlan | None = None,
    *,
    on_failure: Callable[[ChatError, RetryPlan], None] | None = None,
    on_skip: SkipCallback | None = None,
    timeout: float = 10.0,
    heartbeat_interval: float = 15.0,
    heartbeat_timeout: float = 45.0,
    keep_events: bool = True,
    max_queued_events: int = DEFAULT_MAX_QUEUED_EVENTS,
    tls: ClientTLS | None = None,
) -> AsyncSession:
    """A new session for the user of ``lost`` (a session that ended), on the
    first server of ``servers`` after ``lost.server`` that takes it, after
    ``plan``'s waits (``reconnect``); resumes by its token, from its
    ``last_seq`` in its ``epoch``. Cancel the task to stop trying."""
    start = after(servers, lost.server)
    token = lost.resume_token

    async def attempt() -> AsyncSession:
        return await connect_any(
            servers, lost.username, password, start=start, on_skip=on_skip,
            last_seen_seq=lost.last_seq, epoch=lost.epoch, timeout=timeout,
            heartbeat_interval=heartbeat_interval, heartbeat_timeout=heartbeat_timeout,
            keep_events=keep_events, max_queued_events=max_queued_events, tls=tls,
            resume_token=token,
        )

    return await reconnect(attempt, plan, on_failure=on_failure)


__all__ = ["SkipCallback", "connect_any", "reconnect_any"]
