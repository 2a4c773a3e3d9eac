"""Rooms on the server (issue 15): creating, joining, leaving and inviting,
the room list, private rooms' invisibility, and delivery to members only."""

from __future__ import annotations

import sqlite3

from chatproto import (
    ChatMessage,
    ChatRejected,
    CreateRoom,
    InviteToRoom,
    JoinRoom,
    LeaveRoom,
    Membership,
    RoomInfo,
    SendChat,
)
from server.rooms_support import chats, done, list_rooms, membership, refused, say
from support import RawClient, RunningServer


def test_create_join_leave_with_membership_to_the_members(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    carol = RawClient.login_as(server, "carol")
    done(alice, CreateRoom, "dev")
    assert alice.wait_for(membership("dev", "alice", "joined")).member_count == 1
    done(bob, JoinRoom, "DEV")  # found by its skeleton, shown as created
    for client in (alice, bob):
        joined = client.wait_for(membership("dev", "bob", "joined"))
        assert joined.member_count == 2
    done(bob, LeaveRoom, "dev")
    for client in (alice, bob):  # the leaver is told too
        left = client.wait_for(membership("dev", "bob", "left"))
        assert left.member_count == 1
    say(alice, "end of the test")
    carol.wait_for(lambda e: isinstance(e, ChatMessage) and e.text == "end of the test")
    assert not any(isinstance(e, Membership) for e in carol.received)  # not a member
    rows = sqlite3.connect(server.data_dir / "chat.sqlite3").execute(
        "SELECT room, account FROM room_members"
    ).fetchall()
    assert rows == [("dev", "alice")]


def test_room_list_shows_general_public_rooms_and_own_private_ones(
    server: RunningServer,
) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    RawClient.login_as(server, "carol").goodbye()  # an account that is not online
    done(alice, CreateRoom, "dev")
    done(alice, CreateRoom, "secret", private=True)
    done(bob, CreateRoom, "bobs", private=True)
    assert list_rooms(alice) == {
        "general": RoomInfo("general", 3, False, True),
        "dev": RoomInfo("dev", 1, False, True),
        "secret": RoomInfo("secret", 1, True, True),
    }
    assert list_rooms(bob) == {
        "general": RoomInfo("general", 3, False, True),
        "dev": RoomInfo("dev", 1, False, False),
        "bobs": RoomInfo("bobs", 1, True, True),
    }


def test_private_rooms_are_invisible_to_non_members(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    carol = RawClient.login_as(server, "carol")
    done(alice, CreateRoom, "secret", private=True)
    assert "secret" not in list_rooms(carol)
    assert refused(carol, JoinRoom, "secret") == "not-found"
    assert refused(carol, JoinRoom, "nosuch") == "not-found"
    assert refused(carol, LeaveRoom, "secret") == "not-found"
    assert refused(carol, InviteToRoom, "secret", "carol") == "not-found"
    carol.send(SendChat("hello?", recipient="#secret", client_id=77))
    rejected = carol.wait_for(ChatRejected)
    assert (rejected.client_id, rejected.reason) == (77, "not-found")
    # The name is taken all the same: it cannot be told from a public room's.
    assert refused(carol, CreateRoom, "Secret") == "already-exists"


def test_an_invite_makes_the_invitee_a_member_at_once(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    carol = RawClient.login_as(server, "carol")
    done(alice, CreateRoom, "secret", private=True)
    assert refused(carol, InviteToRoom, "secret", "carol") == "not-found"
    done(alice, InviteToRoom, "secret", "BOB")  # the name as registered
    for client in (alice, bob):
        assert client.wait_for(membership("secret", "bob", "joined")).member_count == 2
    assert list_rooms(bob)["secret"] == RoomInfo("secret", 2, True, True)
    # A member invites in turn; a member cannot be invited again.
    assert refused(bob, InviteToRoom, "secret", "alice") == "already-member"
    assert refused(bob, InviteToRoom, "secret", "nobody") == "unknown-user"
    done(bob, InviteToRoom, "secret", "carol")
    for client in (alice, bob, carol):
        assert client.wait_for(membership("secret", "carol", "joined")).member_count == 3
    message = say(carol, "thanks", "#secret")
    for client in (alice, bob):
        assert client.wait_for(ChatMessage) == message


def test_invite_to_a_public_room_needs_membership(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    done(alice, CreateRoom, "dev")
    assert refused(bob, InviteToRoom, "dev", "bob") == "not-member"
    done(alice, InviteToRoom, "dev", "bob")
    assert bob.wait_for(membership("dev", "bob", "joined")).member_count == 2


def test_refusals_of_changes(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    done(alice, CreateRoom, "dev")
    # (An invalid name cannot even be sent: the protocol's room field refuses it.)
    assert refused(bob, CreateRoom, "Dev") == "already-exists"  # one skeleton
    assert refused(bob, CreateRoom, "\uff44\uff45\uff56") == "already-exists"  # fullwidth: the same
    assert refused(alice, CreateRoom, "GENERAL") == "already-exists"
    assert refused(alice, JoinRoom, "dev") == "already-member"
    assert refused(bob, LeaveRoom, "dev") == "not-member"
    assert refused(bob, LeaveRoom, "nosuch") == "not-found"
    assert refused(bob, LeaveRoom, "general") == "cannot-leave-general"
    assert refused(bob, LeaveRoom, "General") == "cannot-leave-general"
    assert refused(bob, JoinRoom, "general") == "already-member"


def test_room_messages_reach_members_only(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    carol = RawClient.login_as(server, "carol")
    done(alice, CreateRoom, "dev")
    done(bob, JoinRoom, "dev")
    to_room = say(alice, "room only", "#Dev")  # any spelling: stored as the room's
    assert to_room.recipient == "#dev" and to_room.room == "dev"
    assert bob.wait_for(ChatMessage) == to_room
    carol.send(SendChat("me too", recipient="#dev", client_id=5))
    assert carol.wait_for(ChatRejected).reason == "not-member"
    carol.send(SendChat("there?", recipient="#nosuch", client_id=6))
    assert carol.wait_for(ChatRejected).reason == "not-found"
    everyone = say(alice, "to general")
    assert carol.wait_for(ChatMessage) == everyone
    assert bob.wait_for(ChatMessage) == everyone
    assert [m.text for m in chats(carol)] == ["to general"]
    assert [m.text for m in chats(bob)] == ["room only", "to general"]
    # After leaving, nothing more of the room arrives.
    done(bob, LeaveRoom, "dev")
    say(alice, "bob is gone", "#dev")
    last = say(alice, "to all again")
    assert bob.wait_for(lambda e: isinstance(e, ChatMessage) and e.seq == last.seq)
    assert "bob is gone" not in [m.text for m in chats(bob)]


def test_a_room_without_members_is_deleted_and_its_name_freed(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    done(alice, CreateRoom, "dev", private=True)
    say(alice, "before", "#dev")
    done(alice, LeaveRoom, "dev")
    assert alice.wait_for(membership("dev", "alice", "left")).member_count == 0
    assert "dev" not in list_rooms(alice)
    done(bob, CreateRoom, "dev")  # a new room: none of the old one's history
    bob.goodbye()
    again = RawClient.login_as(server, "bob")
    after = say(again, "marker")
    assert "before" not in [m.text for m in chats(again) if m.seq < after.seq]
