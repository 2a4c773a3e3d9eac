"""The generated codec and the reference codec are two paths to one verdict.

``_codec`` calls the generated function first and the reference codec only when the
generated one refuses with its own signals (``FAST_PATH_SIGNALS``). So the generated
functions must never accept what the reference refuses, must produce the same bytes and
events, must refuse only with those signals, and anything else they raise (a bug in the
generator) must reach the caller instead of quietly becoming the slow path. Their source
is kept in ``linecache``, so such a bug's traceback shows the generated line.
"""

from __future__ import annotations

import ast
import linecache
import struct
import traceback
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatproto import LocalProtocolError, RemoteProtocolError, encode_event
from chatproto import _generated_codec as generated
from chatproto import _reference_codec as reference
from chatproto import events as ev
from chatproto._codec import decode_payload
from chatproto.fields import (
    BOOL,
    ENUM_KINDS,
    FILENAME,
    LOGIN_NAME,
    MAX_UNSIGNED,
    MESSAGE,
    PASSWORD,
    SHA256,
    SOFTWARE,
    TEXT,
    U64,
)
from chatproto.limits import HEADER_SIZE, RESUME_TOKEN_BYTES
from chatproto.wire import LAYOUT_BY_CLASS, LAYOUTS, Layout

from .strategies import EVENT_STRATEGIES
from .support import logged_in_pair

SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
EVENT_CLASSES = sorted(EVENT_STRATEGIES, key=lambda cls: cls.__name__)
PACKAGE = Path(generated.__file__).resolve().parent


def _integer_fields(layout: Layout) -> list[tuple[str, int]]:
    """The integer fields of ``layout`` and the largest value of each one's wire type."""
    return [(name, MAX_UNSIGNED[kind.struct_code]) for name, kind in layout.fixed
            if kind not in (BOOL, SHA256) and kind not in ENUM_KINDS]


def _whole_range(largest: int) -> st.SearchStrategy[int]:
    """Every value of an unsigned wire type, its edges and its top bit drawn often."""
    top = (largest + 1) // 2
    return st.integers(0, largest) | st.sampled_from([0, 1, top - 1, top, largest - 1, largest])


@st.composite
def full_range_events(draw: st.DrawFn, event_class: type[ev.Event]) -> ev.Event:
    """A valid event of ``event_class`` whose integer fields then take any value of their
    wire type (all 64 bits of a u64), including values a rule (rules.py) refuses."""
    event = draw(EVENT_STRATEGIES[event_class])
    changes = {name: draw(_whole_range(largest))
               for name, largest in _integer_fields(LAYOUT_BY_CLASS[event_class])
               if draw(st.booleans())}
    return attrs.evolve(event, **changes)


def _encode_verdict(encode: Any, *args: Any) -> bytes | tuple[str, str]:
    try:
        frame: bytes = encode(*args)
    except LocalProtocolError as exc:
        return exc.code, exc.message
    return frame


def _decode_verdict(decode: Any, layout: Layout, payload: bytes) -> ev.Event | str:
    try:
        event: ev.Event = decode(layout, payload)
    except RemoteProtocolError as exc:
        return exc.code
    return event


def _generated_encode(event: ev.Event) -> bytes | None:
    """The generated encoder's frame, or None if it refused (with its own signals only)."""
    try:
        return generated.ENCODERS[type(event)](event)
    except generated.FAST_PATH_SIGNALS:
        return None


def _generated_decode(layout: Layout, payload: bytes) -> ev.Event | None:
    try:
        return generated.DECODERS[layout](payload)
    except generated.FAST_PATH_SIGNALS:
        return None


# -- valid events: the same bytes, and each path decodes the other's -----------------------


@pytest.mark.parametrize("event_class", EVENT_CLASSES, ids=lambda cls: cls.__name__)
@given(data=st.data())
@SETTINGS
def test_both_paths_encode_every_valid_event_alike_and_decode_each_other(
    event_class: type[ev.Event], data: st.DataObject
) -> None:
    event = data.draw(EVENT_STRATEGIES[event_class])
    layout = LAYOUT_BY_CLASS[event_class]
    fast = generated.ENCODERS[event_class](event)  # no signal: a valid event is the happy case
    slow = reference.encode(layout, event)
    assert fast == slow
    assert reference.decode(layout, fast[HEADER_SIZE:]) == event
    assert generated.DECODERS[layout](slow[HEADER_SIZE:]) == event


@pytest.mark.parametrize("event_class", EVENT_CLASSES, ids=lambda cls: cls.__name__)
@given(data=st.data())
@SETTINGS
def test_both_paths_agree_over_the_whole_range_of_every_integer_field(
    event_class: type[ev.Event], data: st.DataObject
) -> None:
    event = data.draw(full_range_events(event_class))
    layout = LAYOUT_BY_CLASS[event_class]
    verdict = _encode_verdict(reference.encode, layout, event)
    fast = _generated_encode(event)
    assert fast is None or fast == verdict
    assert _encode_verdict(encode_event, event) == verdict
    if isinstance(verdict, bytes):
        payload = verdict[HEADER_SIZE:]
        assert generated.DECODERS[layout](payload) == event
        assert reference.decode(layout, payload) == event


def test_the_largest_u64_goes_through_the_generated_path() -> None:
    largest = 2**64 - 1
    event = ev.ChatMessage(largest, largest, largest, "bob", None, "hi")
    frame = generated.ENCODERS[ev.ChatMessage](event)
    assert frame == reference.encode(LAYOUT_BY_CLASS[ev.ChatMessage], event)
    assert generated.DECODERS[LAYOUT_BY_CLASS[ev.ChatMessage]](frame[HEADER_SIZE:]) == event


# -- values of the wrong type: the same verdict, and only the fast path's signals ----------


class _Str(str):
    pass


#: Values of every type a caller might pass, the awkward ones drawn often.
_TRICKY: list[Any] = [
    None, True, False, 0, -1, 2**64, 2**70, 1.5, float("nan"), "", "a/b", "개구리", "x" * 300,
    "\ud800", "a\udfff", _Str("hi"), _Str("\ud800"), b"", bytes(32), bytearray(32),
    memoryview(b"ab"), (), [], {}, [[]], ({"x": 1},), object(),
    *ev.PresenceState, *ev.ParticipantState, ev.RejectReason.NOT_FOUND,
    (ev.Participant("bob"), ev.Participant("개구리", ev.ParticipantState.DEACTIVATED)),
    [ev.Participant("bob")], (ev.Participant("a b"),), (ev.Participant(_Str("bob")),),
    *[(ev.Participant(name, state),) for name, state in
      [("bob", "active"), ("bob", None), (3, ev.ParticipantState.ACTIVE), ("bob", [1])]],
]
_ODD_VALUES = st.one_of(
    st.sampled_from(_TRICKY),
    st.integers(-(2**70), 2**70),
    st.text(max_size=8),
    st.text(max_size=8).map(_Str),
    st.binary(max_size=40),
)


@pytest.mark.parametrize("event_class", EVENT_CLASSES, ids=lambda cls: cls.__name__)
@given(data=st.data())
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_odd_field_values_get_the_same_verdict_on_both_paths(
    event_class: type[ev.Event], data: st.DataObject
) -> None:
    """A valid event with one to three fields replaced by values of any type: the generated
    encoder refuses with its own signals only (anything else fails here) or gives the
    reference's bytes, and ``encode_event`` says exactly what the reference says."""
    event = data.draw(EVENT_STRATEGIES[event_class])
    names = [field.name for field in attrs.fields(event_class)]  # type: ignore[arg-type]
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    event = attrs.evolve(event, **{name: data.draw(_ODD_VALUES) for name in chosen})
    _check_same_verdict(event)


@pytest.mark.parametrize("event_class", EVENT_CLASSES, ids=lambda cls: cls.__name__)
@given(data=st.data())
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_awkward_value_in_every_field_gets_the_same_verdict(
    event_class: type[ev.Event], data: st.DataObject
) -> None:
    event = data.draw(EVENT_STRATEGIES[event_class])
    for field in attrs.fields(event_class):  # type: ignore[arg-type]
        for value in _TRICKY:
            _check_same_verdict(attrs.evolve(event, **{field.name: value}))


def _check_same_verdict(event: ev.Event) -> None:
    verdict = _encode_verdict(reference.encode, LAYOUT_BY_CLASS[type(event)], event)
    fast = _generated_encode(event)  # raises anything but the fast path's own signals
    assert fast is None or fast == verdict, f"the generated encoder accepted {event!r}"
    assert _encode_verdict(encode_event, event) == verdict


# -- arbitrary payloads: the same verdict on both paths -------------------------------------


def _unchecked_payload(layout: Layout, event: ev.Event, raw_values: dict[str, bytes]) -> bytes:
    """The payload of ``event`` packed by hand, with no rule (rules.py) run on it, and the
    bytes of the variable fields named in ``raw_values`` replaced."""
    fixed = []
    for name, kind in layout.fixed:
        value = getattr(event, name)
        fixed.append(ENUM_KINDS[kind][1][value] if kind in ENUM_KINDS else int(value)
                     if kind is BOOL else value)
    raw = []
    for name, kind in layout.variable:
        assert kind.to_bytes is not None
        raw.append(raw_values.get(name) or kind.to_bytes(getattr(event, name)))
    tail = getattr(event, layout.fields[-1][0]) if layout.ends_with_data else b""
    return layout.struct.pack(*fixed, *map(len, raw)) + b"".join(raw) + tail


#: Values for one slot of the struct part: small ones (booleans, presence codes, lengths
#: near zero) and the largest of each size (taken modulo the slot's size).
_EDGES = [0, 1, 2, 3, 4, 5, 127, 128, 255, 256, 2**16 - 1, 2**32 - 1, 2**64 - 1]
#: Variable kinds whose only limit is their length, so that any bytes "a" of it are valid.
_LENGTH_ONLY = (LOGIN_NAME, MESSAGE, PASSWORD, SOFTWARE, TEXT, FILENAME)


def _struct_slots(layout: Layout) -> list[tuple[int, int]]:
    """Where each value of the struct part (fields, then length prefixes) starts, and its size."""
    codes = [kind.struct_code for _, kind in (*layout.fixed, *layout.variable)]
    return [(struct.calcsize("!" + "".join(codes[:i])), struct.calcsize("!" + codes[i]))
            for i in range(len(codes))]


def _with_slot(payload: bytes, slot: tuple[int, int], value: int) -> bytes:
    start, size = slot
    packed = (value % 2 ** (8 * size)).to_bytes(size, "big")
    return payload[:start] + packed + payload[start + size :]


@st.composite
def payloads(draw: st.DrawFn, layout: Layout) -> bytes:
    """Bytes for ``layout``: random, or a payload whose integers take any value of their
    wire type (so some break a rule) with a few bytes changed, mostly in the fixed part."""
    if draw(st.integers(0, 3)) == 0:
        return draw(st.binary(max_size=300))
    event = draw(full_range_events(layout.event_class))
    if "participants" in attrs.fields_dict(layout.event_class) and draw(st.booleans()):
        event = attrs.evolve(event, participants=())
    # A text field filled to its limit, or one byte short of it or over it.
    fillable = [(name, kind.max_bytes) for name, kind in layout.variable if kind in _LENGTH_ONLY]
    raw_values = {}
    if fillable and draw(st.integers(0, 3)) == 0:
        name, limit = draw(st.sampled_from(fillable))
        raw_values[name] = b"a" * (limit + draw(st.sampled_from([-1, 0, 1])))
    data = bytearray(_unchecked_payload(layout, event, raw_values))
    slots = _struct_slots(layout)
    for _ in range(draw(st.integers(0, 3))):
        pos = draw(st.integers(0, min(len(data), layout.fixed_size + 2)) |
                   st.integers(0, len(data)))
        action = draw(st.sampled_from(["field", "set", "insert", "delete", "cut"]))
        if action == "field" and slots and len(data) >= layout.fixed_size:
            # One value of the struct part (a field or a length prefix), often at an edge.
            slot = draw(st.sampled_from(slots))
            data = bytearray(_with_slot(data, slot, draw(st.sampled_from(_EDGES) | st.integers())))
        elif action == "set" and pos < len(data):
            data[pos] = draw(st.sampled_from([0, 1, 2, 0x7F, 0x80, 0xC3, 0xED, 0xFF]))
        elif action == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=4))
        elif action == "delete":
            del data[pos : pos + draw(st.integers(1, 4))]
        elif action == "cut":
            del data[pos:]
    return bytes(data)


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.event_class.__name__)
@given(data=st.data())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_payloads_get_the_same_verdict_on_both_paths(
    layout: Layout, data: st.DataObject
) -> None:
    _check_same_decode_verdict(layout, data.draw(payloads(layout)))


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.event_class.__name__)
@given(data=st.data())
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_edge_value_of_every_struct_slot_gets_the_same_verdict(
    layout: Layout, data: st.DataObject
) -> None:
    payload = encode_event(data.draw(EVENT_STRATEGIES[layout.event_class]))[HEADER_SIZE:]
    for slot in _struct_slots(layout):
        for value in _EDGES:
            _check_same_decode_verdict(layout, _with_slot(payload, slot, value))


def _check_same_decode_verdict(layout: Layout, payload: bytes) -> None:
    verdict = _decode_verdict(reference.decode, layout, payload)
    assert _decode_verdict(decode_payload, layout, payload) == verdict
    # The generated decoder refuses exactly what the reference refuses.
    fast = _generated_decode(layout, payload)
    assert fast == (None if isinstance(verdict, str) else verdict)


# -- resume tokens: every length, both directions ---------------------------------------------


_TOKEN_EVENTS = [
    ev.Login("alice", "", 0, 0, bytes(RESUME_TOKEN_BYTES)),
    ev.LoginAccepted("alice", False, False, 0, resume_token=bytes(RESUME_TOKEN_BYTES)),
]


@pytest.mark.parametrize("event", _TOKEN_EVENTS, ids=lambda e: type(e).__name__)
@given(token=st.binary(max_size=RESUME_TOKEN_BYTES + 2))
@SETTINGS
def test_a_resume_token_of_any_length_gets_one_verdict_on_both_paths(
    event: ev.Event, token: bytes
) -> None:
    """Only 0 and RESUME_TOKEN_BYTES bytes are a token; any other length is refused
    alike by both encoders and, forged on the wire, by both decoders."""
    changed = attrs.evolve(event, resume_token=token)
    if isinstance(changed, ev.Login) and not token:
        changed = attrs.evolve(changed, password="pw")  # a password, or the rule refuses
    _check_same_verdict(changed)
    valid = len(token) in (0, RESUME_TOKEN_BYTES)
    assert isinstance(_encode_verdict(encode_event, changed), bytes) == valid
    layout = LAYOUT_BY_CLASS[type(event)]
    payload = _unchecked_payload(layout, changed, {"resume_token": token})
    _check_same_decode_verdict(layout, payload)
    verdict = _decode_verdict(reference.decode, layout, payload)
    assert (verdict == changed) if valid else (verdict == "invalid-field")


# -- a bug in generated code is not swallowed -----------------------------------------------


def _boom(*args: Any) -> Any:
    raise ZeroDivisionError("a bug in the generator")


_CHAT = ev.ChatMessage(1, 2, 3, "bob", None, "hi")
_CHAT_LAYOUT = LAYOUT_BY_CLASS[ev.ChatMessage]


def test_a_failing_generated_function_propagates(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = encode_event(_CHAT)
    client, server = logged_in_pair()
    monkeypatch.setitem(generated.ENCODERS, ev.ChatMessage, _boom)
    monkeypatch.setitem(generated.DECODERS, _CHAT_LAYOUT, _boom)
    for call in (lambda: encode_event(_CHAT), lambda: server.send(_CHAT),
                 lambda: decode_payload(_CHAT_LAYOUT, frame[HEADER_SIZE:])):
        with pytest.raises(ZeroDivisionError):
            call()
    client.receive_data(frame)
    with pytest.raises(ZeroDivisionError):
        client.next_event()


def test_a_bug_inside_a_generated_function_propagates(monkeypatch: pytest.MonkeyPatch) -> None:
    # Break a helper the real generated functions call, rather than replacing them.
    codec = generated.CODECS[_CHAT_LAYOUT]
    monkeypatch.setitem(codec.encode.__globals__, "name_to_bytes", _boom)
    monkeypatch.setitem(codec.decode.__globals__, "unpack_from", _boom)
    frame = reference.encode(_CHAT_LAYOUT, _CHAT)
    with pytest.raises(ZeroDivisionError):
        encode_event(_CHAT)
    with pytest.raises(ZeroDivisionError):
        decode_payload(_CHAT_LAYOUT, frame[HEADER_SIZE:])


# -- the generated source is kept -----------------------------------------------------------


def test_a_traceback_through_generated_code_shows_its_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    codec = generated.CODECS[_CHAT_LAYOUT]
    monkeypatch.setitem(codec.encode.__globals__, "pack", _boom)
    with pytest.raises(ZeroDivisionError) as info:
        encode_event(_CHAT)
    text = "".join(traceback.format_exception(info.value))
    assert 'File "<chatproto generated codec ChatMessage>", line ' in text
    assert "head = pack(17, " in text
    [frame] = [f for f in traceback.extract_tb(info.value.__traceback__)
               if f.filename == codec.filename]
    assert frame.name == "encode"
    assert frame.line is not None and frame.line.startswith("head = pack(17, ")
    assert linecache.getline(codec.filename, frame.lineno or 0).strip() == frame.line


def test_every_layout_keeps_its_own_source() -> None:
    linecache.checkcache()  # entries with no file to check survive it
    names = {codec.filename for codec in generated.CODECS.values()}
    assert len(names) == len(LAYOUTS)
    for layout, codec in generated.CODECS.items():
        assert codec.filename == f"<chatproto generated codec {layout.event_class.__name__}>"
        assert linecache.getlines(codec.filename) == codec.source.splitlines(True)
        assert codec.encode.__code__.co_filename == codec.filename


def test_compiling_a_layout_again_with_other_source_gets_another_file_name() -> None:
    layout = Layout(0x7F, ev.Ping, [("nonce", U64)])
    first = generated.compile_layout(layout)
    assert first.filename == generated.compile_layout(layout).filename  # same source
    other = Layout(0x7E, ev.Ping, layout.fields)
    assert generated.compile_layout(other).filename != first.filename
    assert first.filename != generated.CODECS[LAYOUT_BY_CLASS[ev.Ping]].filename


# -- one-way imports ------------------------------------------------------------------------


def _module_tree(name: str) -> ast.Module:
    return ast.parse((PACKAGE / name).read_text(encoding="utf-8"))


def test_the_layout_table_imports_no_codec() -> None:
    imported = {node.module for node in ast.walk(_module_tree("wire.py"))
                if isinstance(node, ast.ImportFrom)}
    assert not {"_codec", "_generated_codec", "_reference_codec"} & imported


def test_the_generated_codec_reads_no_private_name_of_wire_or_fields() -> None:
    tree = _module_tree("_generated_codec.py")
    aliases = {alias.asname or alias.name for node in ast.walk(tree)
               if isinstance(node, ast.ImportFrom) and node.level == 1 and not node.module
               for alias in node.names}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("wire", "fields"):
            assert not [a.name for a in node.names if a.name.startswith("_")]
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases | {"layout"}):
            assert not node.attr.startswith("_"), f"{node.value.id}.{node.attr}"


# -- the transient login: a password always ---------------------------------------------------


@given(name=st.text(max_size=40), password=st.text(max_size=40))
@SETTINGS
def test_a_transient_login_gets_one_verdict_on_both_paths(name: str, password: str) -> None:
    """Any name and password, the empty password (the rule of rules.py) included, encoded
    and forged on the wire: both paths agree, and only an empty password (or a name too
    long for the field) is refused."""
    event = ev.TransientLogin(name, password)
    _check_same_verdict(event)
    layout = LAYOUT_BY_CLASS[ev.TransientLogin]
    name_bytes, password_bytes = name.encode(), password.encode()
    payload = layout.struct.pack(len(name_bytes), len(password_bytes)) + name_bytes + (
        password_bytes)
    _check_same_decode_verdict(layout, payload)
    verdict = _decode_verdict(reference.decode, layout, payload)
    if len(name_bytes) > 128 or not password:
        assert verdict == "invalid-field"
    else:
        assert verdict == event
