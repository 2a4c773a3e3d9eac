"""Behaviour 12 and the chat rules: broadcast, direct messages, exact text,
commit before delivery, and replay of everything a returning user missed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from chatproto import ChatMessage, ChatRejected, LoginAccepted, SendChat
from support import RawClient, RunningServer, presence_of, running_server


def chats(client: RawClient) -> list[ChatMessage]:
    return [e for e in client.received if isinstance(e, ChatMessage)]


def test_a_message_reaches_everyone_the_sender_included(server: RunningServer) -> None:
    users = [RawClient.login_as(server, name) for name in ("alice", "bob", "carol")]
    users[0].send(SendChat("hello all", client_id=42))
    delivered = [client.wait_for(ChatMessage) for client in users]
    assert len(set(delivered)) == 1  # the very same message, seq and timestamp
    message = delivered[0]
    assert (message.sender, message.recipient, message.text) == ("alice", None, "hello all")
    assert message.client_id == 42 and message.seq >= 1 and message.timestamp_ms > 0


def test_text_is_delivered_exactly_as_sent(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    texts = [
        "안녕하세요 " * 400,  # far over the original's 1024-byte cut, multi-byte throughout
        "line one\n[carol] forged line\r\nthird",  # stored as is; frontends render safely
        "  spaces kept  ",
        "x" * 16_384,
        "\u202e reversed \x1b[31m escapes",
    ]
    for i, text in enumerate(texts):
        alice.send(SendChat(text, client_id=i))
    got = [bob.wait_for(ChatMessage).text for _ in texts]
    assert got == texts


def test_seqs_increase_and_every_message_arrives_once_in_order(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    for i in range(300):
        (alice if i % 2 else bob).send(SendChat(f"m{i}", client_id=i))
    for client in (alice, bob):
        got = [client.wait_for(ChatMessage) for _ in range(300)]
        seqs = [m.seq for m in got]
        assert seqs == sorted(seqs) and len(set(seqs)) == 300
        # Each sender's messages keep their order.
        assert [m.client_id for m in got if m.sender == "alice"] == list(range(1, 300, 2))


def test_direct_message_is_seen_by_sender_and_recipient_only(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    carol = RawClient.login_as(server, "carol")
    alice.send(SendChat("psst", recipient="bob", client_id=1))
    alice.send(SendChat("public", client_id=2))
    for client in (alice, bob):
        first = client.wait_for(ChatMessage)
        assert (first.text, first.recipient) == ("psst", "bob")
    assert carol.wait_for(ChatMessage).text == "public"
    assert [m.text for m in chats(carol)] == ["public"]


def test_unknown_recipient_is_rejected(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    alice.send(SendChat("hello?", recipient="nobody", client_id=9))
    rejected = alice.wait_for(ChatRejected)
    assert (rejected.client_id, rejected.reason) == (9, "unknown-user")
    alice.send(SendChat("still here", client_id=10))
    assert alice.wait_for(ChatMessage).client_id == 10


def test_message_is_committed_before_anyone_receives_it(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    alice.send(SendChat("durable"))
    message = alice.wait_for(ChatMessage)
    with sqlite3.connect(server.data_dir / "chat.sqlite3") as db:
        row = db.execute("SELECT sender, text FROM history WHERE seq = ?", (message.seq,))
        assert row.fetchone() == ("alice", "durable")


def test_rejoining_user_gets_what_it_missed_in_order_without_duplicates(
    server: RunningServer,
) -> None:
    alice = RawClient.login_as(server, "alice")
    bob = RawClient.login_as(server, "bob")
    carol = RawClient.login_as(server, "carol")
    alice.send(SendChat("seen by bob"))
    last_seen = bob.wait_for(ChatMessage).seq
    bob.close()
    alice.wait_for(presence_of("bob", "deactivated"))
    alice.send(SendChat("missed 1"))
    alice.send(SendChat("for bob", recipient="bob"))
    alice.send(SendChat("for carol only", recipient="carol"))
    alice.send(SendChat("missed 2"))
    before_login = [alice.wait_for(ChatMessage) for _ in range(5)][-1].seq

    bob = RawClient(server.address)
    reply = bob.login("bob", "secret", last_seen_seq=last_seen)
    assert isinstance(reply, LoginAccepted) and reply.rejoined
    alice.send(SendChat("live after rejoin"))
    texts = [bob.wait_for(ChatMessage).text for _ in range(4)]
    assert texts == ["missed 1", "for bob", "missed 2", "live after rejoin"]
    assert reply.last_seq == before_login
    del carol


def test_user_who_left_gets_the_backlog_at_its_next_login(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    RawClient.login_as(server, "bob").goodbye()
    alice.wait_for(presence_of("bob", "left"))
    for i in range(1200):  # more than one replay batch
        alice.send(SendChat(f"backlog {i}"))
    last = [alice.wait_for(ChatMessage) for _ in range(1200)][-1]
    bob = RawClient(server.address)
    assert isinstance(bob.login("bob", "secret", last_seen_seq=0), LoginAccepted)
    got = [bob.wait_for(ChatMessage) for _ in range(1200)]
    assert [m.text for m in got] == [f"backlog {i}" for i in range(1200)]
    assert got[-1].seq == last.seq


def test_new_account_gets_nothing_from_before_it_existed(server: RunningServer) -> None:
    alice = RawClient.login_as(server, "alice")
    alice.send(SendChat("before newbie"))
    alice.wait_for(ChatMessage)
    newbie = RawClient.login_as(server, "newbie", last_seen_seq=0)
    alice.send(SendChat("after newbie"))
    assert newbie.wait_for(ChatMessage).text == "after newbie"
    assert [m.text for m in chats(newbie)] == ["after newbie"]


def test_a_flood_is_refused_as_rate_limited_and_others_are_not_held_up(
    tmp_path: Path,
) -> None:
    with running_server(tmp_path / "d", flood_rate=10, flood_burst=20) as server:
        flooder = RawClient.login_as(server, "flooder")
        calm = RawClient.login_as(server, "calm")
        for i in range(200):
            flooder.send(SendChat(f"spam {i}", client_id=i))
        calm.send(SendChat("hello", client_id=1))
        calm.wait_for(lambda e: isinstance(e, ChatMessage) and e.sender == "calm")
        rejected = flooder.wait_for(ChatRejected)
        assert rejected.reason == "rate-limited"
        spam_before = [e for e in calm.received if isinstance(e, ChatMessage)][:-1]
        assert len(spam_before) <= 40  # the burst and what the rate allowed, not 200
        # Every message got exactly one answer: delivered or refused.
        answers = {rejected.client_id}
        while len(answers) < 200:
            event = flooder.wait_for(
                lambda e: isinstance(e, ChatRejected)
                or (isinstance(e, ChatMessage) and e.sender == "flooder")
            )
            answers.add(event.client_id)
        assert answers == set(range(200))


def test_broadcasts_and_direct_messages_keep_their_order(server: RunningServer) -> None:
    """Many messages in one write land in one loop turn, where broadcasts and
    direct messages take different paths to each connection (fanout.py): every
    receiver still gets exactly its messages, in the order they were sent."""
    alice, bob, carol = (RawClient.login_as(server, name) for name in ("alice", "bob", "carol"))
    cycle = (None, "bob", None, "carol", "alice")
    batch = [
        SendChat(f"message {i}", recipient=cycle[i % len(cycle)], client_id=i + 1)
        for i in range(500)
    ]
    alice.send_raw(b"".join(alice.conn.send(chat) for chat in batch))
    for client, name in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
        expected = [
            c.text for c in batch if c.recipient in (None, name) or name == "alice"
        ]
        got = [client.wait_for(ChatMessage) for _ in expected]
        assert [m.text for m in got] == expected
        assert [m.seq for m in got] == sorted(m.seq for m in got)
