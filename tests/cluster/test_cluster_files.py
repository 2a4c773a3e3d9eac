"""Files in a cluster: the bytes live in PostgreSQL, so a file uploaded through
one node is announced on every node and any node serves it, also once the
node that took it is gone."""

from __future__ import annotations

import os

from chatproto import FileAvailable
from cluster.conftest import MakeCluster
from support import RawClient, fetch, upload

LONG = 30.0


def test_a_file_uploaded_on_one_node_is_served_by_the_others(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(3)
    data = os.urandom(700_000)  # several chunks of the store and of the protocol
    alice = RawClient.login_as(cluster.node(0), "alice", "pw")
    bob = RawClient.login_as(cluster.node(1), "bob", "pw")
    mine = upload(alice, data, name="notes.bin")
    assert isinstance(mine, FileAvailable), mine
    seen = bob.wait_for(FileAvailable, LONG)
    assert (seen.file_id, seen.sha256, seen.upload_id) == (mine.file_id, mine.sha256, 0)
    assert fetch(bob, seen.file_id) == data
    assert fetch(bob, seen.file_id, offset=123_456) == data[123_456:]
    alice.goodbye()
    cluster.kill(0)  # the node that took it: the bytes are not there
    carol = RawClient.login_as(cluster.node(2), "carol", "pw")
    assert fetch(carol, mine.file_id) == data
    for client in (bob, carol):
        client.goodbye()
