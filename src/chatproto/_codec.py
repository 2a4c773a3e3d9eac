"""Encoding and decoding: the generated codec first, the reference codec when it refuses.

The one place where the two codecs meet; ``connection.py`` and every other
caller go through here. A generated function (``_generated_codec.py``)
handles the happy case and signals anything else with ``FastPathFailed`` or
``FieldError``; then the reference codec (``_reference_codec.py``) decides and
raises the precise ``LocalProtocolError`` or ``RemoteProtocolError``. Any
other exception from a generated function is a bug in the generator and
propagates: it must not quietly turn every call into the slow path.
"""

from __future__ import annotations

from . import _reference_codec as reference
from ._generated_codec import DECODERS, ENCODERS, FAST_PATH_SIGNALS
from .errors import LocalProtocolError
from .events import Event
from .wire import LAYOUT_BY_CLASS, Layout

# Bound once: these run for every frame sent and received.
_generated_encoder = ENCODERS.get
_generated_decoders = DECODERS


def encode_event(event: Event) -> bytes:
    """The frame for ``event``, with no connection state involved.

    Raises ``LocalProtocolError`` for an event that is not sent on the wire or
    has an invalid field or value.
    """
    encode = _generated_encoder(type(event))
    if encode is None:
        raise LocalProtocolError(f"{type(event).__name__} is not sent on the wire")
    try:
        return encode(event)
    except FAST_PATH_SIGNALS:
        return reference.encode(LAYOUT_BY_CLASS[type(event)], event)


def decode_payload(layout: Layout, payload: bytes) -> Event:
    """The event one payload of ``layout`` carries; raises ``RemoteProtocolError``."""
    try:
        return _generated_decoders[layout](payload)
    except FAST_PATH_SIGNALS:
        return reference.decode(layout, payload)


__all__ = ["decode_payload", "encode_event"]
