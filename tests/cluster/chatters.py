"""Users chatting at full speed through a cluster, each on a thread of its own,
failing over to the next node when theirs dies: what the fault tests drive.

A ``Chatter`` sends numbered messages as fast as its socket takes them and
reads whatever arrives between sends. When its connection ends it logs in on
the next node of its list with the last seq it saw (and the epoch), so the
replay brings what it missed: exactly what a real client does on failover.
It records every chat message received, its own acknowledged ones (the echo
carries its ``client_id``) and refused ones, and the presence it saw.
"""

from __future__ import annotations

import threading
import time

from chatproto import ChatMessage, ChatRejected, LoginAccepted, Presence, SendChat
from support import Closed, RawClient

LONG = 60.0
#: Messages a chatter has sent and not yet seen answered, at most.
WINDOW = 16


class Chatter(threading.Thread):
    def __init__(self, name: str, addresses: list[tuple[str, int]], first: int) -> None:
        super().__init__(name=f"chatter-{name}", daemon=True)
        self.user = name
        self.addresses = addresses
        self.at = first
        self.stop_sending = threading.Event()
        self.received: list[ChatMessage] = []
        self.acked: set[int] = set()
        self.refused: set[int] = set()
        #: Sent before a failover, answer unknown: the history says if it was stored.
        self.in_doubt: set[int] = set()
        self.presence: list[Presence] = []
        self.failovers = 0
        #: What each lost connection last received (for a failing test's message).
        self.endings: list[str] = []
        self.sent = 0
        self.epoch = 0
        self.failure: BaseException | None = None
        self.client = self._login(0)

    def _login(self, last_seq: int) -> RawClient:
        deadline = time.monotonic() + LONG
        while True:
            address = self.addresses[self.at % len(self.addresses)]
            try:
                client = RawClient(address)
                reply = client.login(self.user, "pw", last_seq, self.epoch)
            except (OSError, Closed, TimeoutError):
                reply = None
            if isinstance(reply, LoginAccepted):
                self.epoch = reply.epoch
                return client
            # Refused (already-active until the dead node's lease runs out) or
            # unreachable: the next node, as the session does.
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.user} could not log in again: {reply}")
            self.at += 1
            time.sleep(0.05)

    def _take(self, timeout: float) -> bool:
        """Handle events for up to ``timeout``; False if none came."""
        try:
            event = self.client.next_event(timeout)
        except TimeoutError:
            return False
        if isinstance(event, ChatMessage):
            self.received.append(event)
            if event.sender == self.user:
                self.acked.add(event.client_id)
        elif isinstance(event, ChatRejected):
            self.refused.add(event.client_id)
        elif isinstance(event, Presence):
            self.presence.append(event)
        return True

    def _fail_over(self) -> None:
        self.failovers += 1
        self.endings.append(repr(self.client.received[-3:])[:300])
        self.in_doubt |= set(range(1, self.sent + 1)) - self.acked - self.refused
        self.client.close()
        self.at += 1
        last = self.received[-1].seq if self.received else 0
        self.client = self._login(last)

    def run(self) -> None:
        try:
            while not self.stop_sending.is_set():
                try:
                    # At most WINDOW unanswered: full speed, yet never faster
                    # than this reader takes everyone's messages in.
                    while self.sent - len(self.acked | self.refused | self.in_doubt) >= WINDOW:
                        self._take(1.0)
                    self.sent += 1
                    self.client.send(SendChat(f"{self.user} {self.sent}", client_id=self.sent))
                    while self._take(0.0):
                        pass
                except (OSError, Closed):
                    self._fail_over()
            self._settle()
        except BaseException as exc:  # reported by the test
            self.failure = exc

    def _settle(self) -> None:
        """Read until every message sent is acknowledged or refused, or a
        lost connection makes the rest unknowable (then they are not counted
        as acknowledged: the history decides)."""
        deadline = time.monotonic() + LONG
        while (len(self.acked | self.refused | self.in_doubt) < self.sent
               and time.monotonic() < deadline):
            try:
                self._take(1.0)
            except (OSError, Closed):
                self._fail_over()
                return

    def drain_until(self, seq: int) -> None:
        """Read until a chat message with ``seq`` or later has arrived."""
        deadline = time.monotonic() + LONG
        while (not self.received or self.received[-1].seq < seq) and time.monotonic() < deadline:
            self._take(1.0)
