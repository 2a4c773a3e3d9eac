"""The test vectors of docs/protocol.md, checked in both directions."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from chatproto import encode_event
from chatproto import events as ev
from chatproto.limits import SKIP_REPLAY
from chatproto.wire import (
    DATA,
    LAYOUT_BY_CLASS,
    MEMBERSHIP,
    PARTICIPANTS,
    PRESENCE,
    RESUME_TOKEN,
    ROOMS,
    SHA256,
)

from .support import decode_frame

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
_EVENT_CLASSES = {layout.event_class.__name__: cls for cls, layout in LAYOUT_BY_CLASS.items()}


def _vectors() -> list[tuple[str, dict[str, Any]]]:
    text = DOC.read_text(encoding="utf-8")
    found = re.findall(r"#### (Vector \d+: [^\n]*)\n\n```json\n(.*?)\n```", text, re.S)
    return [(title, json.loads(body)) for title, body in found]


VECTORS = _vectors()


def _event_from_json(record: dict[str, Any]) -> ev.Event:
    cls = _EVENT_CLASSES[record["type"]]
    kinds = dict(LAYOUT_BY_CLASS[cls].fields)
    fields: dict[str, Any] = {}
    for name, value in record["fields"].items():
        kind = kinds[name]
        if kind in (SHA256, DATA, RESUME_TOKEN):
            value = bytes.fromhex(value)
        elif kind is PARTICIPANTS:
            value = tuple(ev.Participant(n, ev.ParticipantState(s)) for n, s in value)
        elif kind is PRESENCE:
            value = ev.PresenceState(value)
        elif kind is ROOMS:
            value = tuple(ev.RoomInfo(n, c, p, m) for n, c, p, m in value)
        elif kind is MEMBERSHIP:
            value = ev.MembershipState(value)
        fields[name] = value
    return cls(**fields)


def test_vectors_cover_the_tricky_cases() -> None:
    records = [record for _, record in VECTORS]

    def of(type_name: str) -> list[dict[str, Any]]:
        return [r["fields"] for r in records if r["type"] == type_name]

    korean = [r for r in records if any("\uac00" <= ch <= "\ud7a3" for ch in json.dumps(
        r["fields"], ensure_ascii=False))]
    assert korean, "a vector with Korean text"
    assert any(r["fields"].get("recipient") for r in records), "an optional recipient set"
    assert any(r["fields"].get("recipient", 0) is None for r in records), "a recipient unset"
    assert of("FileChunk")
    assert any(f["text"].startswith("\ufeff") for f in of("ChatMessage")), "a BOM kept as data"
    # The login: an epoch, no replay at all, a first page and the rest of the list.
    assert any(f["epoch"] and f["last_seen_seq"] for f in of("Login")), "a login with an epoch"
    assert any(f["last_seen_seq"] == SKIP_REPLAY for f in of("Login")), "SKIP_REPLAY"
    accepted = of("LoginAccepted")
    assert any(f["participants"] and len(f["participants"]) == f["participant_count"]
               for f in accepted), "a whole participant list"
    assert any(f["history_reset"] and len(f["participants"]) < f["participant_count"]
               for f in accepted), "a reset history and a first page"
    assert of("ParticipantList"), "a further page"
    # Resume tokens: a Login by token alone, a verdict with one and one without.
    assert any(f["resume_token"] and not f["password"] for f in of("Login")), "a token login"
    assert {bool(f["resume_token"]) for f in accepted} == {True, False}
    # Every presence state, and FileAvailable with and without the uploader's id.
    assert {f["state"] for f in of("Presence")} == {s.value for s in ev.PresenceState}
    assert {bool(f["upload_id"]) for f in of("FileAvailable")} == {True, False}


def test_every_message_type_has_a_vector() -> None:
    assert {record["type"] for _, record in VECTORS} == set(_EVENT_CLASSES)


@pytest.mark.parametrize(("title", "record"), VECTORS, ids=[t for t, _ in VECTORS])
def test_encoding_gives_the_bytes(title: str, record: dict[str, Any]) -> None:
    assert encode_event(_event_from_json(record)).hex() == record["hex"].replace(" ", "")


@pytest.mark.parametrize(("title", "record"), VECTORS, ids=[t for t, _ in VECTORS])
def test_decoding_gives_the_event(title: str, record: dict[str, Any]) -> None:
    frame = bytes.fromhex(record["hex"])
    assert decode_frame(frame) == _event_from_json(record)


def test_the_worked_example_is_right() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"```text\n(11 .*?)```", text, re.S)
    assert block is not None
    frame = bytes.fromhex("".join(line[:36] for line in block.group(1).splitlines()))
    assert decode_frame(frame) == ev.ChatMessage(1, 2, 3, "개구리", None, "hi")
