"""Rooms and search on the session, against a scripted version 4 peer.

The peer speaks the server side with ``chatproto.ServerConnection`` over a
real loopback socket, so every frame passes the real codec and both state
machines (which refuse a 17th open request or an answer to nothing); it
answers on cue in ways a real server seldom does: list pages of one room
each, answers held back until sixteen requests are open, a connection cut
in the middle of a request, a version 3 Hello.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from chatproto import (
    NEED_DATA,
    ChatMessage,
    CreateRoom,
    Event,
    Hello,
    InviteToRoom,
    JoinRoom,
    LeaveRoom,
    ListRooms,
    Login,
    LoginAccepted,
    Membership,
    MembershipState,
    RequestDone,
    RequestRejected,
    RoomInfo,
    RoomList,
    SearchDone,
    SearchHistory,
    SearchHit,
    SendChat,
    ServerConnection,
    State,
    TransientLogin,
)
from chatproto.limits import MAX_OPEN_REQUESTS
from chatproto.session import (
    NO_TLS,
    AsyncSession,
    ConnectionLost,
    Disconnected,
    RequestRefused,
    SearchPage,
    Session,
)

T = TypeVar("T")
TIMEOUT = 20.0
ROOMS = tuple(RoomInfo(f"room{i}", i + 1, i % 2 == 1, i % 3 == 0) for i in range(5))
HITS = tuple(SearchHit(0, seq, 1_700_000_000_000 + seq, "toad", "#dev", f"hello {seq}")
             for seq in (90, 70, 50, 30))


class Script:
    """The scripted server: what it answers, and what it saw."""

    def __init__(self, version: int | None = None) -> None:
        self.version = version
        self.seen: list[Event] = []
        self.hold = False
        self.held: list[JoinRoom] = []
        self.most_held = 0
        self.changed = asyncio.Event()
        self._writers: list[Callable[[Event], None]] = []

    def answers(self, event: Event) -> list[Event]:
        if isinstance(event, CreateRoom):
            if event.room == "dev":
                return [RequestRejected(event.request_id, "already-exists", "dev exists")]
            return [Membership(event.room, "frog", MembershipState.JOINED, 1),
                    RequestDone(event.request_id)]
        if isinstance(event, LeaveRoom | InviteToRoom):
            return [RequestDone(event.request_id)]
        if isinstance(event, ListRooms):
            pages = [RoomList(event.request_id, (room,), True) for room in ROOMS]
            return [*pages, RoomList(event.request_id, (), False)]
        if isinstance(event, SearchHistory):
            hits = [h for h in HITS if not event.before_seq or h.seq < event.before_seq]
            page = hits[: event.limit]
            more = len(hits) > len(page)
            return [*(SearchHit(event.request_id, h.seq, h.timestamp_ms, h.sender, h.recipient,
                                h.text) for h in page), SearchDone(event.request_id, more)]
        if isinstance(event, SendChat):
            # Room names come back as registered, as user names do.
            recipient = "#dev" if event.recipient == "#Dev" else event.recipient
            return [ChatMessage(7, 0, event.client_id, "frog", recipient, event.text)]
        return []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = ServerConnection()
        try:
            while True:
                event = conn.next_event()
                if event is NEED_DATA:
                    data = await reader.read(65536)
                    conn.receive_data(data)
                    if not data:
                        break
                    continue
                assert isinstance(event, Event)
                self.seen.append(event)
                if isinstance(event, Hello):
                    hello = conn.hello("scripted")
                    if self.version is not None:
                        hello = Hello(self.version, hello.max_frame_size, "old")
                    writer.write(conn.send(hello))
                elif isinstance(event, Login | TransientLogin):
                    writer.write(conn.send(LoginAccepted(event.username, False, True, 0)))
                elif isinstance(event, JoinRoom) and event.room == "vanish":
                    break  # cut the connection with the request open
                elif isinstance(event, JoinRoom) and self.hold:
                    self.held.append(event)
                    self.most_held = max(self.most_held, len(self.held))
                elif isinstance(event, JoinRoom):
                    writer.write(conn.send(RequestDone(event.request_id)))
                else:
                    for answer in self.answers(event):
                        writer.write(conn.send(answer))
                if self.held and not self.hold:
                    for held in self.held:
                        writer.write(conn.send(RequestDone(held.request_id)))
                    self.held.clear()
                self.changed.set()
                if conn.their_state in (State.CLOSED, State.ERROR):
                    break
        finally:
            writer.close()

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(TIMEOUT):
            while not condition():
                self.changed.clear()
                await self.changed.wait()


async def _with_session(
    script: Script, body: Callable[[AsyncSession], Awaitable[None]], **kwargs: object
) -> None:
    server = await asyncio.start_server(script.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        session = await AsyncSession.connect("127.0.0.1", port, "frog", "pw", tls=NO_TLS,
                                             **kwargs)  # type: ignore[arg-type]
        try:
            await body(session)
        finally:
            await session.close()


def run(script: Script, body: Callable[[AsyncSession], Awaitable[None]], **kwargs: object) -> None:
    asyncio.run(asyncio.wait_for(_with_session(script, body, **kwargs), 60))


def test_changes_succeed_or_raise_the_servers_reason() -> None:
    async def body(session: AsyncSession) -> None:
        assert session.rooms_supported and session.protocol_version >= 4
        assert await session.create_room("lab", private=True) is None
        membership = await asyncio.wait_for(session.next_event(), TIMEOUT)
        assert membership == Membership("lab", "frog", MembershipState.JOINED, 1)
        await session.join_room("lab")
        await session.invite("lab", "toad")
        await session.leave_room("lab")
        with pytest.raises(RequestRefused) as exists:
            await session.create_room("dev")
        assert (exists.value.reason, exists.value.code) == ("already-exists", "already-exists")
        assert exists.value.message == "cannot create dev: already-exists (dev exists)"
        with pytest.raises(RequestRefused) as general:
            await session.leave_room("General")
        assert general.value.reason == "cannot-leave-general"  # answered without asking
        for change in (session.create_room, session.join_room):
            with pytest.raises(RequestRefused):
                await change("\uff27eneral")  # a fullwidth G: the same skeleton

    script = Script()
    run(script, body)
    sent = [e for e in script.seen if hasattr(e, "request_id")]
    assert [type(e) for e in sent] == [CreateRoom, JoinRoom, InviteToRoom, LeaveRoom,
                                       CreateRoom]
    assert sent[0] == CreateRoom(sent[0].request_id, "lab", True)
    assert sent[2] == InviteToRoom(sent[2].request_id, "lab", "toad")
    assert len({e.request_id for e in sent}) == len(sent)


def test_list_rooms_gathers_every_page() -> None:
    async def body(session: AsyncSession) -> None:
        assert await session.list_rooms() == list(ROOMS)

    run(Script(), body)


def test_search_pages_follow_before_seq() -> None:
    async def body(session: AsyncSession) -> None:
        first = await session.search("hello", room="dev", sender="toad", limit=3)
        assert isinstance(first, SearchPage)
        assert [h.seq for h in first.hits] == [90, 70, 50]
        assert first.more and first.next_before_seq == 50
        assert first.hits[0].room == "dev" and first.hits[0].text == "hello 90"
        rest = await session.search("hello", limit=3, before_seq=first.next_before_seq)
        assert [h.seq for h in rest.hits] == [30] and not rest.more
        empty = await session.search("hello", before_seq=30)
        assert empty == SearchPage((), False) and empty.next_before_seq == 0
        with pytest.raises(ValueError, match="1 to 100"):
            await session.search("hello", limit=101)

    script = Script()
    run(script, body)
    asked = [e for e in script.seen if isinstance(e, SearchHistory)]
    assert (asked[0].query, asked[0].room, asked[0].sender, asked[0].limit) == (
        "hello", "dev", "toad", 3)
    assert asked[1].before_seq == 50 and asked[1].room is None
    assert len(asked) == 3  # the bad limit sent nothing


def test_room_sends_name_the_room_and_general_is_no_recipient() -> None:
    async def body(session: AsyncSession) -> None:
        # The server answers #Dev as #dev: still our delivery.
        delivered = await session.send_chat("hi", room="Dev")
        assert delivered.recipient == "#dev" and delivered.room == "dev"
        assert (await session.send_chat("all", room="GENERAL")).recipient is None
        assert (await session.send_chat("psst", to="toad")).recipient == "toad"
        with pytest.raises(ValueError, match="not both"):
            await session.send_chat("x", to="toad", room="dev")

    script = Script()
    run(script, body)
    chats = [e for e in script.seen if isinstance(e, SendChat)]
    assert [c.recipient for c in chats] == ["#Dev", None, "toad"]


def test_more_requests_than_slots_wait_for_one() -> None:
    count = MAX_OPEN_REQUESTS + 4

    async def body(session: AsyncSession) -> None:
        script.hold = True
        joins = [asyncio.ensure_future(session.join_room(f"r{i}")) for i in range(count)]
        await script.wait_for(lambda: len(script.held) == MAX_OPEN_REQUESTS)
        assert not any(join.done() for join in joins)
        script.hold = False
        await session.send_chat("go")  # any frame makes the server answer what it holds
        await asyncio.wait_for(asyncio.gather(*joins), TIMEOUT)

    script = Script()
    run(script, body)
    assert script.most_held == MAX_OPEN_REQUESTS
    assert len([e for e in script.seen if isinstance(e, JoinRoom)]) == count


def test_a_cancelled_request_keeps_its_slot_until_answered() -> None:
    async def body(session: AsyncSession) -> None:
        script.hold = True
        first = asyncio.ensure_future(session.join_room("slow"))
        await script.wait_for(lambda: len(script.held) == 1)
        first.cancel()
        others = [asyncio.ensure_future(session.join_room(f"r{i}"))
                  for i in range(MAX_OPEN_REQUESTS)]
        await script.wait_for(lambda: len(script.held) == MAX_OPEN_REQUESTS)
        script.hold = False
        await session.send_chat("go")
        await asyncio.wait_for(asyncio.gather(*others), TIMEOUT)
        assert first.cancelled()

    script = Script()
    run(script, body)
    assert script.most_held == MAX_OPEN_REQUESTS


def test_a_lost_connection_fails_the_open_requests() -> None:
    async def body(session: AsyncSession) -> None:
        with pytest.raises(ConnectionLost):
            await session.join_room("vanish")
        with pytest.raises(ConnectionLost):
            await session.list_rooms()
        while not isinstance(await asyncio.wait_for(session.next_event(), TIMEOUT),
                             Disconnected):
            pass

    run(Script(), body)


def test_a_version_3_server_has_no_rooms() -> None:
    async def body(session: AsyncSession) -> None:
        assert not session.rooms_supported and session.protocol_version == 3
        calls: list[Callable[[], Awaitable[object]]] = [
            lambda: session.create_room("lab"),
            lambda: session.join_room("lab"),
            lambda: session.leave_room("lab"),
            lambda: session.invite("lab", "toad"),
            session.list_rooms,
            lambda: session.search("hello"),
            lambda: session.send_chat("hi", room="lab"),
        ]
        for call in calls:
            with pytest.raises(RequestRefused) as refused:
                await call()
            assert refused.value.reason == "not-supported"
            assert str(refused.value) == "this server has no rooms (protocol version 3)"
        assert (await session.send_chat("hi", room="general")).recipient is None

    script = Script(version=3)
    run(script, body)
    assert not [e for e in script.seen if hasattr(e, "request_id")]


def test_a_transient_session_may_ask_too() -> None:
    async def body(session: AsyncSession) -> None:
        assert session.transient
        await session.join_room("lab")
        assert await session.list_rooms() == list(ROOMS)

    run(Script(), body, transient=True, keep_events=False)


def test_the_blocking_face() -> None:
    script = Script()

    async def serve() -> tuple[asyncio.Server, int]:
        server = await asyncio.start_server(script.serve, "127.0.0.1", 0)
        return server, server.sockets[0].getsockname()[1]

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        server, port = asyncio.run_coroutine_threadsafe(serve(), loop).result(TIMEOUT)
        with Session.connect("127.0.0.1", port, "frog", "pw", tls=NO_TLS) as session:
            assert session.rooms_supported
            session.create_room("lab")
            assert session.events.get(timeout=TIMEOUT) == Membership(
                "lab", "frog", MembershipState.JOINED, 1)
            session.join_room("lab")
            session.invite("lab", "toad")
            session.leave_room("lab")
            assert session.list_rooms() == list(ROOMS)
            page = session.search_async("hello", limit=2).result(TIMEOUT)
            assert [h.seq for h in page.hits] == [90, 70] and page.next_before_seq == 70
            assert session.send_chat("hi", room="Dev").recipient == "#dev"
            with pytest.raises(RequestRefused):
                session.create_room("dev")
        asyncio.run_coroutine_threadsafe(_close(server), loop).result(TIMEOUT)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(TIMEOUT)


async def _close(server: asyncio.Server) -> None:
    server.close()
    await server.wait_closed()
