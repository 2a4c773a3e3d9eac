"""A long participant list never refuses a login, and throwaway accounts cannot grow it.

Issue 11, item 3: 506 accounts with 32-character names made every login of a
client announcing the minimum frame size ``server-full`` (about 8,000 did it
for default clients). Now the list is paged (LoginAccepted, then
ParticipantList frames), registrations per address are limited, and past
``--max-deactivated`` the longest-deactivated participant leaves.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from chatproto import (
    Limits,
    LoginAccepted,
    LoginRejected,
    ParticipantList,
    Presence,
    PresenceState,
    SendChat,
)
from chatproto.limits import MIN_FRAME_SIZE
from chatproto.session import NO_TLS, AsyncSession
from chatserver.accounts import hash_password
from chatserver.app import DATABASE_NAME
from chatserver.ports import Account
from chatserver.sqlite_store import SqliteStore
from support import RawClient, ServerProcess, presence_of, server_process, wait_until

PASSWORD = "pw"


def _register_cheaply(data_dir: Path, names: list[str]) -> None:
    """Accounts straight into the server's SQLite file, hashed with a tiny scrypt
    cost (the cost is stored with each hash), so logging them all in is quick."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    store = SqliteStore(data_dir / DATABASE_NAME)
    hashed = hash_password(PASSWORD, n=16)
    for name in names:
        store.create_account(Account(name, hashed, 0), created_ms=0)
    store.close()


def _make_deactivated(server: ServerProcess, names: list[str]) -> None:
    for name in names:
        client = RawClient.login_as(server, name, PASSWORD)
        client.reset()  # a broken connection: deactivated, still a participant


def _whole_list(client: RawClient, accepted: LoginAccepted) -> list[str]:
    names = [p.name for p in accepted.participants]
    while len(names) < accepted.participant_count:
        names.extend(p.name for p in client.wait_for(ParticipantList).participants)
    return names


def test_a_list_too_long_for_one_frame_is_paged_not_refused(tmp_path: Path) -> None:
    # 32 characters and 116 UTF-8 bytes each: 600 of them are over 64 KiB.
    crowd = [f"{i:04d}" + "\U00020000" * 28 for i in range(600)]
    _register_cheaply(tmp_path / "data", crowd)
    with server_process(tmp_path / "data", "--flood-rate", "0") as server:
        _make_deactivated(server, crowd)
        small = RawClient(server.address, limits=Limits(MIN_FRAME_SIZE))
        accepted = small.login("newcomer", PASSWORD)
        assert isinstance(accepted, LoginAccepted), accepted  # was server-full
        assert accepted.participant_count == 601
        assert len(accepted.participants) < 601  # it really took more than one frame
        names = _whole_list(small, accepted)
        assert sorted(names) == sorted([*crowd, "newcomer"])
        # The connection goes on normally after the pages.
        small.send(SendChat("hello after the list", client_id=7))
        delivered = small.wait_for(lambda e: getattr(e, "client_id", None) == 7)
        assert delivered.text == "hello after the list"  # type: ignore[attr-defined]

        async def through_the_session() -> dict[str, str]:
            async with await AsyncSession.connect(*server.address, "frog", PASSWORD,
                                                  tls=NO_TLS) as frog:
                return {name: str(state) for name, state in frog.participants.items()}

        participants = asyncio.run(through_the_session())
        assert len(participants) == 602
        assert participants["frog"] == "active" and participants[crowd[0]] == "deactivated"


def test_registrations_per_address_are_limited(tmp_path: Path) -> None:
    with server_process(tmp_path / "data", "--max-registrations-per-address", "3",
                        "--registration-window", "2") as server:
        for name in ("a1", "a2", "a3"):
            RawClient.login_as(server, name, PASSWORD).goodbye()
        refused = RawClient(server.address).login("a4", PASSWORD)
        assert isinstance(refused, LoginRejected)
        assert refused.reason == "rate-limited" and "new accounts" in refused.message
        # Existing users are not affected...
        RawClient.login_as(server, "a1", PASSWORD).goodbye()
        server.wait_for_line(r"login refused for a4 from 127\.0\.0\.1: rate-limited")
        # ...and once the window has passed, a4 may register.
        def registers() -> bool:
            reply = RawClient(server.address).login("a4", PASSWORD)
            assert isinstance(reply, LoginAccepted) or reply.reason == "rate-limited"
            return isinstance(reply, LoginAccepted)

        wait_until(registers, timeout=30, what="a4 registers after the window")


def test_past_the_cap_the_longest_deactivated_leave(tmp_path: Path) -> None:
    users = [f"drop{i}" for i in range(5)]
    with server_process(tmp_path / "data", "--max-deactivated", "3") as server:
        watcher = RawClient.login_as(server, "watcher", PASSWORD)
        for name in users:
            client = RawClient.login_as(server, name, PASSWORD)
            watcher.wait_for(presence_of(name, "joined"))
            client.reset()
            watcher.wait_for(presence_of(name, "deactivated"))
        left = [watcher.wait_for(presence_of(name, "left")) for name in users[:2]]
        assert all(isinstance(p, Presence) and p.state is PresenceState.LEFT for p in left)
        newcomer = RawClient(server.address).login("newcomer", PASSWORD)
        assert isinstance(newcomer, LoginAccepted)
        # watcher, the three deactivated longest-but-not-evicted, and the newcomer.
        assert newcomer.participant_count == 5
        assert {p.name for p in newcomer.participants} == {"watcher", *users[2:], "newcomer"}
        # A user who left to make room logs in as joined, not rejoined.
        back = RawClient(server.address).login(users[0], PASSWORD)
        assert isinstance(back, LoginAccepted) and not back.rejoined
