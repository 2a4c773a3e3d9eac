"""Room requests and searches (docs/protocol.md 7.10, 7.11) against a model.

Both peers track the open requests (``request_state.py``); a random conversation of
requests and answers, some of them wrong, must be judged the same way by the sender
(``LocalProtocolError``: the connection is then in ERROR, as for any message its state
forbids) and, when the same bytes are forged past the sender onto a copy of the
conversation, by the receiver (``RemoteProtocolError`` with the same code). After a
refusal the conversation goes on from a copy with the same requests open."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from chatproto import (
    ClientConnection,
    LocalProtocolError,
    RemoteProtocolError,
    ServerConnection,
    encode_event,
)
from chatproto import events as ev
from chatproto.limits import MAX_OPEN_REQUESTS, MAX_SEARCH_LIMIT

from .support import logged_in_pair

IDS = st.sampled_from([0, 1, 2, 2**63, 2**64 - 1]) | st.integers(0, 2**64 - 1)

#: What a request waits for, in the model: its kind and, for a search, hits still allowed.
Waiting = tuple[str, int]


def _request(kind: str, request_id: int, limit: int) -> ev.Event:
    if kind == "search":
        return ev.SearchHistory(request_id, "안녕", limit)
    if kind == "list":
        return ev.ListRooms(request_id)
    return {
        "create": ev.CreateRoom(request_id, "dev", True),
        "join": ev.JoinRoom(request_id, "dev"),
        "leave": ev.LeaveRoom(request_id, "dev"),
        "invite": ev.InviteToRoom(request_id, "dev", "bob"),
    }[kind]


def _answer(kind: str, request_id: int, more: bool) -> ev.Event:
    return {
        "done": ev.RequestDone(request_id),
        "rejected": ev.RequestRejected(request_id, "not-found", "no room dev"),
        "rooms": ev.RoomList(request_id, (ev.RoomInfo("dev", 2, False, True),), more),
        "hit": ev.SearchHit(request_id, 9, 0, "bob", "#dev", "안녕하세요"),
        "search-done": ev.SearchDone(request_id, more),
    }[kind]


def _answer_allowed(answer: str, waiting: Waiting | None) -> bool:
    if waiting is None:
        return False
    kind, hits_left = waiting
    return {
        "done": kind == "change",
        "rejected": True,
        "rooms": kind == "list",
        "hit": kind == "search" and hits_left > 0,
        "search-done": kind == "search",
    }[answer]


class Requests(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.client: ClientConnection
        self.server: ServerConnection
        self.client, self.server = logged_in_pair()
        self.model: dict[int, Waiting] = {}
        self.known_ids: list[int] = []

    def _ids(self, data: Any, *, prefer_open: bool = False) -> int:
        """Mostly an id in play (an open one, for answers), sometimes any u64."""
        pool = sorted(self.model) if prefer_open and self.model else self.known_ids
        if pool and data.draw(st.integers(0, 4)) > 0:
            return int(data.draw(st.sampled_from(pool)))
        return int(data.draw(IDS))

    @rule(data=st.data(),
          kind=st.sampled_from(["create", "join", "leave", "invite", "list", "search"]),
          limit=st.sampled_from([1, 1, 1, 2, MAX_SEARCH_LIMIT]))
    def client_requests(self, data: Any, kind: str, limit: int) -> None:
        request_id = self._ids(data)
        event = _request(kind, request_id, limit)
        allowed = request_id not in self.model and len(self.model) < MAX_OPEN_REQUESTS
        try:
            frame = self.client.send(event)
        except LocalProtocolError as exc:
            assert not allowed, exc
            _, server = self._replayed()
            server.receive_data(encode_event(event))
            try:
                server.next_event()
            except RemoteProtocolError as remote:
                assert remote.code == exc.code
            else:
                raise AssertionError("the server accepted what the client may not send")
            self.client, self.server = self._replayed()
            return
        assert allowed
        self.server.receive_data(frame)
        assert self.server.next_event() == event
        self.model[request_id] = (
            "search" if kind == "search" else "list" if kind == "list" else "change",
            limit,
        )
        self.known_ids.append(request_id)

    @rule(data=st.data(),
          answer=st.sampled_from(["done", "rejected", "rooms", "hit", "search-done"]),
          more=st.booleans())
    def server_answers(self, data: Any, answer: str, more: bool) -> None:
        request_id = self._ids(data, prefer_open=True)
        event = _answer(answer, request_id, more)
        waiting = self.model.get(request_id)
        allowed = _answer_allowed(answer, waiting)
        try:
            frame = self.server.send(event)
        except LocalProtocolError as exc:
            assert not allowed, exc
            # The same bytes forged onto a fresh copy of the conversation are refused by
            # the client with the code the sender gave.
            client, _ = self._replayed()
            client.receive_data(encode_event(event))
            try:
                client.next_event()
            except RemoteProtocolError as remote:
                assert remote.code == exc.code
            else:
                raise AssertionError("the client accepted what the server may not send")
            self.client, self.server = self._replayed()
            return
        assert allowed, (answer, waiting)
        self.client.receive_data(frame)
        assert self.client.next_event() == event
        assert waiting is not None
        kind, hits_left = waiting
        if answer == "hit":
            self.model[request_id] = (kind, hits_left - 1)
        elif answer != "rooms" or not more:
            del self.model[request_id]

    def _replayed(self) -> tuple[ClientConnection, ServerConnection]:
        """A fresh pair with the same requests open (and the same hits left)."""
        client, server = logged_in_pair()
        for request_id, (kind, hits_left) in self.model.items():
            request = _request({"change": "join"}.get(kind, kind), request_id, max(hits_left, 1))
            server.receive_data(client.send(request))
            server.next_event()
            if kind == "search" and hits_left == 0:
                # A search whose hits are used up: one allowed, then sent.
                hit = _answer("hit", request_id, False)
                client.receive_data(server.send(hit))
                client.next_event()
        return client, server

    @invariant()
    def both_peers_count_the_same_open_requests(self) -> None:
        assert self.client._conversation.open_requests == len(self.model)
        assert self.server._conversation.open_requests == len(self.model)


Requests.TestCase.settings = settings(
    max_examples=300, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRequests = Requests.TestCase


def test_a_version_3_connection_refuses_every_room_message() -> None:
    for event in (ev.JoinRoom(1, "dev"), ev.SendChat("hi", "#dev"),
                  ev.FileOffer(1, "a.txt", 1, bytes(32), "#dev")):
        client, server = ClientConnection(), ServerConnection()
        server.receive_data(client.send(ev.Hello(3, client.limits.max_frame_size)))
        server.next_event()
        client.receive_data(server.send(server.hello()))
        client.next_event()
        client.send(ev.Login("bob", "pw"))
        try:
            client.send(event)
        except LocalProtocolError as exc:
            assert exc.code == "unexpected-message"
        else:
            raise AssertionError(f"{event} was sent on a version 3 connection")
