"""Every event survives encoding then decoding, alone and through a connection pair."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatproto import LocalProtocolError, encode_event, prepare
from chatproto import _generated_codec as generated
from chatproto import _reference_codec as reference
from chatproto import events as ev
from chatproto.limits import HEADER_SIZE, PROTOCOL_VERSION
from chatproto.wire import LAYOUT_BY_CLASS, LAYOUTS

from .strategies import EVENT_STRATEGIES, any_event, server_broadcasts
from .support import decode_frame, logged_in_pair, transmit

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def test_every_wire_event_has_a_strategy() -> None:
    assert set(EVENT_STRATEGIES) == set(LAYOUT_BY_CLASS)


def test_type_codes_are_unique_and_one_byte() -> None:
    codes = [layout.type_code for layout in LAYOUTS]
    assert len(set(codes)) == len(codes)
    assert all(0 < code < 256 for code in codes)


@pytest.mark.parametrize("event_class", sorted(EVENT_STRATEGIES, key=lambda c: c.__name__))
@given(data=st.data())
@SETTINGS
def test_round_trip(event_class: type[ev.Event], data: st.DataObject) -> None:
    event = data.draw(EVENT_STRATEGIES[event_class])
    frame = encode_event(event)
    assert frame[0] == LAYOUT_BY_CLASS[event_class].type_code
    assert int.from_bytes(frame[1:HEADER_SIZE], "big") == len(frame) - HEADER_SIZE
    assert decode_frame(frame) == event
    assert prepare(event).data == frame


@given(any_event)
@SETTINGS
def test_encoding_is_deterministic_and_canonical(event: ev.Event) -> None:
    frame = encode_event(event)
    assert encode_event(decode_frame(frame)) == frame


@given(st.lists(server_broadcasts, min_size=1, max_size=10))
@SETTINGS
def test_what_the_server_sends_comes_out_of_the_client_unchanged(events: list[ev.Event]) -> None:
    client, server = logged_in_pair()
    for event in events:
        assert transmit(server, client, event) == event


@given(st.lists(EVENT_STRATEGIES[ev.SendChat] | EVENT_STRATEGIES[ev.Ping], min_size=1,
                max_size=10))
@SETTINGS
def test_what_the_client_sends_comes_out_of_the_server_unchanged(events: list[ev.Event]) -> None:
    client, server = logged_in_pair()
    for event in events:
        assert transmit(client, server, event) == event


def test_connection_closed_is_not_a_wire_event() -> None:
    with pytest.raises(LocalProtocolError):
        encode_event(ev.ConnectionClosed(clean=True))


@pytest.mark.parametrize(
    "event",
    [
        ev.SendChat("\ud800"),  # a lone surrogate cannot be UTF-8
        ev.SendChat("x" * 16_385),
        ev.SendChat("hi", recipient="a/b"),
        ev.SendChat("hi", recipient=""),
        ev.SendChat("hi", client_id=-1),
        ev.SendChat("hi", client_id=2**64),
        ev.Login("bob", ""),
        ev.Login("a" * 129, "pw"),  # names are judged by the server, but only 128 bytes fit
        ev.TransientLogin("bob", ""),  # never by resume token: a password, always
        ev.TransientLogin("a" * 129, "pw"),
        ev.TransientLogin("bob", "x" * 1025),
        ev.LoginRejected("Bad Password"),
        ev.LoginAccepted("bob", 1, False, 0),  # type: ignore[arg-type]
        ev.Presence("bob", "arrived", 1),  # type: ignore[arg-type]
        ev.FileOffer(1, "", 3, b"\0" * 32),
        ev.FileOffer(1, "a\0b", 3, b"\0" * 32),
        ev.FileOffer(1, "a" * 256, 3, b"\0" * 32),
        ev.FileOffer(1, "a", 3, b"\0" * 31),
        ev.FileChunk(1, 0, "text"),  # type: ignore[arg-type]
        ev.Ping(True),  # a bool is not an int on the wire
    ],
    ids=repr,
)
def test_invalid_fields_are_refused_when_encoding(event: ev.Event) -> None:
    with pytest.raises(LocalProtocolError):
        encode_event(event)


# -- the generated fast codec and the reference codec agree ---------------------------


class _Text(str):
    """A str subclass, as some toolkits and enums hand out (StrEnum values are one)."""


@given(any_event)
@SETTINGS
def test_fast_and_reference_encoders_agree(event: ev.Event) -> None:
    layout = LAYOUT_BY_CLASS[type(event)]
    assert generated.ENCODERS[type(event)](event) == reference.encode(layout, event)


@pytest.mark.parametrize(
    "event",
    [
        ev.SendChat(_Text("hi")),
        ev.SendChat("hi", _Text("only_in_this_test")),  # not in the name cache
        ev.Goodbye(_Text("bye")),
        ev.Goodbye(ev.PresenceState.LEFT),
        ev.FileOffer(1, _Text("a.txt"), 1, bytes(32)),
        ev.Hello(PROTOCOL_VERSION, 1_048_576, _Text("chatproto")),
        ev.FileChunk(1, 0, bytearray(b"ab")),
        ev.Error(ev.RejectReason.NOT_FOUND),
    ],
    ids=repr,
)
def test_what_the_reference_encoder_accepts_is_sent(event: ev.Event) -> None:
    """``encode_event`` falls back to the reference codec when the fast one refuses; the
    reference's verdict must win, not a generic "invalid field" error."""
    layout = LAYOUT_BY_CLASS[type(event)]
    assert encode_event(event) == reference.encode(layout, event)
    assert decode_frame(encode_event(event)) == event


# -- fan-out: one encode, many connections --------------------------------------------


def test_a_prepared_event_gives_the_same_bytes_to_every_connection() -> None:
    pairs = [logged_in_pair(name) for name in ("alice", "bob", "개구리")]
    prepared = prepare(ev.ChatMessage(7, 0, 1, "alice", None, "안녕 everyone"))
    sent = [server.send(prepared) for _, server in pairs]
    assert all(data is prepared.data for data in sent)  # encoded once, not per recipient
    for client, _ in pairs:
        client.receive_data(prepared.data)
        assert client.next_event() == prepared.event


def test_a_prepared_event_still_obeys_each_connections_state() -> None:
    from chatproto import ServerConnection, State

    _, ready = logged_in_pair()
    not_logged_in = ServerConnection()
    prepared = prepare(ev.Presence("bob", ev.PresenceState.JOINED, 2))
    with pytest.raises(LocalProtocolError):
        not_logged_in.send(prepared)
    assert not_logged_in.our_state is State.ERROR
    assert ready.send(prepared) == prepared.data and ready.our_state is State.ACTIVE


def test_prepare_refuses_an_invalid_event_at_once() -> None:
    with pytest.raises(LocalProtocolError):
        prepare(ev.ChatMessage(1, 0, 0, "no spaces allowed", None, "x"))
