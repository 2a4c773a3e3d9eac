"""The server log: timestamped lines on stdout, in the original's spirit.

Never log a password or a file's content: log user names, reasons and sizes.
"""

from __future__ import annotations

import logging
import sys

LOGGER_NAME = "chatserver"
log = logging.getLogger(LOGGER_NAME)


def setup_logging(level: str = "INFO") -> None:
    """Send the server's log to stdout, one timestamped line per event."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    log.handlers[:] = [handler]
    log.setLevel(level.upper())
    log.propagate = False
