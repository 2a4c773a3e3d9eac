"""Helpers of the room tests: a request and its answer, room messages, a v3 client."""

from __future__ import annotations

import itertools
from typing import Any

from chatproto import (
    ChatMessage,
    Event,
    Hello,
    Membership,
    RequestDone,
    RequestRejected,
    RoomInfo,
    RoomList,
    SendChat,
)
from support import RawClient

_ids = itertools.count(1)


def answer_to(request_id: int) -> Any:
    return lambda e: getattr(e, "request_id", None) == request_id


def ask(client: RawClient, event_type: Any, *args: Any, **kwargs: Any) -> Event:
    """Send a request (a fresh request id first) and wait for its answer."""
    request_id = next(_ids)
    client.send(event_type(request_id, *args, **kwargs))
    return client.wait_for(
        lambda e: isinstance(e, RequestDone | RequestRejected | RoomList)
        and e.request_id == request_id
    )


def done(client: RawClient, event_type: Any, *args: Any, **kwargs: Any) -> None:
    answer = ask(client, event_type, *args, **kwargs)
    assert isinstance(answer, RequestDone), answer


def refused(client: RawClient, event_type: Any, *args: Any, **kwargs: Any) -> str:
    """The reason of the refusal of the request (it must be refused)."""
    answer = ask(client, event_type, *args, **kwargs)
    assert isinstance(answer, RequestRejected), answer
    assert answer.message  # a readable message with every reason
    return answer.reason


def list_rooms(client: RawClient) -> dict[str, RoomInfo]:
    """Every page of a ListRooms answer, by room name."""
    from chatproto import ListRooms

    request_id = next(_ids)
    client.send(ListRooms(request_id))
    rooms: dict[str, RoomInfo] = {}
    while True:
        page: Event = client.wait_for(
            lambda e: isinstance(e, RoomList) and e.request_id == request_id
        )
        assert isinstance(page, RoomList)
        rooms.update((info.name, info) for info in page.rooms)
        if not page.more:
            return rooms


def membership(room: str, user: str, state: str) -> Any:
    return lambda e: (
        isinstance(e, Membership) and (e.room, e.user, e.state) == (room, user, state)
    )


def say(client: RawClient, text: str, recipient: str | None = None) -> ChatMessage:
    """Send ``text`` and wait for its echo."""
    client_id = next(_ids)
    client.send(SendChat(text, recipient=recipient, client_id=client_id))
    echo: Event = client.wait_for(lambda e: isinstance(e, ChatMessage) and e.client_id == client_id)
    assert isinstance(echo, ChatMessage)
    return echo


def chats(client: RawClient) -> list[ChatMessage]:
    return [e for e in client.received if isinstance(e, ChatMessage)]


def v3_login(server: Any, name: str, last_seen_seq: int = 0) -> RawClient:
    """A client that speaks protocol version 3 (no rooms), logged in."""
    from chatproto import LoginAccepted

    client = RawClient(server.address)
    client.send(Hello(3, client.conn.limits.max_frame_size, "v3-test-client"))
    assert client.wait_for(Hello).version == 3
    assert not client.conn.speaks_rooms
    reply = client.login(name, last_seen_seq=last_seen_seq)
    assert isinstance(reply, LoginAccepted), reply
    return client
