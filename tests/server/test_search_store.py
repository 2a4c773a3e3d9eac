"""Search through a real ``SqliteStore`` file (``chatserver.search``): only
what the user may see, the filters, paging, Korean, case, inert FTS syntax.

Rooms and members are written straight into their tables (schema 4), as the
room code writes them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatserver.app import DATABASE_NAME
from chatserver.ports import Account
from chatserver.search import _PART, BadQuery
from chatserver.sqlite_store import SqliteStore

T0 = 1_700_000_000_000


class History:
    """A store and the seq of its next row."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.store = SqliteStore(path)
        self.seq = 0

    def account(self, name: str) -> None:
        self.store.create_account(Account(name, "-", self.seq), T0)

    def say(self, sender: str, text: str, to: str | None = None) -> int:
        self.seq += 1
        self.store.commit([(self.seq, T0 + self.seq, sender, to, self.seq, text)], ())
        return self.seq

    def room(self, name: str, *members: str, private: bool = False) -> None:
        db = sqlite3.connect(self.path, isolation_level=None)
        try:
            db.execute(
                "INSERT INTO rooms (name, skeleton, private, creator, created_seq, created_ms)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (name, name.lower(), int(private), members[0], self.seq, T0),
            )
            for member in members:
                self.join(name, member, db)
        finally:
            db.close()

    def join(self, room: str, user: str, db: sqlite3.Connection | None = None) -> None:
        own = db or sqlite3.connect(self.path, isolation_level=None)
        try:
            own.execute("INSERT INTO room_members (room, account, joined_seq) VALUES (?, ?, ?)",
                        (room, user, self.seq))
        finally:
            if db is None:
                own.close()

    def leave(self, room: str, user: str) -> None:
        db = sqlite3.connect(self.path, isolation_level=None)
        try:
            db.execute("DELETE FROM room_members WHERE room = ? AND account = ?", (room, user))
        finally:
            db.close()

    def seqs(self, user: str, query: str, *, room: str | None = None,
             sender: str | None = None, before_seq: int = 0, limit: int = 100) -> list[int]:
        rows, _ = self.store.search(user, query, room=room, sender=sender,
                                    before_seq=before_seq, limit=limit)
        return [row[0] for row in rows]


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    h = History(tmp_path / DATABASE_NAME)
    try:
        yield h
    finally:
        h.store.close()


def test_general_is_searchable_from_registration_on(history: History) -> None:
    history.account("alice")
    early = history.say("alice", "hello before bob")
    history.account("bob")
    late = history.say("alice", "hello after bob")
    assert history.seqs("bob", "hello") == [late]
    assert history.seqs("alice", "hello") == [late, early]


def test_a_row_is_returned_whole(history: History) -> None:
    history.account("alice")
    seq = history.say("alice", "Hello, World")
    rows, more = history.store.search("alice", "world", room=None, sender=None,
                                      before_seq=0, limit=10)
    assert rows == [(seq, T0 + seq, "alice", None, "Hello, World")]
    assert more is False


def test_direct_messages_only_to_their_two_users(history: History) -> None:
    for name in ("alice", "bob", "carol"):
        history.account(name)
    to_bob = history.say("alice", "secret plan", to="bob")
    from_bob = history.say("bob", "secret reply", to="alice")
    history.say("carol", "secret other", to="alice")
    assert history.seqs("bob", "secret") == [from_bob, to_bob]
    assert history.seqs("carol", "secret") == [to_bob + 2]
    assert len(history.seqs("alice", "secret")) == 3


def test_direct_messages_from_before_registration_are_found(history: History) -> None:
    history.account("alice")
    history.say("alice", "filler text")
    history.account("bob")
    # A DM is the user's whenever it was sent; here, after bob registered,
    # while general rows before it stay hidden.
    dm = history.say("alice", "find me", to="bob")
    assert history.seqs("bob", "find") == [dm]


def test_rooms_from_joined_seq_and_not_after_leaving(history: History) -> None:
    for name in ("alice", "bob"):
        history.account(name)
    history.room("dev", "alice")
    before_join = history.say("alice", "deploy one", to="#dev")
    history.join("dev", "bob")
    after_join = history.say("alice", "deploy two", to="#dev")
    assert history.seqs("bob", "deploy") == [after_join]
    assert history.seqs("alice", "deploy") == [after_join, before_join]
    history.leave("dev", "bob")
    assert history.seqs("bob", "deploy") == []
    # The room filter says the same.
    assert history.seqs("bob", "deploy", room="dev") == []


def test_private_rooms_only_for_their_members(history: History) -> None:
    for name in ("alice", "bob", "carol"):
        history.account(name)
    history.room("staff", "alice", "bob", private=True)
    seq = history.say("alice", "salaries", to="#staff")
    assert history.seqs("bob", "salaries") == [seq]
    assert history.seqs("carol", "salaries") == []
    assert history.seqs("carol", "salaries", room="staff") == []


def test_a_message_to_a_room_is_not_a_direct_message_of_its_sender(history: History) -> None:
    for name in ("alice", "bob"):
        history.account(name)
    history.room("dev", "alice")
    seq = history.say("alice", "mine", to="#dev")
    history.leave("dev", "alice")
    # Sent by alice, but to a room she left: not hers to search any more.
    assert history.seqs("alice", "mine") == []
    assert seq


def test_room_and_sender_filters(history: History) -> None:
    for name in ("alice", "bob"):
        history.account(name)
    history.room("dev", "alice", "bob")
    general = history.say("alice", "news")
    room = history.say("bob", "news", to="#dev")
    dm = history.say("bob", "news", to="alice")
    assert history.seqs("alice", "news") == [dm, room, general]
    for spelling in ("general", "General", "GENERAL"):
        assert history.seqs("alice", "news", room=spelling) == [general]
    assert history.seqs("alice", "news", room="dev") == [room]
    assert history.seqs("alice", "news", room="DEV") == [room]
    assert history.seqs("alice", "news", room="nowhere") == []
    assert history.seqs("alice", "news", sender="bob") == [dm, room]
    assert history.seqs("alice", "news", sender="Bob") == []
    assert history.seqs("alice", "news", room="dev", sender="alice") == []


def test_files_are_not_searched(history: History) -> None:
    history.account("alice")
    seq = history.say("alice", "report attached")
    db = sqlite3.connect(history.path, isolation_level=None)
    try:
        # A file row shares the history table; it has no text to match.
        db.execute("INSERT INTO history (seq, timestamp_ms, sender, recipient, file_id)"
                   " VALUES (?, ?, 'alice', NULL, NULL)", (seq + 1, T0))
    finally:
        db.close()
    assert history.seqs("alice", "report") == [seq]


def test_paging_with_before_seq_and_more(history: History) -> None:
    history.account("alice")
    seqs = [history.say("alice", f"page word {i}") for i in range(7)]
    history.say("alice", "unrelated")
    newest_first = list(reversed(seqs))
    rows, more = history.store.search("alice", "word", room=None, sender=None,
                                      before_seq=0, limit=3)
    assert [r[0] for r in rows] == newest_first[:3] and more
    rows, more = history.store.search("alice", "word", room=None, sender=None,
                                      before_seq=rows[-1][0], limit=3)
    assert [r[0] for r in rows] == newest_first[3:6] and more
    rows, more = history.store.search("alice", "word", room=None, sender=None,
                                      before_seq=rows[-1][0], limit=3)
    assert [r[0] for r in rows] == newest_first[6:] and not more
    # Exactly ``limit`` left: no more.
    rows, more = history.store.search("alice", "word", room=None, sender=None,
                                      before_seq=newest_first[3], limit=3)
    assert [r[0] for r in rows] == newest_first[4:7] and not more


def test_before_seq_as_any_u64(history: History) -> None:
    history.account("alice")
    seq = history.say("alice", "edge")
    for before in (0, 2**63 - 1, 2**63, 2**64 - 1):
        assert history.seqs("alice", "edge", before_seq=before) == [seq]
    assert history.seqs("alice", "edge", before_seq=seq) == []
    assert history.seqs("alice", "edge", before_seq=1) == []


def test_korean_pairs_inside_words(history: History) -> None:
    history.account("alice")
    hello = history.say("alice", "안녕하세요 여러분")
    bye = history.say("alice", "안녕히 가세요")
    history.say("alice", "녕안 하세")
    assert history.seqs("alice", "안녕") == [bye, hello]
    assert history.seqs("alice", "하세요") == [hello]
    assert history.seqs("alice", "세요") == [bye, hello]


def test_english_regardless_of_case(history: History) -> None:
    history.account("alice")
    seqs = [history.say("alice", text) for text in ("Hello", "HELLO!", "oh hello there")]
    history.say("alice", "hell")
    assert history.seqs("alice", "hello") == list(reversed(seqs))
    assert history.seqs("alice", "HeLLo") == list(reversed(seqs))


@pytest.mark.parametrize("query", ['"', '"hello', "hello*", "NEAR(hello", "hello OR",
                                   "-hello", "hello -", "body:hello", "(hello)", "hello^"])
def test_fts_syntax_in_the_query_is_inert(history: History, query: str) -> None:
    history.account("alice")
    history.say("alice", "or near body")
    seq = history.say("alice", "hello world")
    if query == '"':
        with pytest.raises(BadQuery):
            history.seqs("alice", query)
        return
    found = history.seqs("alice", query)
    # The operators are words of their own, which only the first row has.
    expected = [] if any(op in query for op in ("OR", "NEAR", "body")) else [seq]
    assert found == expected


@pytest.mark.parametrize("query", ["!!!", "", "   ", "*", "-- ()"])
def test_a_query_without_a_word_is_a_bad_query(history: History, query: str) -> None:
    history.account("alice")
    history.say("alice", "anything")
    with pytest.raises(BadQuery):
        history.seqs("alice", query)


def test_an_unknown_user_sees_nothing(history: History) -> None:
    history.account("alice")
    history.say("alice", "hello")
    assert history.seqs("nobody", "hello") == []


def test_newest_rows_committed_after_a_search_are_found(history: History) -> None:
    history.account("alice")
    first = history.say("alice", "fresh")
    assert history.seqs("alice", "fresh") == [first]
    second = history.say("alice", "fresh again")
    assert history.seqs("alice", "fresh") == [second, first]


def test_the_walk_is_newest_first_in_the_index_without_a_sort(history: History) -> None:
    # What keeps a common word cheap: FTS5 walks its doclists backwards and
    # stops; a sort would read every match first.
    history.account("alice")
    history.say("alice", "hello")
    db = sqlite3.connect(history.path)
    try:
        plan = " | ".join(row[3] for row in db.execute(
            "EXPLAIN QUERY PLAN " + _PART, ('"hello"', 0, 10)))
    finally:
        db.close()
    assert "VIRTUAL TABLE" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


def test_names_in_the_index_terms_cannot_be_searched_for(history: History) -> None:
    # The terms a row carries for who sent it and where it went are the
    # server's: a query never reaches them, not even spelled out.
    from chatserver.search_text import term

    history.account("alice")
    history.say("alice", "plain")
    assert history.seqs("alice", term("s", "alice")) == []
    assert history.seqs("alice", term("g", "")) == []
