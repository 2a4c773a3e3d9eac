"""The transient login (docs/protocol.md 7.9) between real connection pairs.

The model-based test (``test_state_machines.py``) covers the state table; these check the
version gate over every pair of versions, what a transient pair can and cannot carry for
any mix of traffic, and a refused TransientLogin followed by an ordinary Login.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatproto import (
    ClientConnection,
    ClientState,
    ErrorCode,
    LocalProtocolError,
    LoginComplete,
    RemoteProtocolError,
    ServerConnection,
    State,
    encode_event,
)
from chatproto import events as ev
from chatproto.limits import (
    DEFAULT_MAX_FRAME_SIZE,
    OLDEST_PROTOCOL_VERSION,
    PROTOCOL_VERSION,
    TRANSIENT_LOGIN_VERSION,
)

from .strategies import passwords, texts, usernames
from .support import drain, transmit

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
SHA = bytes(range(32))
VERSIONS = st.integers(OLDEST_PROTOCOL_VERSION, PROTOCOL_VERSION)


def greeted(client_version: int, server_version: int) -> tuple[ClientConnection,
                                                               ServerConnection]:
    """A pair whose Hellos offered ``client_version`` and answered ``server_version``."""
    client, server = ClientConnection(), ServerConnection()
    transmit(client, server, ev.Hello(client_version, DEFAULT_MAX_FRAME_SIZE))
    transmit(server, client, ev.Hello(server_version, DEFAULT_MAX_FRAME_SIZE))
    return client, server


def transient_pair(name: str = "개구리") -> tuple[ClientConnection, ServerConnection]:
    client, server = greeted(PROTOCOL_VERSION, PROTOCOL_VERSION)
    transmit(client, server, ev.TransientLogin(name, "pw"))
    others = (ev.Participant("bob"), ev.Participant("eve", ev.ParticipantState.DEACTIVATED))
    transmit(server, client, ev.LoginAccepted(name, False, False, 9, others))
    return client, server


@given(offer=VERSIONS, data=st.data(), name=usernames, password=passwords)
@SETTINGS
def test_a_transient_login_needs_version_3_on_both_sides(
    offer: int, data: st.DataObject, name: str, password: str
) -> None:
    answer = data.draw(st.integers(OLDEST_PROTOCOL_VERSION, offer))
    client, server = greeted(offer, answer)
    login = ev.TransientLogin(name, password)
    if answer >= TRANSIENT_LOGIN_VERSION:
        assert transmit(client, server, login) == login
        assert client.transient and server.transient
        return
    # The client refuses to send it; a server that receives it anyway breaks the connection.
    with pytest.raises(LocalProtocolError) as refused:
        client.send(login)
    assert refused.value.code == ErrorCode.UNEXPECTED_MESSAGE
    server.receive_data(encode_event(login))
    with pytest.raises(RemoteProtocolError) as broken:
        server.next_event()
    assert broken.value.code == ErrorCode.UNEXPECTED_MESSAGE


def test_a_transient_login_waits_for_the_servers_hello() -> None:
    client, server = ClientConnection(), ServerConnection()
    transmit(client, server, client.hello())
    with pytest.raises(LocalProtocolError):
        client.send(ev.TransientLogin("bob", "pw"))
    assert client.our_state is State.ERROR
    # A server that has not answered yet cannot have been heard: the client guessed.
    server.receive_data(encode_event(ev.TransientLogin("bob", "pw")))
    with pytest.raises(RemoteProtocolError) as broken:
        server.next_event()
    assert broken.value.code == ErrorCode.UNEXPECTED_MESSAGE


def test_a_version_2_pair_is_version_2_throughout() -> None:
    """A version 3 server answering a version 2 client: the ordinary login, as before."""
    client, server = ClientConnection(), ServerConnection()
    transmit(client, server, ev.Hello(OLDEST_PROTOCOL_VERSION, DEFAULT_MAX_FRAME_SIZE))
    hello = server.hello()
    assert hello.version == OLDEST_PROTOCOL_VERSION
    transmit(server, client, hello)
    transmit(client, server, ev.Login("bob", "pw"))
    transmit(server, client, ev.LoginAccepted("bob", True, False, 0, resume_token=SHA))
    assert (client.our_state, server.our_state) == (State.ACTIVE, State.ACTIVE)
    assert server.accepts_broadcasts and not server.transient


own_requests = st.one_of(
    st.builds(lambda text, to: ("chat", text, to), texts, st.none() | st.just("bob")),
    st.builds(lambda size: ("file", size), st.integers(0, 20)),
    st.just(("ping",)),
)


@given(requests=st.lists(own_requests, min_size=1, max_size=8))
@SETTINGS
def test_a_transient_pair_carries_its_own_errands(requests: list[tuple[object, ...]]) -> None:
    """Whatever it sends, its answers come through unchanged and leave both in TRANSIENT."""
    client, server = transient_pair()
    for number, request in enumerate(requests, 1):
        if request[0] == "chat":
            _, text, to = request
            assert isinstance(text, str) and (to is None or isinstance(to, str))
            chat = transmit(client, server, ev.SendChat(text, to, number))
            assert isinstance(chat, ev.SendChat)
            if number % 3:
                delivered = ev.ChatMessage(number, 0, number, "개구리", to, text)
                assert transmit(server, client, delivered) == delivered
            else:
                transmit(server, client, ev.ChatRejected(number, "rate-limited"))
        elif request[0] == "file":
            size = request[1]
            assert isinstance(size, int)
            transmit(client, server, ev.FileOffer(number, "a.txt", size, SHA))
            transmit(server, client, ev.FileAccepted(number))
            if size:
                transmit(client, server, ev.FileChunk(number, 0, bytes(size)))
            transmit(client, server, ev.FileEnd(number))
            available = ev.FileAvailable(number, 0, number, "개구리", None, "a.txt", size, SHA,
                                         number)
            assert transmit(server, client, available) == available
        else:
            transmit(client, server, ev.Ping(number))
            transmit(server, client, ev.Pong(number))
        assert (client.our_state, client.their_state) == (State.TRANSIENT, State.TRANSIENT)
        assert client.open_uploads == server.open_uploads == 0


@pytest.mark.parametrize("event", [
    ev.Presence("bob", ev.PresenceState.JOINED, 3),
    ev.ChatMessage(1, 0, 0, "bob", None, "someone else's"),
    ev.ChatMessage(1, 0, 0, "bob", "개구리", "even to us"),
    ev.FileAvailable(1, 0, 5, "bob", None, "a.txt", 1, SHA, 0),
    ev.FileAvailable(1, 0, 5, "개구리", None, "a.txt", 1, SHA, 0),  # no upload of ours
    ev.FileChunk(5, 0, b"x"),
    ev.FetchRejected(5, "not-found"),
], ids=lambda e: type(e).__name__)
def test_nothing_unasked_reaches_a_transient_connection(event: ev.Event) -> None:
    client, server = transient_pair()
    with pytest.raises(LocalProtocolError):
        server.send(event)
    client.receive_data(encode_event(event))
    with pytest.raises(RemoteProtocolError) as broken:
        client.next_event()
    assert broken.value.code == ErrorCode.UNEXPECTED_MESSAGE


def test_a_transient_connection_fetches_nothing() -> None:
    client, server = transient_pair()
    with pytest.raises(LocalProtocolError):
        client.send(ev.FetchFile(5))
    server.receive_data(encode_event(ev.FetchFile(5)))
    with pytest.raises(RemoteProtocolError):
        server.next_event()


def test_a_transient_login_gets_no_resume_token() -> None:
    client, server = greeted(PROTOCOL_VERSION, PROTOCOL_VERSION)
    transmit(client, server, ev.TransientLogin("bob", "pw"))
    with pytest.raises(LocalProtocolError) as refused:
        server.send(ev.LoginAccepted("bob", False, False, 0, resume_token=SHA))
    assert refused.value.code == ErrorCode.INVALID_FIELD


def test_a_refused_transient_login_may_be_followed_by_a_login() -> None:
    """After ``too-many-logins`` a client may log in the ordinary way, on the same
    connection: the verdict of that Login is an ordinary one."""
    client, server = greeted(PROTOCOL_VERSION, PROTOCOL_VERSION)
    transmit(client, server, ev.TransientLogin("bob", "pw"))
    transmit(server, client, ev.LoginRejected("too-many-logins"))
    assert not client.transient and client.our_state is State.LOGIN
    transmit(client, server, ev.Login("bob", "pw"))
    transmit(server, client, ev.LoginAccepted("bob", False, False, 0, resume_token=SHA))
    assert (client.our_state, server.our_state) == (State.ACTIVE, State.ACTIVE)
    assert server.accepts_broadcasts


@given(first=st.integers(0, 4), rest=st.lists(st.integers(1, 3), max_size=3))
@SETTINGS
def test_a_transient_participant_list_may_come_in_pages(first: int, rest: list[int]) -> None:
    """The pages come as after a Login; the client's state has the whole list, without
    the caller, and the pair ends in TRANSIENT, not ACTIVE."""
    client, server = greeted(PROTOCOL_VERSION, PROTOCOL_VERSION)
    transmit(client, server, ev.TransientLogin("개구리", "pw"))
    everyone = [ev.Participant(f"p{i}") for i in range(first + sum(rest))]
    pages = [everyone[:first]]
    at = first
    for size in rest:
        pages.append(everyone[at:at + size])
        at += size
    state = ClientState()
    accepted = ev.LoginAccepted("개구리", False, False, 0, tuple(pages[0]),
                                participant_count=len(everyone))
    client.receive_data(server.send(accepted))
    for page in pages[1:]:
        client.receive_data(server.send(ev.ParticipantList(tuple(page))))
    outcomes = [o for event in drain(client) for o in state.receive(event)]
    assert [type(o) for o in outcomes] == [LoginComplete]
    assert set(state.participants) == {p.name for p in everyone}
    assert "개구리" not in state.participants
    assert (client.our_state, server.our_state) == (State.TRANSIENT, State.TRANSIENT)
