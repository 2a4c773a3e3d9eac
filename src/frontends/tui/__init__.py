"""chat-tui: the terminal client (Textual), a thin layer over the client session."""

from __future__ import annotations


def main() -> None:
    # Imported here: ``--help`` and option errors need no Textual start-up.
    from .cli import main as run

    run()


__all__ = ["main"]
