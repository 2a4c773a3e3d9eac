"""ClientState's room requests and searches (ClientRequests), driven by hand."""

from __future__ import annotations

import pytest

from chatproto import (
    ChatMessage,
    ClientState,
    CreateRoom,
    FileAvailable,
    HandOn,
    ListRooms,
    LoginAccepted,
    LoginComplete,
    Membership,
    MembershipState,
    Participant,
    RequestDone,
    RequestRejected,
    RoomInfo,
    RoomList,
    SearchDone,
    SearchHistory,
    SearchHit,
    UploadCompleted,
)
from chatproto.client_requests import (
    ClientRequests,
    RequestFailed,
    RequestSucceeded,
    RoomsListed,
    SearchFinished,
    SearchPage,
)
from chatproto.limits import MAX_OPEN_REQUESTS
from chatproto.targets import same_target


def logged_in() -> ClientState:
    client = ClientState(first_client_id=100, first_upload_id=500, first_request_id=7)
    accepted = LoginAccepted("frog", False, True, 0, (Participant("frog"),))
    assert client.receive(accepted) == (LoginComplete(accepted),)
    return client


def test_a_change_ends_with_done_or_rejected() -> None:
    client = logged_in()
    create = client.requests.create_room("lab", private=True)
    join = client.requests.join_room("dev")
    assert (create, join.request_id) == (CreateRoom(7, "lab", True), 8)
    assert client.requests.open_request_ids == {7, 8}
    assert client.receive(RequestDone(7)) == (RequestSucceeded(7),)
    refused = client.receive(RequestRejected(8, "not-found", "no such room"))
    assert refused == (RequestFailed(8, "not-found", "no such room"),)
    assert refused[0].describe() == "not-found (no such room)"  # type: ignore[union-attr]
    assert client.requests.open_request_ids == frozenset()
    # Answers to nothing open (late, or never ours) give nothing.
    assert client.receive(RequestDone(7)) == ()
    assert client.receive(RequestRejected(99, "not-found")) == ()


def test_room_pages_are_gathered_until_the_last() -> None:
    client = logged_in()
    request = client.requests.list_rooms()
    assert request == ListRooms(7)
    a, b = RoomInfo("a", 1), RoomInfo("b", 2, True, True)
    assert client.receive(RoomList(7, (a,), True)) == ()
    assert client.receive(RoomList(7, (b,), True)) == ()
    assert client.receive(RoomList(7, (), False)) == (RoomsListed(7, (a, b)),)
    assert client.receive(RoomList(7, (a,), False)) == ()


def test_search_hits_are_gathered_until_done() -> None:
    client = logged_in()
    request = client.requests.search("hi", 5, before_seq=40, room="general", sender="toad")
    assert request == SearchHistory(7, "hi", 5, 40, "general", "toad")
    hits = [SearchHit(7, seq, 0, "toad", None, "hi") for seq in (30, 20)]
    assert [client.receive(hit) for hit in hits] == [(), ()]
    done = client.receive(SearchDone(7, True))
    assert done == (SearchFinished(7, SearchPage(tuple(hits), True)),)
    assert done[0].page.next_before_seq == 20  # type: ignore[union-attr]
    assert SearchPage((), False).next_before_seq == 0
    assert client.receive(SearchDone(7, False)) == ()


def test_search_limits_are_the_protocols() -> None:
    requests = ClientRequests(first_request_id=1)
    for bad in (0, 101):
        with pytest.raises(ValueError):
            requests.search("hi", bad)
    with pytest.raises(ValueError):
        requests.search("hi", 10, before_seq=-1)
    assert requests.open_request_ids == frozenset()


def test_ids_are_unique_and_at_most_sixteen_are_open() -> None:
    requests = ClientRequests(first_request_id=2**64 - 2)
    ids = [requests.join_room(f"r{i}").request_id for i in range(MAX_OPEN_REQUESTS)]
    assert ids[:3] == [2**64 - 2, 2**64 - 1, 0]  # u64 ids wrap
    assert len(set(ids)) == MAX_OPEN_REQUESTS and not requests.has_room
    with pytest.raises(RuntimeError, match="requests are open"):
        requests.list_rooms()
    requests.forget(ids[0])
    assert requests.has_room
    assert requests.receive(RequestDone(ids[1])) == (RequestSucceeded(ids[1]),)
    fresh = requests.join_room("again").request_id
    assert fresh not in ids[2:]


def test_ids_skip_the_ones_still_open() -> None:
    # One request outlives a full turn of the u64 counter: its id is not reused.
    requests = ClientRequests(first_request_id=5)
    long_open = requests.join_room("slow").request_id
    requests._ids = iter([long_open, long_open + 1])  # the counter came round
    assert requests.join_room("next").request_id == long_open + 1


def test_membership_is_handed_on() -> None:
    client = logged_in()
    event = Membership("lab", "toad", MembershipState.JOINED, 2)
    assert client.receive(event) == (HandOn(event),)


def test_echoes_match_by_skeleton() -> None:
    client = logged_in()
    chat = client.start_chat("hi", "#Dev")
    echo = ChatMessage(3, 0, chat.client_id, "frog", "#dev", "hi")
    assert client.receive(echo)[0].__class__.__name__ == "ChatDelivered"
    offer = client.start_upload("f.txt", 3, bytes(32), "TOAD")
    announced = FileAvailable(4, 0, 9, "frog", "toad", "f.txt", 3, bytes(32), offer.upload_id)
    assert client.receive(announced)[0] == UploadCompleted(offer.upload_id, announced)
    assert same_target(None, None) and not same_target(None, "toad")
    assert not same_target("#dev", "dev") and not same_target("#dev", "#lab")
