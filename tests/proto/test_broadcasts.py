"""The broadcast rule the core owns: ``PreparedEvent.broadcast`` and
``ServerConnection.accepts_broadcasts``.

A server writes ``prepared.broadcast`` to every connection whose
``accepts_broadcasts`` is true without calling ``send``. That is only sound
if the bytes are exactly what ``send`` would have written, if skipping
``send`` leaves both sides as ``send`` would have, and if the connection
says when it stops accepting them; each claim is checked here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatproto import (
    STATE_NEUTRAL_BROADCASTS,
    ClientConnection,
    Connection,
    LocalProtocolError,
    PreparedEvent,
    RemoteProtocolError,
    ServerConnection,
    State,
    prepare,
)
from chatproto import events as ev
from chatproto.limits import HEADER_SIZE, MIN_FRAME_SIZE

from .strategies import any_event, server_broadcasts
from .support import drain, logged_in_pair

Snapshot = tuple[object, ...]


def snapshot(conn: Connection) -> Snapshot:
    """Everything a connection's state machine exposes."""
    return (
        conn.our_state, conn.their_state, conn.username, conn.version,
        conn.peer_max_frame_size, conn.open_uploads, conn.open_fetches, conn.trailing_data,
    )


def with_open_transfers() -> tuple[ClientConnection, ServerConnection]:
    """A logged-in pair with an upload streaming and a fetch open: the state
    an event could change, if it changed any."""
    client, server = logged_in_pair()
    server.receive_data(client.send(ev.FileOffer(1, "a.txt", 10, b"\0" * 32)))
    server.receive_data(client.send(ev.FetchFile(7, 0)))
    drain(server)
    client.receive_data(server.send(ev.FileAccepted(1)))
    drain(client)
    return client, server


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(server_broadcasts, min_size=1, max_size=12))
def test_a_raw_broadcast_is_what_send_writes_and_leaves_both_sides_alike(
    events: list[ev.Event],
) -> None:
    raw_client, raw_server = with_open_transfers()  # gets the broadcasts raw
    sent_client, sent_server = with_open_transfers()  # always through send
    for event in events:
        prepared = prepare(event)
        sent = sent_server.send(prepared)
        if prepared.broadcast is not None:
            assert raw_server.accepts_broadcasts
            assert prepared.broadcast == sent
            data = prepared.broadcast
        else:
            data = raw_server.send(event)
        raw_client.receive_data(data)
        sent_client.receive_data(sent)
        assert drain(raw_client) == drain(sent_client) == [event]
        assert snapshot(raw_client) == snapshot(sent_client)
        assert snapshot(raw_server) == snapshot(sent_server)


@given(server_broadcasts)
def test_prepared_bytes_are_the_bytes_send_writes(event: ev.Event) -> None:
    _, server = logged_in_pair()
    assert prepare(event).data == server.send(event)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(any_event)
def test_events_that_change_state_never_get_raw_bytes(event: ev.Event) -> None:
    try:
        prepared = prepare(event)
    except LocalProtocolError:
        return  # not a wire event at all (ConnectionClosed)
    if prepared.broadcast is None:
        return
    assert type(event) in STATE_NEUTRAL_BROADCASTS
    assert len(prepared.broadcast) <= MIN_FRAME_SIZE + HEADER_SIZE
    # Sending it would have changed nothing, even with transfers open.
    _, server = with_open_transfers()
    before = snapshot(server)
    server.send(event)
    assert snapshot(server) == before


def test_a_frame_that_might_not_fit_a_peer_gets_no_raw_bytes() -> None:
    event = ev.ChatMessage(1, 0, 0, "alice", None, "hi")
    assert prepare(event).broadcast == prepare(event).data
    too_big = PreparedEvent(event, b"\0" * (MIN_FRAME_SIZE + HEADER_SIZE + 1))
    assert too_big.broadcast is None
    assert PreparedEvent(event, b"\0" * (MIN_FRAME_SIZE + HEADER_SIZE)).broadcast is not None


# -- accepts_broadcasts follows the state machine ------------------------------------

Pair = tuple[ClientConnection, ServerConnection]
NAME = "alice"
OTHERS = (ev.Participant("bob", ev.ParticipantState.ACTIVE),
          ev.Participant("carol", ev.ParticipantState.DEACTIVATED))


def _to_server(make: Callable[[ClientConnection], ev.Event | None]) -> Callable[[Pair], None]:
    def step(pair: Pair) -> None:
        client, server = pair
        event = make(client)
        server.receive_data(client.send(event) if event is not None else b"")
        drain(server)

    return step


def _to_client(make: Callable[[ServerConnection], ev.Event]) -> Callable[[Pair], None]:
    def step(pair: Pair) -> None:
        client, server = pair
        client.receive_data(server.send(make(server)))
        drain(client)

    return step


def _garbage(pair: Pair) -> None:
    pair[1].receive_data(b"\xff" * 16)  # an unknown frame type: a protocol error
    drain(pair[1])


STEPS: dict[str, Callable[[Pair], None]] = {
    "client hello": _to_server(lambda client: client.hello()),
    "server hello": _to_client(lambda server: server.hello()),
    "login": _to_server(lambda client: ev.Login(NAME, "pw")),
    "accepted, whole list": _to_client(lambda server: ev.LoginAccepted(NAME, True, False, 0)),
    "accepted, list to come": _to_client(
        lambda server: ev.LoginAccepted(NAME, True, False, 0, OTHERS[:1], 0, False, 2)
    ),
    "last page": _to_client(lambda server: ev.ParticipantList(OTHERS[1:])),
    "rejected": _to_client(lambda server: ev.LoginRejected("bad-password", "no")),
    "chat": _to_client(lambda server: ev.ChatMessage(1, 0, 0, "bob", None, "hi")),
    "ping": _to_client(lambda server: ev.Ping(1)),
    "server goodbye": _to_client(lambda server: ev.Goodbye("bye")),
    "server error": _to_client(lambda server: ev.Error("timeout", "late")),
    "client goodbye": _to_server(lambda client: ev.Goodbye("bye")),
    "client closes": _to_server(lambda client: None),
    "garbage": _garbage,
}


STATE_NEUTRAL_EXAMPLES = (
    ev.ChatMessage(9, 0, 0, "bob", None, "x"),
    ev.Presence("bob", ev.PresenceState.LEFT, 1),
    ev.ChatMessage(10, 0, 0, "bob", "#dev", "to a room"),
    ev.Membership("dev", "bob", ev.MembershipState.JOINED, 2),
)


def test_the_examples_cover_every_state_neutral_broadcast() -> None:
    assert {type(event) for event in STATE_NEUTRAL_EXAMPLES} == STATE_NEUTRAL_BROADCASTS


def play(steps: list[str]) -> ServerConnection:
    """The server after ``steps``; a step out of place fails as the machines
    say (and leaves what that leaves). The same steps give the same server."""
    pair = (ClientConnection(), ServerConnection())
    for name in steps:
        with contextlib.suppress(LocalProtocolError, RemoteProtocolError):
            STEPS[name](pair)
    return pair[1]


def writable_without_send(steps: list[str]) -> bool:
    """Whether ``send`` would take every state-neutral broadcast after
    ``steps`` and change nothing: asked of a server replayed to the same
    point, so the one under test is untouched."""
    for event in STATE_NEUTRAL_EXAMPLES:
        probe = play(steps)
        before = snapshot(probe)
        try:
            probe.send(event)
        except LocalProtocolError:
            return False
        if snapshot(probe) != before:
            return False
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(sorted(STEPS)), max_size=14))
def test_accepts_broadcasts_follows_the_state_machine(steps: list[str]) -> None:
    for done in range(len(steps) + 1):
        server = play(steps[:done])
        assert server.accepts_broadcasts is writable_without_send(steps[:done])
        assert server.accepts_broadcasts is (server.our_state is State.ACTIVE)


def test_accepts_broadcasts_along_a_whole_conversation() -> None:
    """The same, spelled out: false until the participant list is complete,
    true while ACTIVE, false for good after the server's Goodbye."""
    steps = ["client hello", "server hello", "login", "accepted, list to come", "last page",
             "chat", "client goodbye", "server goodbye", "chat"]
    seen = [play(steps[:done]).accepts_broadcasts for done in range(1, len(steps) + 1)]
    # Still ACTIVE after the client's Goodbye: a server may send until it says its own.
    assert seen == [False, False, False, False, True, True, True, False, False]
