"""The corpus that keeps ``src/frontends/web/chatproto.js`` and the Python library in step.

Python computes, the JavaScript replays: the test vectors of docs/protocol.md (8.1, 8.2),
events drawn with the hypothesis strategies of ``tests/proto/strategies.py`` and their
frames, mutated frames with the verdict of Python's receive path, events Python refuses to
encode, client state machine runs (``corpus_states.py``), user names, file names and
SHA-256 inputs (``corpus_text.py``), and the layout table, limits and codes. Everything is
deterministic: hypothesis runs derandomized and every other choice comes from
``random.Random`` with a fixed seed.

JSON holds neither BigInt nor bytes, so both sides use one encoding: a u64 is a decimal
string, bytes (sha256, resume tokens, chunk data, frames) are hex, participants are
``[name, state]`` pairs and rooms ``[name, member_count, private, member]``; every other
value is its JSON self (None is null). An event is ``{"type": name, "fields": {...}}``.

    python tests/web/corpus.py OUT.json      # write a corpus (tests/web/js reads it)
    python tests/web/corpus.py --tables      # rewrite chatproto.js's Unicode tables
"""

from __future__ import annotations

import json
import random
import re
import struct
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import attrs
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

if __package__ in (None, ""):  # run as a script: make ``proto`` and ``web`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chatproto import events as ev
from chatproto import limits, names
from chatproto._codec import decode_payload, encode_event
from chatproto.buffer import ReceiveBuffer
from chatproto.errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from chatproto.state import State
from chatproto.wire import (
    DATA,
    HEADER,
    LAYOUT_BY_CLASS,
    LAYOUT_BY_CODE,
    LAYOUTS,
    MEMBERSHIP,
    PARTICIPANTS,
    PRESENCE,
    RESUME_TOKEN,
    ROOMS,
    SHA256,
    U64,
    Layout,
)
from proto.strategies import EVENT_STRATEGIES

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "protocol.md"
SEED = 20_240_517
T = TypeVar("T")

# -- the JSON encoding of events -------------------------------------------------------------


def value_to_json(kind: Any, value: Any) -> Any:
    if kind is U64:
        return str(value)
    if kind in (SHA256, RESUME_TOKEN, DATA):
        return bytes(value).hex()
    if kind is PARTICIPANTS:
        return [[p.name, str(p.state)] for p in value]
    if kind is ROOMS:
        return [[r.name, r.member_count, r.private, r.member] for r in value]
    if kind in (PRESENCE, MEMBERSHIP):
        return str(value)
    return value


def event_to_json(event: ev.Event) -> dict[str, Any]:
    layout = LAYOUT_BY_CLASS[type(event)]
    return {
        "type": type(event).__name__,
        "fields": {name: value_to_json(kind, getattr(event, name)) for name, kind in layout.fields},
    }


def _defaults(layout: Layout) -> dict[str, Any]:
    out = {}
    kinds = dict(layout.fields)
    for field in attrs.fields(layout.event_class):  # type: ignore[arg-type]
        if isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            out[field.name] = "len(participants)"
        elif field.default is not attrs.NOTHING:
            out[field.name] = value_to_json(kinds[field.name], field.default)
    return out


def layout_table() -> list[dict[str, Any]]:
    return [
        {
            "code": layout.type_code,
            "type": layout.event_class.__name__,
            "fields": [[name, kind.name] for name, kind in layout.fields],
            "defaults": _defaults(layout),
            "maxPayload": None if layout.ends_with_data else layout.max_payload,
        }
        for layout in LAYOUTS
    ]


def limit_table() -> dict[str, str]:
    """Every integer limit of limits.py and names.py, as decimal strings."""
    found = {}
    for module in (limits, names):
        for name in dir(module):
            value = getattr(module, name)
            if name.isupper() and not name.startswith("_") and type(value) is int:
                found[name] = str(value)
    return found


def code_tables() -> dict[str, dict[str, str]]:
    """The StrEnums of the codes, and the states (``State``, a plain Enum of strings)."""
    enums = (ErrorCode, ev.PresenceState, ev.ParticipantState, ev.LoginRejectReason,
             ev.RejectReason, ev.RequestRejectReason, ev.MembershipState, State)
    return {enum.__name__: {m.name: m.value for m in enum} for enum in enums}


# -- Python's verdict on one frame -----------------------------------------------------------


def python_decode(frame: bytes) -> ev.Event:
    """The event of one frame as Python's receive path sees it: the buffer (header checks,
    then the whole frame, the stream ending right after it), then the codec."""
    buffer = ReceiveBuffer(limits.DEFAULT_MAX_FRAME_SIZE, max_buffered=len(frame) + 1)
    buffer.feed(frame)
    buffer.feed(b"")
    got = buffer.next_frame()
    if got is None:
        raise RemoteProtocolError("the stream ended inside a frame", ErrorCode.TRUNCATED)
    if len(buffer):
        raise ValueError("more than one frame")
    return decode_payload(*got)


def verdict(frame: bytes) -> dict[str, Any]:
    try:
        event = python_decode(frame)
    except RemoteProtocolError as exc:
        return {"hex": frame.hex(), "error": exc.code}
    return {"hex": frame.hex(), "event": event_to_json(event),
            "reencodes": encode_event(event) == frame}


# -- drawing examples ----------------------------------------------------------------------


def draw(strategy: st.SearchStrategy[T], count: int) -> list[T]:
    """``count`` examples of ``strategy`` (fewer if it has fewer), the same every run."""
    found: list[T] = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value: T) -> None:
        found.append(value)

    collect()
    return found


def drawn_events(per_type: int) -> list[ev.Event]:
    return [event for cls in LAYOUT_BY_CLASS for event in draw(EVENT_STRATEGIES[cls], per_type)]


# -- mutated frames --------------------------------------------------------------------------


def _fixed_ints(layout: Layout) -> int:
    return struct.calcsize("!" + "".join(kind.struct_code for _, kind in layout.fixed))


def split_payload(layout: Layout, payload: bytes) -> tuple[bytes, list[bytes], bytes]:
    """A valid payload as (fixed fields, variable fields' bytes, trailing data)."""
    lengths = layout.struct.unpack_from(payload)[layout.n_fixed:]
    raws, pos = [], layout.fixed_size
    for length in lengths:
        raws.append(payload[pos : pos + length])
        pos += length
    return payload[: _fixed_ints(layout)], raws, payload[pos:]


def join_frame(layout: Layout, fixed: bytes, raws: list[bytes], data: bytes) -> bytes:
    prefixes = b"".join(struct.pack("!" + kind.struct_code, len(raw))
                        for (_, kind), raw in zip(layout.variable, raws, strict=True))
    payload = fixed + prefixes + b"".join(raws) + data
    return HEADER.pack(layout.type_code, len(payload)) + payload


_NOT_TEXT = (RESUME_TOKEN, PARTICIPANTS, ROOMS)
_BAD_TEXT = (b"a\xff", b"\xed\xa0\x80", b"\xc0\xaf", b"\xea\xb0", b"\xf4\x90\x80\x80",
             b"\xef\xbb\xbfab", b"a b", b"#general", b"#", b"A-", b"a\x00")
_BAD_LISTS = {
    PARTICIPANTS: (b"\x01", b"\x01\x05bob", b"\x03\x03bob", b"\x00\x03bob", b"\x01\x00",
                   b"\x01\x03b b", b"\x02\x03bob\x01\x02\xff\xfe"),
    ROOMS: (b"\x04\x00\x00\x00\x01\x03dev", b"\x00\x00\x00", b"\x03\x00\x00\x00\x01\x05dev",
            b"\x00\x00\x00\x00\x00\x00", b"\x01\xff\xff\xff\xff\x03#ab"),
}


def field_mutations(layout: Layout, frame: bytes) -> Iterator[bytes]:
    """The frame with one variable field rewritten: bad UTF-8, bad values, over its limit."""
    fixed, raws, data = split_payload(layout, frame[5:])
    for i, (_, kind) in enumerate(layout.variable):
        options: list[bytes] = [b""]
        if kind in _BAD_LISTS:
            options += [raws[i] + extra for extra in _BAD_LISTS[kind]]
        elif kind not in _NOT_TEXT:
            options += list(_BAD_TEXT)
        if kind.max_bytes < 20_000 and kind.max_bytes + 1 < 2 ** (8 * struct.calcsize(
                kind.struct_code)):
            options += [b"a" * kind.max_bytes, b"a" * (kind.max_bytes + 1)]
        for option in options:
            changed = list(raws)
            changed[i] = option
            yield join_frame(layout, fixed, changed, data)


def random_mutations(rng: random.Random, frame: bytes) -> Iterator[bytes]:
    payload = frame[5:]
    header = frame[:5]
    if payload:  # cut, with the header telling the truth, and without (the frame ends early)
        cut = rng.randrange(len(payload))
        yield header[:1] + struct.pack("!I", cut) + payload[:cut]
        yield frame[: 5 + cut]
    yield header[:1] + struct.pack("!I", len(payload) + 1) + payload + bytes([rng.randrange(256)])
    for _ in range(3):
        if payload:
            flipped = bytearray(payload)
            flipped[rng.randrange(len(payload))] = rng.randrange(256)
            yield header + bytes(flipped)
    yield frame[: rng.randrange(5)]


def header_cases() -> Iterator[bytes]:
    """Unknown types and lengths over each type's limit (refused before any body)."""
    for code in range(256):
        if code not in LAYOUT_BY_CODE:
            yield bytes([code]) + struct.pack("!I", code % 7)
    for layout in LAYOUTS:
        limit = layout.max_payload_for(limits.DEFAULT_MAX_FRAME_SIZE)
        yield HEADER.pack(layout.type_code, limit + 1)
        yield HEADER.pack(layout.type_code, 2**32 - 1)
        if limit < 20_000:
            yield HEADER.pack(layout.type_code, limit + 1) + bytes(limit + 1)


def frame_corpus(events: list[ev.Event], rng: random.Random) -> list[dict[str, Any]]:
    frames: list[bytes] = list(header_cases())
    for event in events:
        frame = encode_event(event)
        if len(frame) > 4096 and rng.random() < 0.8:
            continue  # big frames add bytes, not cases
        frames += random_mutations(rng, frame)
        if rng.random() < 0.25:
            frames += field_mutations(LAYOUT_BY_CLASS[type(event)], frame)
    return [verdict(frame) for frame in dict.fromkeys(frames)]


# -- events Python refuses to send ------------------------------------------------------------

_BAD_NAMES = ("", "a b", "a" * 33, "b\u043eb", "\ud800", "e\u0301\u0301", "\u02bcx", "a/b", "#x",
              "\u0661" + "2", "x\u200b")
_BAD_BY_KIND: dict[str, tuple[Any, ...]] = {
    "u16": (2**16, -1), "u32": (2**32, -1), "u64": (2**64, -1),
    "sha256": (bytes(31), bytes(33)), "resume-token": (bytes(31), bytes(33)),
    "name": _BAD_NAMES, "optional-name": _BAD_NAMES, "room": (*_BAD_NAMES, "general", "GENERAL"),
    "optional-room": _BAD_NAMES,
    "recipient": ("#general", "#General", "#", "#a b", "a b", "a" * 129, "\ud800", "#" + "a" * 33),
    "login-name": ("a" * 129, "\ud800", "가" * 43),
    "token": ("", "Bad", "a" * 33, "a--b", "-a", "\ud800"),
    "software": ("a" * 65, "\udc00"), "message": ("a" * 1025, "x\ud800y"),
    "password": ("a" * 1025, "\ud800"), "filename": ("", "a\x00b", "a" * 256, "\ud800"),
    "text": ("a" * 16_385, "\ud83d"), "query": ("", "a" * 257, "\ud800"),
    "presence": ("gone",), "membership": ("gone",),
}


def _bad_lists(event: ev.Event, name: str) -> list[Any]:
    if name == "participants":
        return [(ev.Participant("a b"),), (ev.Participant("bob", "gone"),)]  # type: ignore[arg-type]
    if name == "rooms":
        return [(ev.RoomInfo("dev", 2**32),), (ev.RoomInfo("a b", 1),),
                tuple(ev.RoomInfo(f"r{i}", 1) for i in range(1001))]
    return []


def refusal_corpus(events: list[ev.Event]) -> list[dict[str, Any]]:
    """Events with one bad field (or a broken value rule), and what ``encode_event`` says."""
    seen: set[str] = set()
    cases: list[ev.Event] = [
        ev.Hello(0, 2**20), ev.Hello(1, 2**20), ev.Hello(4, 65_599),
        ev.Login("a", "pw", resume_token=bytes(32)), ev.Login("a", ""), ev.TransientLogin("a", ""),
        ev.LoginAccepted("a", True, False, 0, (ev.Participant("a"),), participant_count=0),
        ev.LoginAccepted("a", True, False, 0, (), participant_count=65_536),
        ev.ParticipantList(()), ev.FileOffer(1, "a", 2**62 + 1, bytes(32)),
        ev.FileAvailable(1, 2, 3, "a", None, "b", 2**62 + 1, bytes(32)),
        ev.SearchHistory(1, "q", 0), ev.SearchHistory(1, "q", 101),
    ]
    for event in events:
        if type(event).__name__ in seen:
            continue
        seen.add(type(event).__name__)
        for name, kind in LAYOUT_BY_CLASS[type(event)].fields:
            bad = list(_BAD_BY_KIND.get(kind.name, ())) + _bad_lists(event, name)
            cases += [attrs.evolve(event, **{name: value}) for value in bad]  # type: ignore[misc]
    out = []
    for case in cases:
        try:
            out.append({"event": event_to_json(case), "hex": encode_event(case).hex()})
        except LocalProtocolError as exc:
            out.append({"event": event_to_json(case), "error": exc.code})
    return out


# -- the test vectors of docs/protocol.md section 8.1 -----------------------------------------


def valid_vectors() -> list[dict[str, Any]]:
    text = DOC.read_text(encoding="utf-8")
    found = re.findall(r"#### (Vector \d+: [^\n]*)\n\n```json\n(.*?)\n```", text, re.S)
    out = []
    for title, body in found:
        record = json.loads(body)
        cls = next(c for c in LAYOUT_BY_CLASS if c.__name__ == record["type"])
        kinds = dict(LAYOUT_BY_CLASS[cls].fields)
        fields = {name: str(value) if kinds[name] is U64 else value
                  for name, value in record["fields"].items()}
        frame = bytes.fromhex(record["hex"])
        # The document's notation is this encoding but for u64s: Python agrees.
        assert event_to_json(python_decode(frame))["fields"] == fields, title
        out.append({"title": title, "event": {"type": record["type"], "fields": fields},
                    "hex": frame.hex()})
    return out


def write_corpus(path: Path, per_type: int = 24) -> dict[str, Any]:
    from web.corpus_states import invalid_vectors, sequences
    from web.corpus_text import (
        filename_corpus,
        name_corpus,
        sha256_corpus,
        skeleton_chars,
        truncation_corpus,
    )

    rng = random.Random(SEED)
    events = drawn_events(per_type)
    corpus = {
        "layouts": layout_table(),
        "limits": limit_table(),
        "codes": code_tables(),
        "vectors": valid_vectors(),
        "invalidVectors": invalid_vectors(),
        "events": [{"event": event_to_json(e), "hex": encode_event(e).hex()} for e in events],
        "frames": frame_corpus(events, rng),
        "refusals": refusal_corpus(events),
        "sequences": sequences(),
        "names": name_corpus(),
        "skeletonChars": skeleton_chars(),
        "filenames": filename_corpus(rng),
        "truncations": truncation_corpus(rng),
        "sha256": sha256_corpus(rng),
    }
    path.write_text(json.dumps(corpus, ensure_ascii=True), encoding="ascii")
    return corpus


def main(argv: list[str]) -> int:
    if argv == ["--tables"]:
        from web.corpus_text import write_js_tables

        write_js_tables()
        return 0
    if len(argv) != 1 or argv[0].startswith("-"):
        print("\n".join(__doc__.strip().splitlines()[-2:]), file=sys.stderr)
        return 2
    corpus = write_corpus(Path(argv[0]))
    print({key: len(value) for key, value in corpus.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
