"""One and three real nodes on the shared PostgreSQL and Redis: each starts on
this test's database and prefix and logs a raw client in, and a client of
one node is seen by the others (the smallest proof that the nodes share)."""

from __future__ import annotations

import pytest

from chatproto import LoginAccepted, LoginRejected
from cluster.conftest import MakeCluster
from cluster.private_engines import PrivatePostgres, PrivateRedis
from support import RawClient, ServerProcess, wait_until


@pytest.mark.parametrize("count", [1, 3])
def test_nodes_start_and_log_clients_in(make_cluster: MakeCluster, count: int) -> None:
    cluster = make_cluster(count)
    assert len(cluster.running) == count
    clients = [
        RawClient.login_as(node, f"user{index}", "pw") for index, node in enumerate(cluster.running)
    ]
    for client in clients:
        client.goodbye()


def login_after_release(
    node: ServerProcess, name: str, password: str
) -> LoginAccepted | LoginRejected:
    """Log in, waiting while the name is ``already-active``: a goodbye on one
    node frees the name in Redis a moment after the connection closed."""
    replies: list[LoginAccepted | LoginRejected] = []

    def attempt() -> bool:
        with RawClient(node.address) as client:
            reply = client.login(name, password)
            replies.append(reply)
            if isinstance(reply, LoginAccepted):
                client.goodbye()
        return not (isinstance(reply, LoginRejected) and reply.reason == "already-active")

    wait_until(attempt, 30, f"{name}'s name to be released")
    return replies[-1]


def test_an_account_made_on_one_node_is_known_on_the_others(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(3)
    RawClient.login_as(cluster.node(0), "alice", "right").goodbye()
    for node in cluster.running[1:]:
        refused = login_after_release(node, "alice", "wrong")
        assert isinstance(refused, LoginRejected) and refused.reason == "bad-password", refused
        assert isinstance(login_after_release(node, "alice", "right"), LoginAccepted)


def test_a_killed_node_restarts_on_its_port(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(2)
    port = cluster.ports[1]
    cluster.kill(1)
    assert cluster.nodes[1] is None
    node = cluster.start(1)
    assert node.port == port
    RawClient.login_as(node, "bob", "pw").goodbye()


def test_nodes_run_on_engines_of_the_tests_own(
    make_cluster: MakeCluster, private_postgres: PrivatePostgres, private_redis: PrivateRedis
) -> None:
    with private_postgres.database() as store:
        cluster = make_cluster(2, store=store, bus=private_redis.url)
        RawClient.login_as(cluster.node(0), "carol", "pw").goodbye()
        assert isinstance(login_after_release(cluster.node(1), "carol", "pw"), LoginAccepted)
        cluster.close()  # before the database goes
