"""The single node's promises, held across real nodes on PostgreSQL and Redis:
one global order of history with no gap and no duplicate, direct messages and
private rooms only to their people, and presence that spans the nodes
(``already-active`` on another node, a dead node's users deactivated by a
survivor, then free to log in anywhere)."""

from __future__ import annotations

from chatproto import (
    ChatMessage,
    CreateRoom,
    InviteToRoom,
    LoginAccepted,
    LoginRejected,
    Membership,
    Presence,
    RequestDone,
    SendChat,
)
from cluster.cluster_support import Cluster
from cluster.conftest import MakeCluster
from support import RawClient, presence_of, wait_until

LONG = 30.0


def reported_by(cluster: Cluster, name: str, nodes: int) -> bool:
    """At least ``nodes`` nodes have reported chat of ``name`` (Redis:
    spent:<name>:<second>, one field per node)."""
    import redis

    with redis.Redis.from_url(cluster.bus) as client:
        fields: set[bytes] = set()
        for key in client.scan_iter(match=f"{cluster.prefix}spent:{name}:*"):
            fields |= set(client.hkeys(key))
        return len(fields) >= nodes


def chats_of(client: RawClient, count: int, timeout: float = LONG) -> list[ChatMessage]:
    """The next ``count`` chat messages ``client`` receives, in order."""
    return [client.wait_for(ChatMessage, timeout) for _ in range(count)]


def replay(node: object, name: str) -> list[ChatMessage]:
    """Everything ``name`` may see, replayed from the start by a new login."""
    client = RawClient(node.address)  # type: ignore[attr-defined]
    accepted = client.login(name, "pw")
    assert isinstance(accepted, LoginAccepted), accepted
    seen: list[ChatMessage] = []
    while not seen or seen[-1].seq < accepted.last_seq:
        seen.append(client.wait_for(ChatMessage, LONG))
    client.goodbye()
    return seen


def test_every_client_on_every_node_sees_one_order(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(3, "--flood-rate", "0")
    names = ["ann", "ben", "cat"]
    clients = [RawClient.login_as(node, name, "pw") for node, name in zip(cluster.running, names,
                                                                          strict=True)]
    per_client = 150
    for number in range(per_client):  # the three nodes commit at the same time
        for client, name in zip(clients, names, strict=True):
            client.send(SendChat(f"{name} {number}", client_id=number + 1))
    seen = [chats_of(client, per_client * 3) for client in clients]
    orders = [[(m.seq, m.sender, m.client_id) for m in messages] for messages in seen]
    assert orders[0] == orders[1] == orders[2]
    seqs = [seq for seq, _, _ in orders[0]]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a gap or a repeat in seq"
    for name in names:  # each message once, each sender's in its own order
        mine = [client_id for _, sender, client_id in orders[0] if sender == name]
        assert mine == list(range(1, per_client + 1))
    for client in clients:
        client.goodbye()
    # The history holds exactly what was delivered, whichever node replays it.
    for node in cluster.running:
        history = [(m.seq, m.sender, m.client_id) for m in replay(node, "ann")]
        assert history == orders[0]


def test_direct_messages_and_private_rooms_reach_only_their_people(
    make_cluster: MakeCluster,
) -> None:
    cluster = make_cluster(3)
    alice = RawClient.login_as(cluster.node(0), "alice", "pw")
    bob = RawClient.login_as(cluster.node(1), "bob", "pw")
    carol = RawClient.login_as(cluster.node(2), "carol", "pw")
    alice.send(SendChat("for bob only", recipient="bob", client_id=1))
    assert bob.wait_for(ChatMessage, LONG).text == "for bob only"
    alice.send(CreateRoom(1, "secret", private=True))
    alice.wait_for(RequestDone, LONG)
    alice.send(InviteToRoom(2, "secret", "bob"))
    alice.wait_for(RequestDone, LONG)
    bob.wait_for(lambda e: isinstance(e, Membership) and e.user == "bob", LONG)
    alice.send(SendChat("for the room", recipient="#secret", client_id=2))
    assert bob.wait_for(ChatMessage, LONG).text == "for the room"
    # A message to everyone after both: when carol has it, she would have had them.
    alice.send(SendChat("for everyone", client_id=3))
    assert carol.wait_for(ChatMessage, LONG).text == "for everyone"
    assert [m.text for m in carol.received if isinstance(m, ChatMessage)] == ["for everyone"]
    assert not any(isinstance(e, Membership) for e in carol.received)
    for client in (alice, bob, carol):
        client.goodbye()
    assert [m.text for m in replay(cluster.node(0), "carol")] == ["for everyone"]
    assert [m.text for m in replay(cluster.node(2), "bob")] == [
        "for bob only", "for the room", "for everyone"
    ]


def test_an_id_active_on_one_node_is_already_active_on_another(
    make_cluster: MakeCluster,
) -> None:
    cluster = make_cluster(2)
    alice = RawClient.login_as(cluster.node(0), "alice", "pw")
    with RawClient(cluster.node(1).address) as again:
        reply = again.login("alice", "pw")
        assert isinstance(reply, LoginRejected) and reply.reason == "already-active", reply
    alice.goodbye()
    # Once she has left, any node takes her.
    again = RawClient.login_as(cluster.node(1), "alice", "pw")
    again.goodbye()


def test_a_dead_nodes_users_are_deactivated_by_a_survivor_then_log_in_anywhere(
    make_cluster: MakeCluster,
) -> None:
    cluster = make_cluster(2, lease_time=2.0)
    bob = RawClient.login_as(cluster.node(1), "bob", "pw")
    alice = RawClient.login_as(cluster.node(0), "alice", "pw")
    joined = bob.wait_for(presence_of("alice", "joined"), LONG)
    assert isinstance(joined, Presence) and joined.participant_count == 2
    cluster.kill(0)
    alice.close()
    gone = bob.wait_for(presence_of("alice", "deactivated"), LONG)
    assert isinstance(gone, Presence) and gone.participant_count == 2, "never left: still counted"
    assert not any(isinstance(e, Presence) and e.user == "alice" and e.state == "left"
                   for e in bob.received)
    back = RawClient.login_as(cluster.node(1), "alice", "pw")
    rejoined = bob.wait_for(presence_of("alice", "rejoined"), LONG)
    assert isinstance(rejoined, Presence) and rejoined.participant_count == 2
    back.goodbye()
    bob.goodbye()


def lefts(client: RawClient) -> list[str]:
    """Who ``client`` saw leave, in order."""
    return [e.user for e in client.received if isinstance(e, Presence) and e.state == "left"]


def test_the_grace_of_a_dead_nodes_users_runs_on_the_survivor(make_cluster: MakeCluster) -> None:
    """With --deactivated-grace, a dead node's user leaves once the grace is
    over, counted out; one who logged in again on a survivor first stays."""
    cluster = make_cluster(3, "--deactivated-grace", "2", lease_time=1.5)
    bob = RawClient.login_as(cluster.node(0), "bob", "pw")
    alice = RawClient.login_as(cluster.node(2), "alice", "pw")
    carol = RawClient.login_as(cluster.node(2), "carol", "pw")
    bob.wait_for(presence_of("carol", "joined"), LONG)
    cluster.kill(2)
    alice.close()
    carol.close()
    for name in ("alice", "carol"):
        gone = bob.wait_for(presence_of(name, "deactivated"), LONG)
        assert isinstance(gone, Presence) and gone.participant_count == 3
    back = RawClient.login_as(cluster.node(1), "carol", "pw")  # within the grace
    bob.wait_for(presence_of("carol", "rejoined"), LONG)
    left = bob.wait_for(presence_of("alice", "left"), LONG)
    assert isinstance(left, Presence) and left.participant_count == 2
    back.goodbye()
    bob.wait_for(presence_of("carol", "left"), LONG)
    assert lefts(bob) == ["alice", "carol"], "carol's own goodbye only, once"
    bob.goodbye()


def test_the_grace_ends_in_left_across_nodes_unless_the_user_is_back(
    make_cluster: MakeCluster,
) -> None:
    """A user deactivated on one node and back on another within the grace
    stays in; the grace of one who does not come back ends in left on every node."""
    cluster = make_cluster(2, "--deactivated-grace", "1.5")
    bob = RawClient.login_as(cluster.node(1), "bob", "pw")
    alice = RawClient.login_as(cluster.node(0), "alice", "pw")
    dave = RawClient.login_as(cluster.node(0), "dave", "pw")
    bob.wait_for(presence_of("dave", "joined"), LONG)
    alice.close()  # no goodbye: deactivated, and before dave
    bob.wait_for(presence_of("alice", "deactivated"), LONG)
    dave.close()
    bob.wait_for(presence_of("dave", "deactivated"), LONG)
    back = RawClient.login_as(cluster.node(1), "alice", "pw")
    bob.wait_for(presence_of("alice", "rejoined"), LONG)
    left = bob.wait_for(presence_of("dave", "left"), LONG)
    assert isinstance(left, Presence) and left.participant_count == 2
    # Node 0 ends alice's grace before dave's (one timer order, one Redis
    # command queue): had it let her go, her left would have come before his.
    back.goodbye()
    bob.wait_for(presence_of("alice", "left"), LONG)
    assert lefts(bob) == ["dave", "alice"], "alice's own goodbye only, once"
    bob.goodbye()


def test_past_max_deactivated_the_longest_deactivated_leaves_across_nodes(
    make_cluster: MakeCluster,
) -> None:
    """Three users deactivated on two nodes, two kept: the first of them,
    deactivated on another node than the third, leaves, announced once."""
    cluster = make_cluster(2, "--max-deactivated", "2")
    bob = RawClient.login_as(cluster.node(1), "bob", "pw")
    for number, node in ((1, 0), (2, 1), (3, 0)):
        name = f"user{number}"
        client = RawClient.login_as(cluster.node(node), name, "pw")
        bob.wait_for(presence_of(name, "joined"), LONG)
        client.close()  # no goodbye: deactivated
        gone = bob.wait_for(presence_of(name, "deactivated"), LONG)
        assert isinstance(gone, Presence) and gone.participant_count == 1 + number
    left = bob.wait_for(presence_of("user1", "left"), LONG)
    assert isinstance(left, Presence) and left.participant_count == 3
    back = RawClient.login_as(cluster.node(1), "user2", "pw")  # still there: a rejoin
    rejoined = bob.wait_for(presence_of("user2", "rejoined"), LONG)
    assert isinstance(rejoined, Presence) and rejoined.participant_count == 3
    back.goodbye()
    bob.wait_for(presence_of("user2", "left"), LONG)
    assert lefts(bob) == ["user1", "user2"]
    bob.goodbye()


def test_failed_logins_are_counted_across_nodes(make_cluster: MakeCluster) -> None:
    """Five wrong passwords for one name from one address, spread over two
    nodes (neither saw five), and the right one is refused for a while."""
    cluster = make_cluster(2)
    RawClient.login_as(cluster.node(0), "alice", "right").goodbye()
    for attempt in range(5):
        with RawClient(cluster.node(attempt % 2).address) as client:
            reply = client.login("alice", "wrong")
            assert isinstance(reply, LoginRejected) and reply.reason == "bad-password", reply
    for node in cluster.running:
        with RawClient(node.address) as client:
            reply = client.login("alice", "right")
            assert isinstance(reply, LoginRejected) and reply.reason == "rate-limited", reply


def registrations_counted(cluster: Cluster, count: int) -> bool:
    import redis

    with redis.Redis.from_url(cluster.bus) as client:
        return int(client.get(f"{cluster.prefix}registered:address:127.0.0.1") or 0) >= count


def test_registrations_per_address_are_counted_across_nodes(make_cluster: MakeCluster) -> None:
    """Two new accounts from one address, one on each node (each node saw
    one), with two allowed: a third is refused on either node, while the
    accounts that exist still log in."""
    cluster = make_cluster(2, "--max-registrations-per-address", "2")
    RawClient.login_as(cluster.node(0), "first", "pw").goodbye()
    RawClient.login_as(cluster.node(1), "second", "pw").goodbye()
    wait_until(lambda: registrations_counted(cluster, 2), timeout=LONG)
    for node in cluster.running:
        with RawClient(node.address) as client:
            reply = client.login("third", "pw")
            assert isinstance(reply, LoginRejected) and reply.reason == "rate-limited", reply
            assert "new accounts" in reply.message
    RawClient.login_as(cluster.node(1), "first", "pw").goodbye()
    RawClient.login_as(cluster.node(0), "second", "pw").goodbye()


def test_the_flood_limit_is_the_users_across_nodes(make_cluster: MakeCluster) -> None:
    """A user's session spends its burst on one node; a transient login of the
    same user on another node may not start a burst of its own."""
    from chatproto import ChatRejected, LoginAccepted, TransientLogin

    cluster = make_cluster(2, "--flood-rate", "0.2", "--flood-burst", "10")
    alice = RawClient.login_as(cluster.node(0), "alice", "pw")
    for number in range(1, 11):
        alice.send(SendChat(f"burst {number}", client_id=number))
    assert [alice.wait_for(ChatMessage, LONG).client_id for _ in range(10)] == list(range(1, 11))
    # Node 0's report of the burst must be in Redis before node 1 reports the
    # script's first message, whose answer is how node 1 learns of it.
    wait_until(lambda: reported_by(cluster, "alice", 1), timeout=LONG)
    script = RawClient(cluster.node(1).address)
    script.hello()
    script.send(TransientLogin("alice", "pw"))
    assert isinstance(script.wait_for((LoginAccepted, LoginRejected), LONG), LoginAccepted)
    answers: list[str] = []
    for number in range(1, 11):  # one at a time: each answered before the next
        script.send(SendChat(f"script {number}", client_id=number))
        def answer(e: object, number: int = number) -> bool:
            return (isinstance(e, ChatRejected) and e.client_id == number) or (
                isinstance(e, ChatMessage) and e.sender == "alice"
                and e.text == f"script {number}")

        reply = script.wait_for(answer, LONG)
        answers.append("rejected" if isinstance(reply, ChatRejected) else "sent")
        if number == 1:  # its node reports it and, in the same answer, learns of the burst
            wait_until(lambda: reported_by(cluster, "alice", 2), timeout=LONG)
    # Its own node alone would take all ten (its bucket is full); the cluster's
    # count stops it once the other node's burst is known here.
    assert answers == ["sent"] + ["rejected"] * 9, answers
    script.goodbye()
    alice.goodbye()
