"""The invalid-input vectors of docs/protocol.md (section 8.2), fed to real connections.

Each vector names the receiver's state; the state is rebuilt from the generator's
``SETUPS`` (whose description the document shows), the bytes are fed to that connection,
and it must raise ``RemoteProtocolError`` with the vector's code: with the fast codec, with
the reference codec alone, and with the bytes arriving one at a time. The two codecs must
also agree frame by frame: whatever the reference decoder refuses, the fast one refuses too,
and what it accepts, the fast one decodes to the same event.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import pytest

from chatproto import NEED_DATA, Connection, ErrorCode, RemoteProtocolError, wire
from chatproto import _generated_codec as generated
from chatproto import _reference_codec as reference
from chatproto import events as ev
from chatproto._codec import decode_payload
from chatproto.fields import FieldError
from chatproto.limits import HEADER_SIZE

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "protocol.md"


def _generator() -> ModuleType:
    name = "gen_protocol_tables"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


GEN = _generator()


class Vector(NamedTuple):
    number: int
    fault: str
    receiver: str
    state: str
    data: bytes
    end_of_stream: bool
    code: str


_ROW = re.compile(
    r"^\| (\d+) \| (.+?) \| (client|server) \| `([a-z0-9-]+)` \| `([0-9a-f ]+)`"
    r"( \+ end of stream)? \| `([a-z0-9-]+)` \|$",
    re.M,
)


def _vectors() -> list[Vector]:
    text = DOC.read_text(encoding="utf-8")
    section = re.search(
        r"<!-- BEGIN GENERATED: invalid-vectors -->\n(.*?)<!-- END GENERATED: invalid-vectors -->",
        text,
        re.S,
    )
    assert section is not None, "section 8.2 is missing"
    rows = [line for line in section.group(1).splitlines() if re.match(r"\| \d", line)]
    found = [
        Vector(int(n), fault, receiver, state, bytes.fromhex(hexes), bool(eof), code)
        for n, fault, receiver, state, hexes, eof, code in _ROW.findall(section.group(1))
    ]
    assert len(found) == len(rows), "a row of section 8.2 does not parse"
    return found


VECTORS = _vectors()
IDS = [f"{v.number}: {v.fault}" for v in VECTORS]


def _error_of(conn: Connection, pieces: list[bytes]) -> str:
    """Feed ``pieces`` one by one, draining events after each; the code of the error."""
    for piece in pieces:
        conn.receive_data(piece)
        try:
            while conn.next_event() is not NEED_DATA:
                pass
        except RemoteProtocolError as exc:
            # The error is final: it is raised again, the same, on every later call.
            with pytest.raises(RemoteProtocolError) as again:
                conn.next_event()
            assert again.value.code == exc.code
            return exc.code
    raise AssertionError("the bytes were accepted")


def _pieces(vector: Vector, *, bytewise: bool = False) -> list[bytes]:
    pieces = [vector.data[i : i + 1] for i in range(len(vector.data))] if bytewise else [
        vector.data
    ]
    return pieces + ([b""] if vector.end_of_stream else [])


def _whole_frames(data: bytes) -> list[tuple[wire.Layout, bytes]]:
    """The frames of ``data`` that are whole, of a known type and within their limit."""
    frames, pos = [], 0
    while len(data) - pos >= HEADER_SIZE:
        type_code, length = wire.HEADER.unpack_from(data, pos)
        layout = wire.LAYOUT_BY_CODE.get(type_code)
        end = pos + HEADER_SIZE + length
        if layout is None or end > len(data):
            break
        frames.append((layout, data[pos + HEADER_SIZE : end]))
        pos = end
    return frames


def test_the_vectors_are_numbered_in_order() -> None:
    assert [v.number for v in VECTORS] == list(range(1, len(VECTORS) + 1))


def test_every_error_a_receiver_detects_has_a_vector() -> None:
    detected = {
        ErrorCode.MALFORMED, ErrorCode.FRAME_TOO_LARGE, ErrorCode.UNKNOWN_TYPE,
        ErrorCode.BAD_UTF8, ErrorCode.INVALID_FIELD, ErrorCode.UNEXPECTED_MESSAGE,
        ErrorCode.UNSUPPORTED_VERSION, ErrorCode.TRUNCATED,
    }
    assert {v.code for v in VECTORS} == {code.value for code in detected}


def test_every_state_is_used_and_both_roles_receive() -> None:
    used = {v.state for v in VECTORS}
    bases = {setup.base for setup in GEN.SETUPS.values()}
    assert set(GEN.SETUPS) <= used | bases
    assert {v.receiver for v in VECTORS} == {"client", "server"}


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_the_receiver_refuses_it(vector: Vector) -> None:
    conn = GEN.build(vector.state)
    assert conn.our_role.value == vector.receiver
    assert _error_of(conn, _pieces(vector)) == vector.code


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_byte_by_byte_gives_the_same_error(vector: Vector) -> None:
    conn = GEN.build(vector.state)
    assert _error_of(conn, _pieces(vector, bytewise=True)) == vector.code


def _no_fast_path(payload: bytes) -> ev.Event:
    raise generated.FastPathFailed


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_the_reference_codec_alone_gives_the_same_error(
    vector: Vector, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = GEN.build(vector.state)
    for layout in wire.LAYOUTS:
        monkeypatch.setitem(generated.DECODERS, layout, _no_fast_path)
    assert _error_of(conn, _pieces(vector)) == vector.code


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_fast_and_reference_decoders_agree(vector: Vector) -> None:
    for layout, payload in _whole_frames(vector.data):
        try:
            reference_verdict: ev.Event | str = reference.decode(layout, payload)
        except RemoteProtocolError as exc:
            reference_verdict = exc.code
        try:
            fast: ev.Event | None = generated.DECODERS[layout](payload)
        except (generated.FastPathFailed, FieldError):
            fast = None
        if isinstance(reference_verdict, str):
            assert fast is None, f"the fast decoder accepted what the reference refuses: {fast}"
        else:
            assert fast is None or fast == reference_verdict
        # ``decode_payload`` (fast, then reference) says what the reference says.
        try:
            decoded: ev.Event | str = decode_payload(layout, payload)
        except RemoteProtocolError as exc:
            decoded = exc.code
        assert decoded == reference_verdict


def test_a_header_over_the_limit_is_refused_before_its_body() -> None:
    too_large = [v for v in VECTORS if v.code == ErrorCode.FRAME_TOO_LARGE]
    assert too_large
    for vector in too_large:
        assert len(vector.data) == HEADER_SIZE, "only the header: the body is never needed"
