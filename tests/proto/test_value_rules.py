"""Value rules (rules.py) hold in both directions, and a refused value breaks nothing.

``send`` promises that an invalid event "is refused and leaves the connection
as it was"; ``encode_event`` must refuse exactly what ``send`` and a receiver
refuse. Each case below is checked three ways: ``encode_event``, ``send`` on a
connection in a state where the event would otherwise be allowed (which must
stay usable), and a receiver fed the hand-built frame (``RemoteProtocolError``
with the same code, on the fast and the reference decoder alike).
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatproto import (
    ClientConnection,
    Connection,
    ErrorCode,
    LocalProtocolError,
    RemoteProtocolError,
    ServerConnection,
    State,
    encode_event,
    participant_pager,
    participant_pages,
)
from chatproto import _reference_codec as reference
from chatproto import events as ev
from chatproto._codec import decode_payload
from chatproto.limits import (
    HEADER_SIZE,
    MAX_FILE_SIZE,
    MAX_PARTICIPANTS,
    MAX_PASSWORD_BYTES,
    MAX_USERNAME_CHARS,
    MIN_FRAME_SIZE,
    PROTOCOL_VERSION,
)
from chatproto.list_fields import participant_size
from chatproto.wire import HEADER, LAYOUT_BY_CLASS

from .support import logged_in_pair

SHA = bytes(32)


def _greeted_client() -> ClientConnection:
    return ClientConnection()


def _server_after_login() -> ServerConnection:
    """A server with a Login pending: LoginAccepted is what it may send next."""
    server = ServerConnection()
    server.receive_data(encode_event(ev.Hello(PROTOCOL_VERSION, 1_048_576))
                        + encode_event(ev.Login("a", "pw")))
    assert isinstance(server.next_event(), ev.Hello)
    server.send(server.hello())
    assert isinstance(server.next_event(), ev.Login)
    return server


def _login_client() -> ClientConnection:
    """A client whose Hello was answered: a Login is what it may send next."""
    client = ClientConnection()
    client.send(client.hello())
    client.receive_data(encode_event(ev.Hello(PROTOCOL_VERSION, 1_048_576)))
    assert isinstance(client.next_event(), ev.Hello)
    return client


def _ready_server() -> ServerConnection:
    """A server that answered the client's Hello: a Login is what it may receive next."""
    server = ServerConnection()
    server.receive_data(encode_event(ev.Hello(PROTOCOL_VERSION, 1_048_576)))
    assert isinstance(server.next_event(), ev.Hello)
    server.send(server.hello())
    return server


def _active_client() -> ClientConnection:
    return logged_in_pair()[0]


def _active_server() -> ServerConnection:
    return logged_in_pair()[1]


def _raw(event_class: type[ev.Event], *values: object, tail: bytes = b"") -> bytes:
    """A frame packed by hand, so values the encoder refuses can be sent."""
    layout = LAYOUT_BY_CLASS[event_class]
    payload = layout.struct.pack(*values) + tail
    return HEADER.pack(layout.type_code, len(payload)) + payload


ONE = (ev.Participant("a"),)
TOKEN = bytes(range(32))
ONE_BYTES = b"\x01\x01a"

_Maker = Callable[[], Connection] | None

#: (event, its code, a connection that may send it otherwise, the same event
#: packed by hand, and a receiver in the state to get it; None: see _RECEIVERS)
CASES: list[tuple[ev.Event, str, _Maker, bytes, _Maker]] = [
    (ev.Hello(0, 1_048_576), ErrorCode.UNSUPPORTED_VERSION, _greeted_client,
     _raw(ev.Hello, 0, 1_048_576, 0), ServerConnection),
    # Version 1, before resume tokens: its Login is another layout.
    (ev.Hello(1, 1_048_576), ErrorCode.UNSUPPORTED_VERSION, _greeted_client,
     _raw(ev.Hello, 1, 1_048_576, 0), ServerConnection),
    (ev.Hello(PROTOCOL_VERSION, MIN_FRAME_SIZE - 1), ErrorCode.INVALID_FIELD, _greeted_client,
     _raw(ev.Hello, PROTOCOL_VERSION, MIN_FRAME_SIZE - 1, 0), ServerConnection),
    (ev.Hello(PROTOCOL_VERSION, 0), ErrorCode.INVALID_FIELD, _greeted_client,
     _raw(ev.Hello, PROTOCOL_VERSION, 0, 0), ServerConnection),
    (ev.FileOffer(1, "a", MAX_FILE_SIZE + 1, SHA), ErrorCode.INVALID_FIELD, _active_client,
     _raw(ev.FileOffer, 1, MAX_FILE_SIZE + 1, SHA, 0, 1, tail=b"a"), _active_server),
    (ev.FileOffer(1, "a", 2**64 - 1, SHA), ErrorCode.INVALID_FIELD, _active_client,
     _raw(ev.FileOffer, 1, 2**64 - 1, SHA, 0, 1, tail=b"a"), _active_server),
    (ev.FileAvailable(1, 0, 1, "a", None, "a", MAX_FILE_SIZE + 1, SHA),
     ErrorCode.INVALID_FIELD, _active_server,
     _raw(ev.FileAvailable, 1, 0, 1, MAX_FILE_SIZE + 1, 0, SHA, 1, 0, 1, tail=b"aa"),
     _active_client),
    (ev.LoginAccepted("a", False, False, 0, ONE, participant_count=0), ErrorCode.INVALID_FIELD,
     _server_after_login, _raw(ev.LoginAccepted, 0, 0, 0, 0, 0, 0, 1, 0, 3, tail=b"a" + ONE_BYTES),
     None),
    (ev.LoginAccepted("a", False, False, 0, ONE, participant_count=MAX_PARTICIPANTS + 1),
     ErrorCode.INVALID_FIELD, _server_after_login,
     _raw(ev.LoginAccepted, 0, 0, 0, 0, 0, MAX_PARTICIPANTS + 1, 1, 0, 3, tail=b"a" + ONE_BYTES),
     None),
    (ev.ParticipantList(()), ErrorCode.INVALID_FIELD, None,
     _raw(ev.ParticipantList, 0), None),
    # A Login carries a password or a resume token: exactly one of them.
    (ev.Login("a", "pw", resume_token=TOKEN), ErrorCode.INVALID_FIELD, _login_client,
     _raw(ev.Login, 0, 0, 1, 2, 32, tail=b"apw" + TOKEN), _ready_server),
    (ev.Login("a", ""), ErrorCode.INVALID_FIELD, _login_client,
     _raw(ev.Login, 0, 0, 1, 0, 0, tail=b"a"), _ready_server),
    # A TransientLogin goes by password only.
    (ev.TransientLogin("a", ""), ErrorCode.INVALID_FIELD, _login_client,
     _raw(ev.TransientLogin, 1, 0, tail=b"a"), _ready_server),
]


def _authenticating_client() -> ClientConnection:
    client = ClientConnection()
    client.send(client.hello())
    client.receive_data(encode_event(ev.Hello(PROTOCOL_VERSION, 1_048_576)))
    assert isinstance(client.next_event(), ev.Hello)
    client.send(ev.Login("a", "pw"))
    return client


def _listing_client() -> ClientConnection:
    """A client whose server still owes it one participant."""
    client = _authenticating_client()
    client.receive_data(encode_event(ev.LoginAccepted("a", False, False, 0, ONE,
                                                      participant_count=2)))
    assert isinstance(client.next_event(), ev.LoginAccepted)
    assert client.their_state is State.LISTING
    return client


_RECEIVERS: dict[type[ev.Event], Callable[[], Connection]] = {
    ev.LoginAccepted: _authenticating_client,
    ev.ParticipantList: _listing_client,
}


@pytest.mark.parametrize(("event", "code", "sender", "frame", "receiver"), CASES,
                         ids=lambda v: type(v).__name__ if isinstance(v, ev.Event) else "")
def test_an_out_of_range_value_is_refused_everywhere_alike(
    event: ev.Event,
    code: str,
    sender: Callable[[], Connection] | None,
    frame: bytes,
    receiver: Callable[[], Connection] | None,
) -> None:
    with pytest.raises(LocalProtocolError) as refused:
        encode_event(event)
    assert refused.value.code == code
    if sender is not None:
        conn = sender()
        before = (conn.our_state, conn.their_state, conn.open_uploads, conn.open_fetches)
        with pytest.raises(LocalProtocolError) as refused:
            conn.send(event)
        assert refused.value.code == code
        assert (conn.our_state, conn.their_state, conn.open_uploads,
                conn.open_fetches) == before
        assert conn.send(ev.Goodbye("still usable"))  # not poisoned
    layout = LAYOUT_BY_CLASS[type(event)]
    payload = frame[HEADER_SIZE:]
    for decode in (decode_payload, reference.decode):
        with pytest.raises(RemoteProtocolError) as broken:
            decode(layout, payload)
        assert broken.value.code == code
    peer = (receiver or _RECEIVERS[type(event)])()
    peer.receive_data(frame)
    with pytest.raises(RemoteProtocolError) as broken:
        peer.next_event()
    assert broken.value.code == code


@pytest.mark.parametrize("event", [
    ev.Hello(PROTOCOL_VERSION, MIN_FRAME_SIZE), ev.Hello(2**16 - 1, 2**32 - 1),
    ev.FileOffer(2**64 - 1, "a", MAX_FILE_SIZE, SHA),
    ev.LoginAccepted("a", True, True, 2**64 - 1, ONE, 2**64 - 1, True, MAX_PARTICIPANTS),
    ev.LoginAccepted("a", True, True, 0, ONE, 0, True, 1, b"\xff" * 32),
    ev.Login("a", "", 2**64 - 1, 2**64 - 1, b"\x00" * 32),
    ev.Login("a", "p" * MAX_PASSWORD_BYTES),
    ev.TransientLogin("a", "p" * MAX_PASSWORD_BYTES),
    ev.TransientLogin("가" * MAX_USERNAME_CHARS, "x"),
])
def test_the_edges_of_each_range_are_valid(event: ev.Event) -> None:
    frame = encode_event(event)
    assert decode_payload(LAYOUT_BY_CLASS[type(event)], frame[HEADER_SIZE:]) == event


def test_more_participants_than_the_protocol_allows_are_never_encoded() -> None:
    crowd = tuple(ev.Participant(f"u{i}") for i in range(MAX_PARTICIPANTS + 1))
    with pytest.raises(LocalProtocolError) as refused:
        encode_event(ev.ParticipantList(crowd))
    assert refused.value.code == ErrorCode.INVALID_FIELD
    with pytest.raises(LocalProtocolError):
        encode_event(ev.LoginAccepted("a", False, False, 0, crowd,
                                      participant_count=MAX_PARTICIPANTS + 1))
    entries = b"".join(b"\x01\x01a" for _ in range(MAX_PARTICIPANTS + 1))
    with pytest.raises(RemoteProtocolError) as broken:
        decode_payload(LAYOUT_BY_CLASS[ev.ParticipantList],
                       struct.pack("!I", len(entries)) + entries)
    assert broken.value.code == ErrorCode.INVALID_FIELD


def test_a_page_beyond_the_announced_count_breaks_the_connection() -> None:
    client = _listing_client()
    client.receive_data(encode_event(ev.ParticipantList((ev.Participant("b"),
                                                         ev.Participant("c")))))
    with pytest.raises(RemoteProtocolError) as broken:
        client.next_event()
    assert broken.value.code == ErrorCode.INVALID_FIELD


def test_nothing_but_pages_may_come_before_the_list_is_complete() -> None:
    client = _listing_client()
    client.receive_data(encode_event(ev.Presence("b", ev.PresenceState.JOINED, 2)))
    with pytest.raises(RemoteProtocolError) as broken:
        client.next_event()
    assert broken.value.code == ErrorCode.UNEXPECTED_MESSAGE


_NAME_CHARS = st.sampled_from(["a", "가", "\U00020000", "_"])
_NAMES = st.text(_NAME_CHARS, min_size=1, max_size=MAX_USERNAME_CHARS).filter(
    lambda n: n[0] != "_")


@settings(max_examples=100, deadline=None)
@given(names=st.lists(_NAMES, min_size=1, max_size=50),
       deactivated=st.lists(st.booleans(), max_size=50))
def test_participant_size_is_what_each_entry_takes_on_the_wire(
    names: list[str], deactivated: list[bool]
) -> None:
    states = [ev.ParticipantState.DEACTIVATED if d else ev.ParticipantState.ACTIVE
              for d in deactivated] + [ev.ParticipantState.ACTIVE] * len(names)
    everyone = tuple(ev.Participant(n, s) for n, s in zip(names, states, strict=False))
    frame = encode_event(ev.ParticipantList(everyone))
    fixed = LAYOUT_BY_CLASS[ev.ParticipantList].fixed_size
    assert len(frame) == HEADER_SIZE + fixed + sum(participant_size(p) for p in everyone)


@settings(max_examples=40, deadline=None)
@given(names=st.lists(_NAMES, max_size=3000, unique=True),
       limit=st.sampled_from([MIN_FRAME_SIZE, MIN_FRAME_SIZE + 1, 100_000, 1_048_576]),
       own=st.sampled_from(["a", "\U00020000" * MAX_USERNAME_CHARS]))
def test_pages_fit_the_peer_and_add_up_to_the_list(names: list[str], limit: int,
                                                   own: str) -> None:
    """Whatever the list and the peer's frame limit, a login goes through: the first
    page fits LoginAccepted (with the longest own name), every other page fits a
    ParticipantList, and a client takes them all in order."""
    everyone = tuple(ev.Participant(n, ev.ParticipantState.ACTIVE) for n in names)
    first, *rest = participant_pages(everyone, limit)
    assert all(rest)
    assert tuple(p for page in (first, *rest) for p in page) == everyone
    accepted = ev.LoginAccepted(own, False, False, 0, first, participant_count=len(everyone),
                                resume_token=TOKEN)
    frames = [encode_event(accepted)] + [encode_event(ev.ParticipantList(p)) for p in rest]
    assert all(len(frame) - HEADER_SIZE <= limit for frame in frames)
    client = ClientConnection()
    client.send(client.hello())
    client.receive_data(encode_event(ev.Hello(PROTOCOL_VERSION, 1_048_576)))
    assert isinstance(client.next_event(), ev.Hello)
    client.send(ev.Login(own, "pw"))
    received: list[ev.Participant] = []
    client.receive_data(b"".join(frames))
    for _ in frames:
        event = client.next_event()
        assert isinstance(event, ev.LoginAccepted | ev.ParticipantList)
        received.extend(event.participants)
    assert tuple(received) == everyone
    assert client.their_state is State.ACTIVE


@settings(max_examples=40, deadline=None)
@given(names=st.lists(_NAMES, max_size=600, unique=True),
       states=st.lists(st.booleans(), max_size=600),
       limit=st.sampled_from([MIN_FRAME_SIZE, MIN_FRAME_SIZE + 1, 4096, 100_000]))
def test_a_paginator_fed_one_by_one_cuts_as_the_whole_list_is_cut(
    names: list[str], states: list[bool], limit: int
) -> None:
    """``participant_pager``: after every ``add``, the pages are exactly those of
    ``participant_pages`` for everything added so far (a server adds each arrival
    instead of cutting the whole list again for every login)."""
    everyone = [ev.Participant(n, ev.ParticipantState.DEACTIVATED if d
                               else ev.ParticipantState.ACTIVE)
                for n, d in zip(names, states + [False] * len(names), strict=False)]
    pager = participant_pager(limit)
    assert pager.pages() == participant_pages((), limit) == [()]
    for count, participant in enumerate(everyone, 1):
        pager.add(participant)
        assert pager.pages() == participant_pages(everyone[:count], limit)
    # The entries' bytes are cached per name and state: a state change shows.
    for participant in everyone[:5]:
        other = (ev.ParticipantState.ACTIVE if participant.state is
                 ev.ParticipantState.DEACTIVATED else ev.ParticipantState.DEACTIVATED)
        frame = encode_event(ev.ParticipantList((ev.Participant(participant.name, other),)))
        decoded = decode_payload(LAYOUT_BY_CLASS[ev.ParticipantList], frame[HEADER_SIZE:])
        assert isinstance(decoded, ev.ParticipantList)
        assert decoded.participants == (ev.Participant(participant.name, other),)


def _entries(participants: tuple[ev.Participant, ...]) -> bytes:
    """The participants field as docs/protocol.md 3.3 writes it, by hand."""
    codes = {ev.ParticipantState.ACTIVE: 1, ev.ParticipantState.DEACTIVATED: 2}
    return b"".join(bytes((codes[p.state], len(p.name.encode()))) + p.name.encode()
                    for p in participants)


@settings(max_examples=100, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from(["new", "grow", "same", "shrink", "flip"]),
                                st.lists(_NAMES, max_size=8)), min_size=1, max_size=12))
def test_a_list_grown_or_encoded_again_is_encoded_as_a_new_one(
    steps: list[tuple[str, list[str]]]
) -> None:
    """The encoder remembers the last list and encodes only what was added to
    it: whatever the order of lists, each frame is the list's own bytes."""
    active, deactivated = ev.ParticipantState.ACTIVE, ev.ParticipantState.DEACTIVATED
    current: tuple[ev.Participant, ...] = ()
    for step, names in steps:
        fresh = tuple(ev.Participant(n, active) for n in names)
        if step == "new":
            current = fresh
        elif step == "grow":
            current = current + fresh
        elif step == "shrink":
            current = current[: len(current) // 2]
        elif step == "flip" and current:  # an equal-length list, one state changed
            first = current[0]
            other = deactivated if first.state is active else active
            current = (ev.Participant(first.name, other), *current[1:])
        if not current:  # a ParticipantList page is never empty
            continue
        frame = encode_event(ev.ParticipantList(current))
        fixed = LAYOUT_BY_CLASS[ev.ParticipantList].fixed_size
        assert frame[HEADER_SIZE + fixed :] == _entries(current)
