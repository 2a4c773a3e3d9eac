"""The IRC dialect of the load generator, for the reference server (ngircd).

Minimal IRC: NICK/USER, JOIN one channel, PRIVMSG; the send time sits at the
start of the text, as in our protocol (see ``stamps``).
"""

from __future__ import annotations

import re

from .clients import BenchClient
from .stamps import KEPT_DIGITS, KEPT_FROM, Run, Stamps, joined

CHANNEL = b"#bench"
_PRIVMSG_MARKER = b" PRIVMSG " + CHANNEL + b" :"
_PRIVMSG_STAMP = re.compile(
    re.escape(_PRIVMSG_MARKER) + rb"\d{%d}(\d{%d}) " % (KEPT_FROM, KEPT_DIGITS)
)
#: A whole relayed line: ":nick!user@host PRIVMSG #bench :<stamp> ...\r\n".
_PRIVMSG_LINE = re.compile(
    rb"(?m)^:[^ \r\n]+(" + re.escape(_PRIVMSG_MARKER) + rb")(\d{20}) [^\r\n]*\r\n"
)


class IrcClient(BenchClient):
    """Minimal IRC: NICK/USER, wait for 001, JOIN, wait for end of NAMES, PRIVMSG."""

    echoes_to_sender = False

    def __init__(self, index: int, name: str) -> None:
        super().__init__(index, name)
        self.rest = b""
        self.joined_sent = False
        self.prefix = b"PRIVMSG " + CHANNEL + b" :"
        # The relayed PRIVMSG lines the last one looked like.
        self.run: Run | None = None

    def greeting(self) -> bytes:
        nick = self.name.encode()
        return b"NICK " + nick + b"\r\nUSER " + nick + b" 0 * :bench\r\n"

    def _lines(self, data: bytes) -> list[bytes]:
        lines = (self.rest + data).split(b"\r\n")
        self.rest = lines.pop()
        return lines

    def handshake(self, data: bytes) -> None:
        for line in self._lines(data):
            parts = line.split(b" ", 3)
            if line.startswith(b"PING "):
                self.write(b"PONG " + line[5:] + b"\r\n")
            elif len(parts) > 1 and parts[1] == b"001" and not self.joined_sent:
                self.joined_sent = True
                if self.join:
                    self.write(b"JOIN " + CHANNEL + b"\r\n")
                else:
                    self.ready = True
            elif len(parts) > 1 and parts[1] == b"366":
                self.ready = True
            elif line.startswith(b"ERROR") or (len(parts) > 1 and parts[1] in (b"432", b"433")):
                self.failure = line.decode("utf-8", "replace")

    def chat(self, text: str) -> bytes:
        return self.prefix + text.encode() + b"\r\n"

    #: Join the channel as part of logging in (idle connections skip it).
    join = True

    def deliveries(self, data: bytes) -> list[Stamps]:
        """Runs of relayed lines of one shape in C (see ``Run``), else every
        complete line by regular expression.

        For lines, ``Run`` checks in every line-long slot the ':' of the
        sender's prefix first (PING and ERROR, the lines the server sends on
        its own, start with a letter), the space before "PRIVMSG" and the
        colon before the text where the learnt line has them, and "\r\n"
        last. Only other relayed lines (of a user joining, leaving or writing
        to someone else), none of which a fan-out run produces, could line up
        with that; counting every newline would rule them out too but cost
        more than everything else here.
        """
        if self.rest:
            data = self.rest + data
        if self.run is not None and (taken := self.run.take(data)) is not None:
            stamps, whole = taken
            if data.find(b"\n", whole) < 0:
                self.rest = data[whole:]
                return [stamps]
            # What is left is shorter than a delivery but holds a whole line.
            return [stamps, *self._all_lines(data[whole:])]
        return self._all_lines(data)

    def _all_lines(self, data: bytes) -> list[Stamps]:
        """Every complete line, by regular expression: the general case (and
        how the line length is learnt)."""
        cut = data.rfind(b"\n") + 1
        complete, self.rest = data[:cut], data[cut:]
        if b"PING " in complete or b"ERROR " in complete:
            for line in complete.split(b"\r\n"):
                if line.startswith(b"PING "):
                    self.write(b"PONG " + line[5:] + b"\r\n")
                elif line.startswith(b"ERROR"):
                    self.failure = line.decode("utf-8", "replace")
        first = _PRIVMSG_LINE.search(complete)
        if first is not None:
            start = first.start()
            size = first.end() - start
            stamp_at = first.start(2) - start
            marks = ((0, 58), (stamp_at - 1, 58), (first.start(1) - start, 32))  # ':', ':', ' '
            self.run = Run.of(size, (*marks, (size - 2, 13), (size - 1, 10)), stamp_at, 1)
        return joined(_PRIVMSG_STAMP.findall(complete))


class IdleIrcClient(IrcClient):
    """Registered (001) but in no channel: IRC's idle logged-in user."""

    join = False
