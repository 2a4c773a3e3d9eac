"""Straight-line encoders and decoders generated from the layout table.

The reference codec (``_reference_codec.py``) loops over a layout's fields and
says precisely what is wrong. A chat server encodes and decodes hundreds of
thousands of messages a second, and those loops cost three times what the
work itself does; so, as ``attrs`` and ``namedtuple`` do, we generate one flat
function per message from the same table, ``wire.LAYOUTS``.

A generated function handles the happy case only. For any other input it
raises ``FastPathFailed``, or ``FieldError`` from a field check it shares with
the reference codec (``FAST_PATH_SIGNALS``), and ``_codec.py`` asks the
reference codec, which decides and gives the precise error. It raises nothing
else for bad input, so any other exception out of it is a bug in this module,
and ``_codec.py`` lets it through.

The source of each layout's functions is kept in ``linecache`` under a file
name of its own (``<chatproto generated codec ChatMessage>``), as attrs does,
so a traceback through generated code shows its lines.
"""

from __future__ import annotations

import itertools
import linecache
import struct
from collections.abc import Callable
from typing import Any, NamedTuple

from . import fields as f
from .events import Event
from .wire import LAYOUTS, Layout

Encoder = Callable[[Event], bytes]
Decoder = Callable[[bytes], Event]


class FastPathFailed(Exception):
    """Raised inside a generated function: the input is not the happy case."""


#: What a generated function raises for input it does not handle.
FAST_PATH_SIGNALS: tuple[type[Exception], ...] = (FastPathFailed, f.FieldError)


class GeneratedCodec(NamedTuple):
    """The two functions generated for one layout, and where their source is kept."""

    encode: Encoder
    decode: Decoder
    filename: str
    source: str


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


def _no_check(value: object) -> None:
    pass


#: Kinds carried as plain UTF-8 with no check beyond their length: inlined.
_PLAIN_TEXT = (f.TEXT, f.MESSAGE, f.SOFTWARE)


def compile_layout(layout: Layout) -> GeneratedCodec:
    """Generate, compile and keep the source of the encoder and decoder of ``layout``."""
    namespace: dict[str, Any] = {
        "FastPathFailed": FastPathFailed,
        "name_from_bytes": f.name_from_bytes,
        "name_to_bytes": f.name_to_bytes,
        "target_from_bytes": f.target_from_bytes,
        "target_to_bytes": f.target_to_bytes,
        "strict_bool": _strict_bool,
        "sha256": _sha256,
        "data_bytes": _data,
        "cls": layout.event_class,
        "rule": layout.rule,
        "unpack_from": layout.struct.unpack_from,
        "pack": struct.Struct("!BI" + layout.struct.format[1:]).pack,
        "struct_error": struct.error,
    }
    source = _encoder_source(layout, namespace) + "\n\n" + _decoder_source(layout, namespace)
    filename = _keep_source(layout.event_class.__name__, source)
    exec(compile(source, filename, "exec"), namespace)
    return GeneratedCodec(namespace["encode"], namespace["decode"], filename, source)


def _keep_source(name: str, source: str) -> str:
    """Register ``source`` with ``linecache`` under a file name no other source has."""
    lines = source.splitlines(True)
    for attempt in itertools.count(1):
        suffix = "" if attempt == 1 else f" #{attempt}"
        filename = f"<chatproto generated codec {name}{suffix}>"
        entry = (len(source), None, lines, filename)
        # mtime None: ``linecache.checkcache`` keeps the entry (no file to go stale).
        if linecache.cache.setdefault(filename, entry) == entry:
            return filename
    raise AssertionError("unreachable")


def _encoder_source(layout: Layout, ns: dict[str, Any]) -> str:
    lines = ["def encode(event):"]
    fixed_args = []
    for i, (name, kind) in enumerate(layout.fixed):
        if kind is f.BOOL:
            fixed_args.append(f"strict_bool(event.{name})")
        elif kind in f.ENUM_KINDS:
            enum_type, codes, _ = f.ENUM_KINDS[kind]
            ns[f"enum{i}"], ns[f"code{i}"] = enum_type, codes
            lines.append(f"    f{i} = event.{name}")
            lines.append(f"    if type(f{i}) is not enum{i}: raise FastPathFailed")
            fixed_args.append(f"code{i}[f{i}]")
        elif kind is f.SHA256:
            fixed_args.append(f"sha256(event.{name})")
        else:
            # The range is checked by ``pack`` below.
            lines.append(f"    f{i} = event.{name}")
            lines.append(f"    if type(f{i}) is not int: raise FastPathFailed")
            fixed_args.append(f"f{i}")
    parts = []
    for i, (name, kind) in enumerate(layout.variable):
        if kind is f.NAME:
            lines.append(f"    b{i} = name_to_bytes(event.{name})")
        elif kind is f.OPTIONAL_NAME:
            lines.append(f"    v{i} = event.{name}")
            lines.append(f"    b{i} = b'' if v{i} is None else name_to_bytes(v{i})")
        elif kind is f.TARGET:
            lines.append(f"    v{i} = event.{name}")
            lines.append(f"    b{i} = b'' if v{i} is None else target_to_bytes(v{i})")
        elif kind in _PLAIN_TEXT:
            lines += [
                f"    v{i} = event.{name}",
                f"    if type(v{i}) is not str: raise FastPathFailed",
                "    try:",
                f"        b{i} = v{i}.encode()",
                "    except UnicodeEncodeError:",
                "        raise FastPathFailed from None",
            ]
        else:
            ns[f"check{i}"] = kind.check or _no_check
            ns[f"to_bytes{i}"] = kind.to_bytes
            lines.append(f"    v{i} = event.{name}")
            lines.append(f"    check{i}(v{i})")
            lines.append(f"    b{i} = to_bytes{i}(v{i})")
        lines.append(f"    if len(b{i}) > {kind.max_bytes}: raise FastPathFailed")
        parts.append(f"b{i}")
    if layout.ends_with_data:
        lines.append(f"    tail = data_bytes(event.{layout.fields[-1][0]})")
        parts.append("tail")
    if layout.rule is not None:
        # Last: a rule may assume its fields have the right types.
        lines.append("    rule(event)")
    size = " + ".join([str(layout.fixed_size)] + [f"len({p})" for p in parts])
    lengths = [f"len(b{i})" for i in range(len(layout.variable))]
    args = ", ".join([str(layout.type_code), size, *fixed_args, *lengths])
    lines += [
        "    try:",
        f"        head = pack({args})",
        "    except struct_error:",
        "        raise FastPathFailed from None  # an integer out of its range",
        f"    return b''.join((head, {''.join(p + ', ' for p in parts)}))",
    ]
    return "\n".join(lines) + "\n"


def _decoder_source(layout: Layout, ns: dict[str, Any]) -> str:
    n_fixed = len(layout.fixed)
    n_var = len(layout.variable)
    targets = [f"f{i}" for i in range(n_fixed)] + [f"n{i}" for i in range(n_var)]
    lines = [
        "def decode(payload):",
        "    size = len(payload)",
        f"    if size < {layout.fixed_size}: raise FastPathFailed",
    ]
    if targets:
        lines.append(f"    {', '.join(targets)}, = unpack_from(payload)")
    for i, (_, kind) in enumerate(layout.fixed):
        if kind is f.BOOL:
            lines.append(f"    if f{i} > 1: raise FastPathFailed")
            lines.append(f"    f{i} = f{i} == 1")
        elif kind in f.ENUM_KINDS:
            ns[f"by_code{i}"] = f.ENUM_KINDS[kind][2]
            lines.append(f"    f{i} = by_code{i}.get(f{i})")
            lines.append(f"    if f{i} is None: raise FastPathFailed")
    position = str(layout.fixed_size)
    values = [f"f{i}" for i in range(n_fixed)]
    for i, (_, kind) in enumerate(layout.variable):
        lines.append(f"    if n{i} > {kind.max_bytes}: raise FastPathFailed")
        lines.append(f"    e{i} = {position} + n{i}")
        raw = f"payload[{position}:e{i}]"
        if kind is f.NAME:
            lines.append(f"    v{i} = name_from_bytes({raw})")
        elif kind is f.OPTIONAL_NAME:
            lines.append(f"    v{i} = name_from_bytes({raw}) if n{i} else None")
        elif kind is f.TARGET:
            lines.append(f"    v{i} = target_from_bytes({raw}) if n{i} else None")
        elif kind in _PLAIN_TEXT:
            lines += [
                "    try:",
                f"        v{i} = {raw}.decode()",
                "    except UnicodeDecodeError:",
                "        raise FastPathFailed from None",
            ]
        else:
            ns[f"check{i}"] = kind.check or _no_check
            ns[f"from_bytes{i}"] = kind.from_bytes
            lines.append(f"    v{i} = from_bytes{i}({raw})")
            lines.append(f"    check{i}(v{i})")
        values.append(f"v{i}")
        position = f"e{i}"
    # A field that ran past the end was cut short by its slice: caught here.
    if layout.ends_with_data:
        lines.append(f"    if {position} > size: raise FastPathFailed")
        values.append(f"payload[{position}:]")
    else:
        lines.append(f"    if {position} != size: raise FastPathFailed")
    if layout.argument_order is not None:
        values = [values[i] for i in layout.argument_order]
    if layout.rule is None:
        lines.append(f"    return cls({', '.join(values)})")
    else:
        lines.append(f"    event = cls({', '.join(values)})")
        lines.append("    rule(event)")
        lines.append("    return event")
    return "\n".join(lines) + "\n"


#: The generated functions of every layout in ``wire.LAYOUTS``, compiled at import.
CODECS: dict[Layout, GeneratedCodec] = {layout: compile_layout(layout) for layout in LAYOUTS}
#: What ``_codec.py`` calls first: the encoder by event class, the decoder by layout.
ENCODERS: dict[type[Event], Encoder] = {
    layout.event_class: codec.encode for layout, codec in CODECS.items()
}
DECODERS: dict[Layout, Decoder] = {layout: codec.decode for layout, codec in CODECS.items()}
