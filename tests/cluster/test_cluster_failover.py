"""The client's failover on a real cluster: a session on a node that is
SIGKILLed lands on another node of its list by resume token (no scrypt there:
the token table is the cluster's), with the same epoch, and the replay brings
exactly what was said meanwhile on the surviving nodes; its user was
deactivated, then rejoined, as the survivors' clients saw."""

from __future__ import annotations

import asyncio

from chatproto import ChatMessage, Presence
from chatproto.session import (
    AsyncSession,
    Backoff,
    Disconnected,
    RetryPlan,
    ServerAddress,
    connect_any,
    reconnect_any,
)
from chatproto.session.tls import NO_TLS
from cluster.conftest import MakeCluster

DEADLINE = 120.0
QUICK = Backoff(initial=0.05, maximum=1.0)


async def until(session: AsyncSession, wanted: type, check: object = None) -> object:
    while True:
        event = await session.next_event()
        if isinstance(event, wanted) and (check is None or check(event)):  # type: ignore[operator]
            return event


def test_a_killed_nodes_session_fails_over_by_token_and_misses_nothing(
    make_cluster: MakeCluster,
) -> None:
    cluster = make_cluster(3, "--flood-rate", "0", lease_time=2.0)
    servers = tuple(ServerAddress(*node.address) for node in cluster.running)

    async def scenario() -> None:
        alice = await connect_any(servers, "alice", "pw", start=2, tls=NO_TLS)
        bob = await connect_any(servers, "bob", "pw", start=0, tls=NO_TLS)
        assert alice.server == servers[2] and bob.server == servers[0]
        await bob.send_chat("before")
        await until(alice, ChatMessage, lambda e: e.text == "before")
        seen, epoch = alice.last_seq, alice.epoch
        cluster.kill(2)
        await until(alice, Disconnected)
        missed = [await bob.send_chat(f"missed {n}") for n in range(5)]
        again = await reconnect_any(servers, alice, "pw", RetryPlan(QUICK), tls=NO_TLS)
        assert again.server in servers[:2]
        assert again.by_resume_token  # no password: no scrypt on the new node
        assert again.epoch == epoch and not again.history_reset
        replayed = [await until(again, ChatMessage) for _ in missed]
        assert [m.seq for m in replayed] == [m.seq for m in missed]  # type: ignore[attr-defined]
        assert all(m.seq > seen for m in missed)
        states = []
        while "rejoined" not in states:
            event = await until(bob, Presence, lambda e: e.user == "alice")
            states.append(event.state)  # type: ignore[attr-defined]
        assert "deactivated" in states and "left" not in states, states
        await again.send_chat("back")
        await until(bob, ChatMessage, lambda e: e.text == "back")
        await again.close()
        await bob.close()

    asyncio.run(asyncio.wait_for(scenario(), DEADLINE))
