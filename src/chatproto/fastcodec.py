"""Straight-line encoders and decoders compiled from the layout table.

``wire.Layout`` describes each message and holds a generic, loop-driven codec
that is the reference and gives precise error messages. A chat server encodes
and decodes hundreds of thousands of these a second, and the generic loops
cost three times what the work itself does; so, as ``attrs`` and
``namedtuple`` do, we generate one flat function per message from the same
table. Whenever a fast function raises, the caller re-runs the reference
codec to produce the precise error, so the two never disagree on errors.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import fields as f

if TYPE_CHECKING:
    from .events import Event
    from .wire import Layout

FastEncoder = Callable[["Event", int], bytes]
FastDecoder = Callable[[bytes, int], "Event"]

class FastPathFailed(Exception):
    """Raised inside a fast function; the reference codec says why."""


#: Validated user names, both ways, cached (fields.py): names repeat constantly.
name_from_bytes = f.name_from_bytes
name_to_bytes = f.name_to_bytes


def _strict_bool(value: object) -> int:
    if value is True:
        return 1
    if value is False:
        return 0
    raise FastPathFailed


def _sha256(value: object) -> bytes:
    if type(value) is not bytes or len(value) != 32:
        raise FastPathFailed
    return value


def _data(value: object) -> bytes:
    if type(value) is bytes:
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise FastPathFailed


def _fail() -> None:
    raise FastPathFailed


def compile_layout(layout: Layout) -> tuple[FastEncoder, FastDecoder]:
    """Generate the encode and decode functions of ``layout``."""
    namespace: dict[str, Any] = {
        "FastPathFailed": FastPathFailed,
        "name_from_bytes": name_from_bytes,
        "name_to_bytes": name_to_bytes,
        "strict_bool": _strict_bool,
        "sha256": _sha256,
        "data_bytes": _data,
        "fail": _fail,
        "cls": layout.event_class,
        "rule": layout.rule,
        "presence_code": f._PRESENCE_CODES,
        "presence_by_code": f._PRESENCE_BY_CODE,
        "unpack_from": layout.struct.unpack_from,
        "pack": struct.Struct("!BI" + layout.struct.format[1:]).pack,
    }
    enc = _encoder_source(layout, namespace)
    dec = _decoder_source(layout, namespace)
    exec(compile(enc + "\n" + dec, f"<chatproto codec {layout.event_class.__name__}>", "exec"),
         namespace)
    return namespace["encode"], namespace["decode"]


def _encoder_source(layout: Layout, ns: dict[str, Any]) -> str:
    lines = ["def encode(event, max_text):"]
    if layout.rule is not None:
        lines.append("    rule(event)")
    fixed_args = []
    for i, (name, kind) in enumerate(layout.fixed):
        if kind is f.BOOL:
            fixed_args.append(f"strict_bool(event.{name})")
        elif kind is f.PRESENCE:
            fixed_args.append(f"presence_code[event.{name}]")
        elif kind is f.SHA256:
            fixed_args.append(f"sha256(event.{name})")
        else:
            lines.append(f"    f{i} = event.{name}")
            lines.append(f"    if type(f{i}) is not int: fail()")
            fixed_args.append(f"f{i}")
    parts = []
    for i, (name, kind) in enumerate(layout.variable):
        limit = "max_text" if kind is f.TEXT else str(kind.max_bytes)
        if kind is f.NAME:
            lines.append(f"    b{i} = name_to_bytes(event.{name})")
        elif kind is f.OPTIONAL_NAME:
            lines.append(f"    v{i} = event.{name}")
            lines.append(f"    b{i} = b'' if v{i} is None else name_to_bytes(v{i})")
        elif kind in (f.TEXT, f.MESSAGE, f.SOFTWARE):
            lines.append(f"    v{i} = event.{name}")
            lines.append(f"    if type(v{i}) is not str: fail()")
            lines.append(f"    b{i} = v{i}.encode()")
        else:
            ns[f"check{i}"] = kind.check or (lambda value: None)
            ns[f"to_bytes{i}"] = kind.to_bytes
            lines.append(f"    v{i} = event.{name}")
            lines.append(f"    check{i}(v{i})")
            lines.append(f"    b{i} = to_bytes{i}(v{i})")
        lines.append(f"    if len(b{i}) > {limit}: fail()")
        parts.append(f"b{i}")
    if layout.trailing_data:
        lines.append(f"    tail = data_bytes(event.{layout.fields[-1][0]})")
        parts.append("tail")
    size = " + ".join([str(layout.fixed_size)] + [f"len({p})" for p in parts])
    lengths = [f"len(b{i})" for i in range(len(layout.variable))]
    args = ", ".join([str(layout.type_code), size, *fixed_args, *lengths])
    lines.append(f"    return b''.join((pack({args}), {''.join(p + ', ' for p in parts)}))")
    return "\n".join(lines)


def _decoder_source(layout: Layout, ns: dict[str, Any]) -> str:
    n_fixed = len(layout.fixed)
    n_var = len(layout.variable)
    targets = [f"f{i}" for i in range(n_fixed)] + [f"n{i}" for i in range(n_var)]
    lines = [
        "def decode(payload, max_text):",
        "    size = len(payload)",
        f"    if size < {layout.fixed_size}: fail()",
    ]
    if targets:
        lines.append(f"    {', '.join(targets)}, = unpack_from(payload)")
    for i, (_, kind) in enumerate(layout.fixed):
        if kind is f.BOOL:
            lines.append(f"    if f{i} > 1: fail()")
            lines.append(f"    f{i} = f{i} == 1")
        elif kind is f.PRESENCE:
            lines.append(f"    f{i} = presence_by_code[f{i}]")
    position = str(layout.fixed_size)
    values = [f"f{i}" for i in range(n_fixed)]
    for i, (_, kind) in enumerate(layout.variable):
        limit = "max_text" if kind is f.TEXT else str(kind.max_bytes)
        lines.append(f"    if n{i} > {limit}: fail()")
        lines.append(f"    e{i} = {position} + n{i}")
        raw = f"payload[{position}:e{i}]"
        if kind is f.NAME:
            lines.append(f"    v{i} = name_from_bytes({raw})")
        elif kind is f.OPTIONAL_NAME:
            lines.append(f"    v{i} = name_from_bytes({raw}) if n{i} else None")
        elif kind in (f.TEXT, f.MESSAGE, f.SOFTWARE):
            lines.append(f"    v{i} = {raw}.decode()")
        else:
            ns[f"check{i}"] = kind.check or (lambda value: None)
            ns[f"from_bytes{i}"] = kind.from_bytes
            lines.append(f"    v{i} = from_bytes{i}({raw})")
            lines.append(f"    check{i}(v{i})")
        values.append(f"v{i}")
        position = f"e{i}"
    if layout.trailing_data:
        lines.append(f"    if {position} > size: fail()")
        values.append(f"payload[{position}:]")
    else:
        lines.append(f"    if {position} != size: fail()")
    if layout._order is not None:
        values = [values[i] for i in layout._order]
    if layout.rule is None:
        lines.append(f"    return cls({', '.join(values)})")
    else:
        lines.append(f"    event = cls({', '.join(values)})")
        lines.append("    rule(event)")
        lines.append("    return event")
    return "\n".join(lines)
