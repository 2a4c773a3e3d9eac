"""Faults while users chat at full speed: a node SIGKILLed, Redis restarted
empty, PostgreSQL restarted. After each, the history holds every message that
was acknowledged anywhere, exactly once, in gapless seq order; every client
has exactly the history addressed to it, in strictly increasing seq (those
that failed over included); and nothing acknowledged was lost."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Iterator

from chatproto import ChatMessage, LoginAccepted, LoginRejected, Presence
from chatserver.cluster.hub import UNCLAIMED_WARNING_PERIOD
from cluster.chatters import Chatter
from cluster.cluster_support import Cluster
from cluster.conftest import MakeCluster
from cluster.private_engines import PrivatePostgres, PrivateRedis
from support import RawClient, ServerProcess, wait_until

LONG = 60.0


def node_log(node: ServerProcess) -> str:
    with contextlib.suppress(TimeoutError):
        node.wait_for_line("^(?!)", timeout=0.2)  # reads whatever it has logged
    return "\n".join(node.lines[-30:])


def log_in(node: ServerProcess, name: str) -> tuple[RawClient, LoginAccepted]:
    """Log in, retrying ``already-active`` for a while: a node refuses logins
    until it is subscribed to Redis again after an outage."""
    deadline = time.monotonic() + LONG
    while True:
        client = RawClient(node.address)
        reply = client.login(name, "pw")
        if isinstance(reply, LoginAccepted):
            return client, reply
        client.close()
        assert isinstance(reply, LoginRejected) and reply.reason == "already-active", reply
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} could not log in: {reply}; the node:\n{node_log(node)}")
        time.sleep(0.05)


def history(node: ServerProcess, name: str) -> list[ChatMessage]:
    """All that ``name`` may see, replayed from the start."""
    client, accepted = log_in(node, name)
    seen: list[ChatMessage] = []
    while not seen or seen[-1].seq < accepted.last_seq:
        seen.append(client.wait_for(ChatMessage, LONG))
    client.goodbye()
    return seen


@contextlib.contextmanager
def chatting(cluster: Cluster, per_node: int) -> Iterator[list[Chatter]]:
    """``per_node`` users on each node, chatting until the block ends; each
    lists every node, its own first."""
    addresses = [node.address for node in cluster.running]
    chatters = [
        Chatter(f"u{node}x{index}", addresses, node)
        for node in range(len(addresses)) for index in range(per_node)
    ]
    for chatter in chatters:
        chatter.start()
    try:
        yield chatters
    finally:
        for chatter in chatters:
            chatter.stop_sending.set()
        for chatter in chatters:
            chatter.join(LONG * 2)


def sent_at_least(chatters: list[Chatter], count: int) -> None:
    wait_until(lambda: all(c.sent >= count for c in chatters), timeout=LONG)


def check(chatters: list[Chatter], entries: list[ChatMessage]) -> None:
    """The promises, checked against the history ``entries``."""
    for chatter in chatters:
        assert chatter.failure is None, f"{chatter.user}: {chatter.failure!r}"
    keys = Counter((m.sender, m.client_id) for m in entries)
    assert max(keys.values(), default=1) == 1, "a message stored twice"
    seqs = [m.seq for m in entries]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a gap or a repeat in the history"
    by_seq = {m.seq: m for m in entries}
    for chatter in chatters:
        stored = {client_id for sender, client_id in keys if sender == chatter.user}
        lost = chatter.acked - stored
        assert not lost, f"{chatter.user}: acknowledged and lost: {sorted(lost)[:10]}"
        chatter.drain_until(seqs[-1])
        got = [m.seq for m in chatter.received]
        assert got == sorted(set(got)), f"{chatter.user}: not strictly increasing"
        # Exactly the history from its first message on: nothing missing, nothing made up.
        assert got == seqs[seqs.index(got[0]):], f"{chatter.user}: not exactly the history"
        assert all(by_seq[m.seq] == m for m in chatter.received)


def test_a_node_killed_mid_chat_costs_nothing(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(3, "--flood-rate", "0", lease_time=3.0)
    RawClient.login_as(cluster.node(0), "auditor", "pw").goodbye()
    with chatting(cluster, 2) as chatters:
        sent_at_least(chatters, 100)
        cluster.kill(2)
        victims = [c for c in chatters if c.user.startswith("u2")]
        wait_until(lambda: all(c.failovers for c in victims), timeout=LONG)
        sent_at_least(chatters, max(c.sent for c in chatters) + 100)
    survivors = [c for c in chatters if c not in victims]
    assert all(c.failovers == 0 for c in survivors), (
        "a survivor's client was disconnected: "
        + "; ".join(f"{c.user}: {c.endings}" for c in survivors if c.failovers)
        + "\n" + "\n".join(node.output()[-1500:] for node in cluster.running)
    )
    entries = history(cluster.node(0), "auditor")
    check(chatters, entries)
    for victim in victims:  # deactivated (never left), then rejoined, seen from a survivor
        states = [p.state for p in survivors[0].presence if p.user == victim.user]
        assert "left" not in states, states
        assert "deactivated" in states, states
        assert "rejoined" in states[states.index("deactivated"):], states


def test_redis_restarted_empty_reuses_no_seq_and_loses_nothing(
    make_cluster: MakeCluster, private_redis: PrivateRedis,
) -> None:
    cluster = make_cluster(2, "--flood-rate", "0", bus=private_redis.url)
    RawClient.login_as(cluster.node(0), "auditor", "pw").goodbye()
    with chatting(cluster, 2) as chatters:
        sent_at_least(chatters, 100)
        private_redis.kill()
        sent_at_least(chatters, max(c.sent for c in chatters) + 100)
        private_redis.start()
        sent_at_least(chatters, max(c.sent for c in chatters) + 100)
    entries = history(cluster.node(1), "auditor")
    check(chatters, entries)
    # Presence works again: a new login on one node is seen on the other.
    watcher, _ = log_in(cluster.node(0), "watcher")
    late, _ = log_in(cluster.node(1), "late")
    watcher.wait_for(lambda e: isinstance(e, Presence) and e.user == "late", LONG)
    late.goodbye()
    watcher.goodbye()


def test_postgres_restarted_refuses_or_stores_never_acks_and_loses(
    make_cluster: MakeCluster, private_postgres: PrivatePostgres,
) -> None:
    with private_postgres.database() as dsn:
        cluster = make_cluster(2, "--flood-rate", "0", store=dsn)
        RawClient.login_as(cluster.node(0), "auditor", "pw").goodbye()
        with chatting(cluster, 2) as chatters:
            sent_at_least(chatters, 100)
            private_postgres.crash()
            private_postgres.start()
            sent_at_least(chatters, max(c.sent for c in chatters) + 100)
        entries = history(cluster.node(1), "auditor")
        check(chatters, entries)
        cluster.close()


def test_logins_refused_while_redis_is_away_are_logged_once_a_period(
    make_cluster: MakeCluster, private_redis: PrivateRedis,
) -> None:
    """Each refused login is answered, but the node's log gets one WARNING for
    the first and then one line per period with the count: a client retrying
    every 50 ms must not fill it."""
    cluster = make_cluster(1, bus=private_redis.url)
    node = cluster.node(0)
    private_redis.kill()
    refused = 0
    started = time.monotonic()
    deadline = started + LONG
    while refused < 20:
        client = RawClient(node.address)
        reply = client.login("retrier", "pw")
        client.close()
        assert isinstance(reply, LoginRejected) and reply.reason == "already-active", reply
        if "cannot tell" in reply.message:
            refused += 1
        assert time.monotonic() < deadline, node_log(node)
    with contextlib.suppress(TimeoutError):
        node.wait_for_line("^(?!)", timeout=0.5)
    warnings = [line for line in node.lines if "where it is logged in is unknown" in line]
    periods = 1 + int((time.monotonic() - started) // UNCLAIMED_WARNING_PERIOD)
    assert 1 <= len(warnings) <= periods < refused, "\n".join(warnings)
    private_redis.start()
