"""The server log: timestamped lines on stdout, in the original's spirit.

Never log a password or a file's content: log user names, reasons and sizes.

Text a peer chose (an Error frame's message, a name before it is validated,
a file name) goes through ``peer_text``: a newline in it must not start a
forged log line, nor an escape sequence reach the admin's terminal. As a
second line of defence the formatter escapes every control character left in
a message, so one call site that forgets cannot forge a line either.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

LOGGER_NAME = "chatserver"
log = logging.getLogger(LOGGER_NAME)


def peer_text(text: str) -> str:
    """``text`` from a peer, safe to log on one line: every character that is
    not printable (``str.isprintable``: C0 and C1 controls, DEL, format
    characters such as the bidi overrides and zero-width ones, line and
    paragraph separators, spaces other than " ", surrogates, unassigned and
    private-use code points) as its Python escape (``\\n``, ``\\x1b``,
    ``\\x9b``, ``\\u202e``, ``\\u2028``); printable text, Korean included, as it is."""
    if text.isprintable():
        return text  # the common case, and cheap
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def peer_quoted(text: str) -> str:
    """``peer_text`` in single quotes, a quote inside escaped: ``'it\\'s.pdf'``."""
    return "'" + peer_text(text).replace("'", "\\'") + "'"


class SafeFormatter(logging.Formatter):
    """Escapes every unprintable character of a formatted message, whatever
    its call site did. A traceback the server logs (after its message) keeps
    its newlines, but every line of it is indented and escaped: an
    exception's message may quote a peer, and no line of it may pass for a
    line of the log."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = peer_text(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: Any) -> str:
        return "\n".join(
            "  " + peer_text(line) for line in super().formatException(ei).split("\n")
        )


def setup_logging(level: str = "INFO") -> None:
    """Send the server's log to stdout, one timestamped line per event."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        SafeFormatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    log.handlers[:] = [handler]
    log.setLevel(level.upper())
    log.propagate = False
    # asyncio's own reports (an exception in a callback) go through it too,
    # instead of unformatted to stderr.
    loop_log = logging.getLogger("asyncio")
    loop_log.handlers[:] = [handler]
    loop_log.setLevel(logging.WARNING)
    loop_log.propagate = False
