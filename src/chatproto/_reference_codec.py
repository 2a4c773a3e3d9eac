"""The reference codec: a loop over a layout's fields, with precise errors.

It reads a ``wire.Layout`` as the table writes it and says exactly which field
is wrong and why: ``encode`` raises ``LocalProtocolError``, ``decode``
``RemoteProtocolError``, each with the ``ErrorCode`` the field check chose.
It is the codec that defines what is valid; ``_codec.py`` runs it whenever the
generated codec (``_generated_codec.py``) refuses its input, so the two never
differ in what they refuse or how.
"""

from __future__ import annotations

import struct
from typing import Any

from . import events as ev
from .errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from .fields import (
    BOOL,
    DATA,
    ENUM_KINDS,
    MAX_UNSIGNED,
    SHA256,
    FieldError,
)
from .wire import HEADER, Layout


def encode(layout: Layout, event: ev.Event) -> bytes:
    """The frame for ``event``; raises ``LocalProtocolError`` if a field is invalid."""
    try:
        return _encode(layout, event)
    except FieldError as exc:
        raise LocalProtocolError(
            f"cannot send {type(event).__name__}: {exc}", exc.code
        ) from None
    except (struct.error, AttributeError, TypeError, ValueError) as exc:
        raise LocalProtocolError(f"cannot send {type(event).__name__}: {exc}") from None


def decode(layout: Layout, payload: bytes) -> ev.Event:
    """Parse one payload of ``layout``; raises ``RemoteProtocolError`` if it is invalid."""
    try:
        return _decode(layout, payload)
    except FieldError as exc:
        raise RemoteProtocolError(
            f"invalid {layout.event_class.__name__}: {exc}", exc.code
        ) from None
    except (struct.error, ValueError, TypeError) as exc:
        raise RemoteProtocolError(
            f"invalid {layout.event_class.__name__}: {exc}", ErrorCode.MALFORMED
        ) from None


def _encode(layout: Layout, event: ev.Event) -> bytes:
    if layout.rule is not None:
        layout.rule(event)
    values: list[Any] = []
    for name, kind in layout.fixed:
        value = getattr(event, name)
        if kind is BOOL:
            if not isinstance(value, bool):
                raise FieldError(f"{name} must be a bool")
            value = int(value)
        elif kind in ENUM_KINDS:
            codes = ENUM_KINDS[kind][1]
            if value not in codes:
                raise FieldError(f"invalid {kind.name} state {value!r}")
            value = codes[value]
        elif kind is SHA256:
            if not isinstance(value, bytes) or len(value) != 32:
                raise FieldError(f"{name} must be 32 bytes")
        elif type(value) is not int or not 0 <= value <= MAX_UNSIGNED[kind.struct_code]:
            raise FieldError(f"{name} must be an int in the {kind.name} range, got {value!r}")
        values.append(value)
    parts: list[bytes] = []
    for name, kind in layout.variable:
        value = getattr(event, name)
        if kind.check is not None:
            kind.check(value)
        assert kind.to_bytes is not None
        raw = kind.to_bytes(value)
        if len(raw) > kind.max_bytes:
            raise FieldError(f"{name} is {len(raw)} bytes, the limit is {kind.max_bytes}")
        values.append(len(raw))
        parts.append(raw)
    if layout.ends_with_data:
        assert DATA.to_bytes is not None
        parts.append(DATA.to_bytes(getattr(event, layout.fields[-1][0])))
    payload = layout.struct.pack(*values) + b"".join(parts)
    return HEADER.pack(layout.type_code, len(payload)) + payload


def _decode(layout: Layout, payload: bytes) -> ev.Event:
    size = len(payload)
    if size < layout.fixed_size:
        raise FieldError(f"payload of {size} bytes is shorter than its fields", ErrorCode.MALFORMED)
    values = list(layout.struct.unpack_from(payload))
    for i, (_, kind) in enumerate(layout.fixed):
        if kind is BOOL:
            if values[i] > 1:
                raise FieldError("a boolean field is neither 0 nor 1")
            values[i] = values[i] == 1
        elif kind in ENUM_KINDS:
            state = ENUM_KINDS[kind][2].get(values[i])
            if state is None:
                raise FieldError(f"invalid {kind.name} state {values[i]}")
            values[i] = state
    pos = layout.fixed_size
    for index, (name, kind) in enumerate(layout.variable, start=layout.n_fixed):
        length = values[index]
        end = pos + length
        if end > size:
            raise FieldError(f"{name} runs past the end of the frame", ErrorCode.MALFORMED)
        if length > kind.max_bytes:
            raise FieldError(f"{name} is {length} bytes, over its limit")
        assert kind.from_bytes is not None
        value = kind.from_bytes(payload[pos:end])
        if kind.check is not None:
            kind.check(value)
        values[index] = value
        pos = end
    if layout.ends_with_data:
        values.append(payload[pos:])
    elif pos != size:
        raise FieldError(f"{size - pos} unexpected bytes after the last field", ErrorCode.MALFORMED)
    if layout.argument_order is not None:
        values = [values[i] for i in layout.argument_order]
    event = layout.event_class(*values)
    if layout.rule is not None:
        layout.rule(event)
    return event
