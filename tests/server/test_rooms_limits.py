"""Room limits from the command line, requests under the flood limit, the
room list's pages, requests on a transient login, and the search's room
filter (issue 15)."""

from __future__ import annotations

from pathlib import Path

from chatproto import (
    CreateRoom,
    InviteToRoom,
    JoinRoom,
    LeaveRoom,
    ListRooms,
    LoginAccepted,
    Membership,
    RequestDone,
    RequestRejected,
    RoomInfo,
    RoomList,
    SearchDone,
    SearchHistory,
    SearchHit,
    TransientLogin,
    room_pages,
)
from chatproto.limits import MAX_ROOMS_PER_PAGE, MIN_FRAME_SIZE
from chatproto.wire import LAYOUT_BY_CLASS
from server.rooms_support import answer_to, ask, done, list_rooms, membership, refused, say
from support import RawClient, RunningServer, running_server, server_process


def test_limits_set_on_the_command_line_are_refused_clearly(data_dir: Path) -> None:
    with server_process(
        data_dir, "--flood-rate", "0", "--max-rooms-per-user", "2",
        "--max-members-per-room", "2", "--max-private-rooms-per-creator", "1",
    ) as server:
        alice = RawClient.login_as(server, "alice")
        bob = RawClient.login_as(server, "bob")
        carol = RawClient.login_as(server, "carol")
        done(alice, CreateRoom, "one", private=True)
        assert refused(alice, CreateRoom, "two", private=True) == "too-many-private-rooms"
        done(alice, CreateRoom, "two")
        assert refused(alice, CreateRoom, "three") == "too-many-rooms"
        done(bob, JoinRoom, "two")
        assert refused(carol, JoinRoom, "two") == "room-full"
        done(alice, InviteToRoom, "one", "carol")  # 1 of 2 members: room for one more
        assert carol.wait_for(membership("one", "carol", "joined")).member_count == 2
        assert refused(alice, InviteToRoom, "two", "carol") == "room-full"
        done(carol, CreateRoom, "four")
        assert refused(bob, InviteToRoom, "two", "carol") == "too-many-rooms"  # carol is full
        done(bob, LeaveRoom, "two")
        assert refused(carol, JoinRoom, "two") == "too-many-rooms"  # one and four
        # A private room deleted with its last member no longer counts.
        done(alice, LeaveRoom, "one")
        done(carol, LeaveRoom, "one")
        done(alice, CreateRoom, "five", private=True)


def test_requests_are_under_the_users_flood_limit(data_dir: Path) -> None:
    with running_server(data_dir, flood_rate=0.001, flood_burst=3) as server:
        alice = RawClient.login_as(server, "alice")
        answers = [ask(alice, ListRooms) for _ in range(4)]
        assert [type(a) for a in answers[:3]] == [RoomList] * 3
        last = answers[3]
        assert isinstance(last, RequestRejected) and last.reason == "rate-limited"


def test_the_room_list_comes_in_pages(data_dir: Path) -> None:
    with running_server(data_dir, flood_rate=0, max_rooms_per_user=2000) as server:
        alice = RawClient.login_as(server, "alice")
        names = [f"room{i:04}" for i in range(MAX_ROOMS_PER_PAGE)]
        window = 16  # the protocol's open requests at most
        for start in range(0, len(names), window):
            ids = []
            for offset, name in enumerate(names[start : start + window]):
                request_id = 10_000 + start + offset
                alice.send(CreateRoom(request_id, name))
                ids.append(request_id)
            for request_id in ids:
                assert isinstance(alice.wait_for(answer_to(request_id)), RequestDone)
        alice.send(ListRooms(1))
        pages: list[RoomList] = []
        while not pages or pages[-1].more:
            pages.append(alice.wait_for(RoomList))
        # general and 1000 rooms: two pages, the first as full as allowed.
        assert [len(page.rooms) for page in pages] == [MAX_ROOMS_PER_PAGE, 1]
        listed = [info.name for page in pages for info in page.rooms]
        assert listed == ["general", *names]


def test_room_pages_fit_the_peers_frames() -> None:
    rooms = [RoomInfo("가" * 32, 1) for _ in range(2000)]  # 102 bytes each
    pages = room_pages(rooms, MIN_FRAME_SIZE)
    room = MIN_FRAME_SIZE - LAYOUT_BY_CLASS[RoomList].fixed_size
    assert [len(page) for page in pages][:1] == [room // 102]
    assert sum(len(page) for page in pages) == 2000
    assert all(sum(6 + 96 for _ in page) <= room for page in pages)
    assert room_pages([], MIN_FRAME_SIZE) == [()]


def test_a_transient_login_may_ask_and_gets_no_membership(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    script = RawClient(server.address)
    script.hello()
    script.send(TransientLogin("alice", "secret"))
    assert isinstance(script.wait_for(LoginAccepted), LoginAccepted)
    done(script, CreateRoom, "dev")
    assert alice.wait_for(membership("dev", "alice", "joined")).member_count == 1
    assert list_rooms(script)["dev"] == RoomInfo("dev", 1, False, True)
    done(alice, LeaveRoom, "dev")
    alice.wait_for(membership("dev", "alice", "left"))
    assert list_rooms(script).keys() == {"general"}
    assert not any(isinstance(e, Membership) for e in script.received)


def test_search_in_a_room_one_cannot_see_is_refused(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    done(alice, CreateRoom, "secret", private=True)
    done(alice, CreateRoom, "open")
    assert refused(bob, SearchHistory, "hello", 10, room="secret") == "not-found"
    assert refused(bob, SearchHistory, "hello", 10, room="nosuch") == "not-found"
    assert refused(bob, SearchHistory, "hello", 10, room="open") == "not-member"


def test_search_answers_hits_newest_first_then_done(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    done(alice, CreateRoom, "secret", private=True)
    visible = [say(alice, f"apple {i}").seq for i in range(3)]
    say(alice, "apple in secret", "#secret")
    bob.send(SearchHistory(500, "APPLE", 2))
    hits = [bob.wait_for(SearchHit) for _ in range(2)]
    end = bob.wait_for(SearchDone)
    assert [hit.seq for hit in hits] == visible[:0:-1] and end.more
    assert all(hit.request_id == 500 and hit.sender == "alice" for hit in hits)
    bob.send(SearchHistory(501, "apple", 10, before_seq=hits[-1].seq))
    assert bob.wait_for(SearchHit).seq == visible[0]
    assert not bob.wait_for(SearchDone).more
    alice.send(SearchHistory(502, "apple", 10, room="secret"))
    hit = alice.wait_for(SearchHit)
    assert (hit.text, hit.recipient) == ("apple in secret", "#secret")
    assert not alice.wait_for(SearchDone).more
    assert refused(alice, SearchHistory, "...", 10) == "bad-query"
