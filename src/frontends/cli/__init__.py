"""``chat-cli``: a thin click layer over ``chatproto.session`` (no socket code)."""

from .app import cli, main
from .exitcodes import ExitCode

__all__ = ["ExitCode", "cli", "main"]
