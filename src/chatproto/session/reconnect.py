"""Coming back after a lost connection: when to try again, and whether to.

A program that stays logged in (a listener, a chat window, a terminal
client) meets lost connections: the server restarts, the network drops.
What it should do then is the same for every frontend, so it is written
once here:

- ``Backoff`` says how long to wait before each attempt: growing, capped,
  and jittered, so that the clients of a restarted server do not all come
  back in the same instant (with resume tokens the server can take them
  quickly, but not all within one millisecond).
- ``retryable`` says which failures are worth another attempt. A server
  that is down, full or restarting is; a wrong password, a refused
  certificate or an invalid name is not: trying again would only repeat the
  refusal (and a wrong password would run into the server's rate limit).
- ``RetryPlan`` is one run of attempts after a loss, with no I/O at all: a
  frontend with its own loop (Tk's ``after``) asks it for each delay and
  tells it each failure.
- ``reconnect`` drives a ``RetryPlan`` on asyncio around any ``attempt``,
  typically ``AsyncSession.connect`` with ``resume_token``, ``last_seen_seq``
  and ``epoch`` of the session that was lost, so the password is not checked
  again and the replay brings exactly what was missed.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import attrs

from .errors import ChatError, ConnectionLost, LoginRefused, ServerUnreachable
from .tls import CertificateRefused, TLSFailed

T = TypeVar("T")

#: Login refusals that say "not now" rather than "not you": the user is still
#: counted as active (the server has not noticed the old connection break),
#: too many logins or connections, the server shutting down or failing.
RETRYABLE_LOGIN_CODES = frozenset({
    "already-active",
    "rate-limited",
    "server-full",
    "too-many-connections",
    "shutdown",
    "timeout",
    "too-slow",
    "server-error",
})


def retryable(error: ChatError) -> bool:
    """Whether another attempt may succeed where this one failed."""
    if isinstance(error, CertificateRefused):
        return False  # a changed certificate must stop the client, never be retried past
    if isinstance(error, LoginRefused):
        return error.code in RETRYABLE_LOGIN_CODES
    # TLSFailed too: a server killed during the handshake looks like one.
    return isinstance(error, ServerUnreachable | TLSFailed | ConnectionLost)


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:  # NaN too
        raise ValueError(f"{attribute.name} must be positive, got {value}")


@attrs.frozen
class Backoff:
    """Waits that double from ``initial`` up to ``maximum`` seconds.

    Each wait is drawn between half and all of its step ("equal jitter"): it
    never drops to nothing, so a client whose server is down does not spin,
    and clients that lost the same server spread out over half a step.
    """

    initial: float = attrs.field(default=0.5, validator=_positive)
    factor: float = attrs.field(default=2.0, validator=_positive)
    maximum: float = attrs.field(default=15.0, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.factor < 1:
            raise ValueError(f"factor must be at least 1, got {self.factor}")
        if self.maximum < self.initial:
            raise ValueError("maximum must not be below initial")

    def step(self, attempt: int) -> float:
        """The longest wait before attempt number ``attempt`` (0: the first)."""
        try:
            step = self.initial * self.factor ** max(attempt, 0)
        except OverflowError:
            return self.maximum
        return min(step, self.maximum)

    def delay(self, attempt: int, chance: float) -> float:
        """The wait before attempt ``attempt``; ``chance`` in [0, 1] picks where
        in the upper half of its step (``random.random()`` in real use)."""
        chance = min(max(chance, 0.0), 1.0)
        return self.step(attempt) * (0.5 + chance / 2)


class RetryPlan:
    """One run of attempts after a loss, without I/O: ``next_delay()`` before
    each attempt, ``failed(error)`` after a failed one (false: give up and
    report ``error``). Make a new plan for the next loss."""

    def __init__(
        self, backoff: Backoff | None = None, chance: Callable[[], float] = random.random
    ) -> None:
        self.backoff = backoff or Backoff()
        self._chance = chance
        #: Attempts that failed so far.
        self.failures = 0
        #: The last failure, if any (for a frontend that shows why it waits).
        self.last_error: ChatError | None = None

    def next_delay(self) -> float:
        return self.backoff.delay(self.failures, self._chance())

    def failed(self, error: ChatError) -> bool:
        self.failures += 1
        self.last_error = error
        return retryable(error)


async def reconnect(
    attempt: Callable[[], Awaitable[T]],
    plan: RetryPlan | None = None,
    *,
    on_failure: Callable[[ChatError, RetryPlan], None] | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """``await attempt()`` after each of ``plan``'s delays until it returns;
    a failure ``retryable`` does not accept is raised as it is. The first
    attempt also waits (half a step to a step): a server that just said
    goodbye is still going down. ``on_failure(error, plan)`` hears of each
    failure that will be retried. Cancel the task to stop trying."""
    plan = plan or RetryPlan()
    while True:
        await sleep(plan.next_delay())
        try:
            return await attempt()
        except ChatError as error:
            if not plan.failed(error):
                raise
            if on_failure is not None:
                on_failure(error, plan)


__all__ = ["RETRYABLE_LOGIN_CODES", "Backoff", "RetryPlan", "reconnect", "retryable"]
