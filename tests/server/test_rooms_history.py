"""Rooms in history, replay and files (issue 15): a member sees a room from
the seq at which they joined, replay has no gap or duplicate across a
reconnect, a version 3 client gets no room traffic, a room's files are its
members'."""

from __future__ import annotations

import os

from chatproto import (
    ChatMessage,
    ChatRejected,
    CreateRoom,
    FetchRejected,
    FileAvailable,
    FileRejected,
    InviteToRoom,
    JoinRoom,
    LeaveRoom,
    Membership,
    SendChat,
)
from server.rooms_support import chats, done, membership, say, v3_login
from support import RawClient, RunningServer, fetch, upload


def test_replay_covers_a_room_from_the_join_with_no_gap_or_duplicate(
    server: RunningServer,
) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    done(alice, CreateRoom, "dev")
    before_join = [say(alice, f"early {i}", "#dev").seq for i in range(3)]
    done(bob, JoinRoom, "dev")
    seen = [say(alice, f"seen {i}", "#dev") for i in range(3)]
    for message in seen:
        assert bob.wait_for(ChatMessage) == message
    last_seen = seen[-1].seq
    bob.goodbye()
    missed = [say(alice, f"missed {i}", "#dev") for i in range(3)]
    missed.append(say(alice, "missed in general"))
    missed.append(say(alice, "missed, direct", "bob"))
    bob = RawClient.login_as(server, "bob", last_seen_seq=last_seen)
    replayed = [bob.wait_for(ChatMessage) for _ in missed]
    assert replayed == missed
    live = say(alice, "live", "#dev")
    assert bob.wait_for(ChatMessage) == live
    assert len(chats(bob)) == len(missed) + 1  # nothing twice
    # From the start of bob's history: the room only after his join.
    bob.goodbye()
    bob = RawClient.login_as(server, "bob")
    marker = say(bob, "marker")
    texts = [m.text for m in chats(bob) if m.seq < marker.seq]
    assert texts == [m.text for m in seen] + [m.text for m in missed] + ["live"]
    assert not set(before_join) & {m.seq for m in chats(bob)}


def test_after_leaving_the_room_is_not_replayed(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    done(alice, CreateRoom, "dev")
    done(bob, JoinRoom, "dev")
    say(alice, "while bob was in", "#dev")
    done(bob, LeaveRoom, "dev")
    bob.goodbye()
    bob = RawClient.login_as(server, "bob")
    marker = say(bob, "marker")
    assert [m.text for m in chats(bob) if m.seq < marker.seq] == []


def test_a_version_3_client_gets_no_room_traffic(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    done(alice, CreateRoom, "dev")
    done(bob, JoinRoom, "dev")
    bob.goodbye()
    old_bob = v3_login(server, "bob")
    room = say(alice, "for the room", "#dev")
    done(alice, LeaveRoom, "dev")  # a Membership bob's v3 connection must not get
    general = say(alice, "for everyone")
    assert old_bob.wait_for(ChatMessage) == general  # after the room's, in seq order
    assert room.seq < general.seq
    assert not any(isinstance(e, Membership) for e in old_bob.received)
    assert [m.text for m in chats(old_bob)] == ["for everyone"]
    old_bob.goodbye()
    # Its replay has no room entries either; a version 4 login's has.
    old_bob = v3_login(server, "bob")
    marker = say(old_bob, "marker")
    assert [m.text for m in chats(old_bob) if m.seq < marker.seq] == ["for everyone"]
    old_bob.goodbye()
    bob = RawClient.login_as(server, "bob")
    marker = say(bob, "marker 2")
    assert [m.text for m in chats(bob) if m.seq < marker.seq] == [
        "for the room", "for everyone", "marker",
    ]


def test_files_to_a_room_are_for_its_members(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    carol = RawClient.login_as(server, "carol")
    done(alice, CreateRoom, "dev", private=True)
    done(alice, InviteToRoom, "dev", "bob")
    data = os.urandom(100_000)
    mine = upload(alice, data, "plan.txt", upload_id=3, recipient="#DEV")
    assert isinstance(mine, FileAvailable) and mine.recipient == "#dev"
    theirs = bob.wait_for(FileAvailable)
    assert theirs.file_id == mine.file_id and theirs.upload_id == 0
    assert fetch(bob, mine.file_id) == data
    refusal = fetch(carol, mine.file_id)
    assert isinstance(refusal, FetchRejected) and refusal.reason == "not-found"
    rejected = upload(carol, b"x", recipient="#dev", upload_id=4)
    assert isinstance(rejected, FileRejected) and rejected.reason == "not-found"
    done(alice, CreateRoom, "open")
    rejected = upload(carol, b"x", recipient="#open", upload_id=5)
    assert isinstance(rejected, FileRejected) and rejected.reason == "not-member"
    # Joining later does not open the room's earlier files.
    done(alice, InviteToRoom, "dev", "carol")
    carol.wait_for(membership("dev", "carol", "joined"))
    refusal = fetch(carol, mine.file_id)
    assert isinstance(refusal, FetchRejected) and refusal.reason == "not-found"
    say(carol, "no file for me yet", "#dev")
    assert not any(isinstance(e, FileAvailable) for e in carol.received)
    # A member who left cannot fetch it any more.
    done(bob, LeaveRoom, "dev")
    refusal = fetch(bob, mine.file_id)
    assert isinstance(refusal, FetchRejected) and refusal.reason == "not-found"
    bob.send(SendChat("bye", recipient="#dev", client_id=1))
    assert bob.wait_for(ChatRejected).reason == "not-found"  # private: invisible to him now
