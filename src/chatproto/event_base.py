"""The base class of every protocol event, on its own so the event modules share it.

``events.py`` re-exports the room events of ``room_events.py``, so neither
can hold the base that both subclass without an import cycle; this module
imports nothing of ours. Import ``Event`` from ``chatproto.events``, its
public home.
"""

from __future__ import annotations


class Event:
    """Base class of every protocol event."""

    __slots__ = ()


__all__ = ["Event"]
