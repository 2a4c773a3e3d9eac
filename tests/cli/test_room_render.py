"""The room forms of the listener's lines, search results, and the room exit codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from chatproto import (
    ChatMessage,
    FileAvailable,
    Membership,
    MembershipState,
    Presence,
    PresenceState,
    SearchHit,
)
from chatproto.session import (
    ConnectionLost,
    FileRefused,
    LoginRefused,
    MessageRefused,
    RequestRefused,
)
from frontends.cli.exitcodes import ExitCode, exit_code_for
from frontends.cli.explain import account_ended
from frontends.cli.render import (
    human_chat,
    human_file,
    human_hit,
    human_membership,
    human_presence,
    json_line,
    json_record,
)

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CLOCK = WHEN.astimezone().strftime("%H:%M:%S")
STAMP = 1_767_323_045_000  # WHEN in ms


def test_room_messages_name_the_room_and_general_is_unchanged() -> None:
    room = ChatMessage(7, STAMP, 1, "frog", "#dev", "hi\nthere")
    assert human_chat(room, WHEN) == f"[{CLOCK}] #dev <frog> hi\n           there"
    general = ChatMessage(8, STAMP, 1, "frog", None, "hi")
    assert human_chat(general, WHEN) == f"[{CLOCK}] <frog> hi"
    direct = ChatMessage(9, STAMP, 1, "frog", "toad", "hi")
    assert human_chat(direct, WHEN) == f"[{CLOCK}] (direct) <frog -> toad> hi"
    evil = ChatMessage(10, STAMP, 1, "frog", "#dev", "\x1b[2J")
    assert "\x1b" not in human_chat(evil, WHEN)


def test_json_lines_gain_the_room() -> None:
    records = [
        json.loads(json_line(json_record(ChatMessage(7, STAMP, 1, "frog", to, "hi"), WHEN)))
        for to in ("#dev", None, "toad")
    ]
    assert [(r["room"], r["to"]) for r in records] == [("dev", None), ("general", None),
                                                        (None, "toad")]
    file = FileAvailable(8, STAMP, 3, "frog", "#dev", "a.txt", 5, bytes(32))
    record = json_record(file, WHEN)
    assert (record["room"], record["to"]) == ("dev", None)
    assert human_file(file, WHEN, None) == (
        f"[{CLOCK}] * frog sent the file a.txt (5 bytes) (in #dev)")


def test_membership_lines() -> None:
    joined = Membership("dev", "toad", MembershipState.JOINED, 2)
    assert human_membership(joined, WHEN) == f"[{CLOCK}] #dev * toad joined (2 members)"
    left = Membership("dev", "toad", MembershipState.LEFT, 1)
    assert human_membership(left, WHEN).endswith("toad left (1 member)")
    record = json_record(joined, WHEN)
    assert {k: record[k] for k in ("type", "room", "user", "state", "members")} == {
        "type": "member", "room": "dev", "user": "toad", "state": "joined", "members": 2}
    assert record["seq"] is None
    # Presence is as it was: server-wide, no room.
    presence = Presence("toad", PresenceState.JOINED, 3)
    assert human_presence(presence, WHEN) == f"[{CLOCK}] * toad joined (3 participants)"
    assert "room" not in json_record(presence, WHEN)


def test_search_hits_show_room_or_user_time_and_seq() -> None:
    date = WHEN.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    in_room = SearchHit(1, 42, STAMP, "toad", "#dev", "hello\nworld")
    assert human_hit(in_room, "frog") == f"[{date}] #dev <toad> hello\\nworld  (seq 42)"
    general = SearchHit(1, 41, STAMP, "toad", None, "hello")
    assert human_hit(general, "frog").startswith(f"[{date}] #general <toad>")
    to_me = SearchHit(1, 40, STAMP, "toad", "frog", "hello")
    from_me = SearchHit(1, 39, STAMP, "frog", "toad", "hello")
    assert " @toad <toad> " in human_hit(to_me, "frog")
    assert " @toad <frog> " in human_hit(from_me, "frog")


def test_room_refusals_have_their_exit_codes() -> None:
    cases = {
        "not-found": ExitCode.NOT_FOUND,
        "not-member": ExitCode.NOT_MEMBER,
        "already-exists": ExitCode.ALREADY,
        "already-member": ExitCode.ALREADY,
        "too-many-rooms": ExitCode.LIMIT_REACHED,
        "room-full": ExitCode.LIMIT_REACHED,
        "too-many-private-rooms": ExitCode.LIMIT_REACHED,
        "not-supported": ExitCode.NOT_SUPPORTED,
        "rate-limited": ExitCode.RATE_LIMITED,
        "cannot-leave-general": ExitCode.REQUEST_REFUSED,
        "invalid-name": ExitCode.REQUEST_REFUSED,
        "bad-query": ExitCode.REQUEST_REFUSED,
    }
    for reason, code in cases.items():
        assert exit_code_for(RequestRefused(reason, "x")) == code, reason
    assert exit_code_for(MessageRefused("x", "not-member")) == ExitCode.NOT_MEMBER
    assert exit_code_for(FileRefused("x", "not-found")) == ExitCode.NOT_FOUND
    assert exit_code_for(MessageRefused("x", "unknown-user")) == ExitCode.MESSAGE_REFUSED
    assert exit_code_for(LoginRefused("x", "disabled")) == ExitCode.ACCOUNT_DISABLED
    assert exit_code_for(LoginRefused("x", "name-reserved")) == ExitCode.LOGIN_REFUSED
    assert exit_code_for(ConnectionLost("x", "account-deleted")) == ExitCode.ACCOUNT_DISABLED
    assert exit_code_for(ConnectionLost("x")) == ExitCode.CONNECTION_LOST
    assert len({int(code) for code in ExitCode}) == len(ExitCode)


def test_an_administrators_ending_is_told_as_such() -> None:
    told = account_ended("account-disabled", "the server closed the connection: ...")
    assert told is not None and told.startswith("your account was disabled")
    assert account_ended("account-deleted", "m", ) is not None
    assert account_ended("shutdown", "m") is None
