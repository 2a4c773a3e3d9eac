"""The search tests of ``SqliteStore`` (tests/server/test_search_store.py),
run on ``PgStore``: the same results, order, paging and visibility.

The ``history`` fixture here gives the same ``History`` interface on a
fresh PostgreSQL database; the tests themselves are imported unchanged."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from chatserver.cluster import pg_search
from chatserver.cluster.pg_store import PgStore
from chatserver.ports import Account
from server.test_search_store import (  # noqa: F401  (collected here, on PostgreSQL)
    T0,
    test_a_message_to_a_room_is_not_a_direct_message_of_its_sender,
    test_a_query_without_a_word_is_a_bad_query,
    test_a_row_is_returned_whole,
    test_an_unknown_user_sees_nothing,
    test_before_seq_as_any_u64,
    test_direct_messages_from_before_registration_are_found,
    test_direct_messages_only_to_their_two_users,
    test_english_regardless_of_case,
    test_fts_syntax_in_the_query_is_inert,
    test_general_is_searchable_from_registration_on,
    test_korean_pairs_inside_words,
    test_names_in_the_index_terms_cannot_be_searched_for,
    test_newest_rows_committed_after_a_search_are_found,
    test_paging_with_before_seq_and_more,
    test_private_rooms_only_for_their_members,
    test_room_and_sender_filters,
    test_rooms_from_joined_seq_and_not_after_leaving,
)

from .pg_support import new_database


class PgHistory:
    """``server.test_search_store.History`` on PostgreSQL: rooms and members
    written straight into their tables, as that one does."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.store = PgStore(dsn)
        self.seq = 0

    def _sql(self, statement: str, params: tuple[object, ...]) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as db:
            db.execute(statement, params)

    def account(self, name: str) -> None:
        self.store.create_account(Account(name, "-", self.seq), T0)

    def say(self, sender: str, text: str, to: str | None = None) -> int:
        entry = self.store.commit_entries([(0, T0 + self.seq + 1, sender, to, self.seq + 1,
                                            text)], ())
        self.seq = entry.last_seq
        return self.seq

    def room(self, name: str, *members: str, private: bool = False) -> None:
        self._sql("INSERT INTO rooms (name, skeleton, private, creator, created_seq, created_ms)"
                  " VALUES (%s, %s, %s, %s, %s, %s)",
                  (name, name.lower(), private, members[0], self.seq, T0))
        for member in members:
            self.join(name, member)

    def join(self, room: str, user: str) -> None:
        self._sql("INSERT INTO room_members (room, account, joined_seq) VALUES (%s, %s, %s)",
                  (room, user, self.seq))

    def leave(self, room: str, user: str) -> None:
        self._sql("DELETE FROM room_members WHERE room = %s AND account = %s", (room, user))

    def seqs(self, user: str, query: str, *, room: str | None = None,
             sender: str | None = None, before_seq: int = 0, limit: int = 100) -> list[int]:
        rows, _ = self.store.search(user, query, room=room, sender=sender,
                                    before_seq=before_seq, limit=limit)
        return [row[0] for row in rows]


@pytest.fixture(params=["recent", "indexed"])
def history(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[PgHistory]:
    """Each test twice: as the small history it writes is (all within the
    newest rows, walked by the primary key), and with that walk cut to two
    rows, so that the rest is found through the GIN index (``pg_search``)."""
    if request.param == "indexed":
        monkeypatch.setattr(pg_search, "_RECENT", 2)
    with new_database() as dsn:
        h = PgHistory(dsn)
        try:
            yield h
        finally:
            h.store.close()


def test_files_are_not_searched(history: PgHistory) -> None:
    history.account("alice")
    seq = history.say("alice", "report attached")
    # A file row shares the history table; it has no text (and no body) to match.
    history._sql("INSERT INTO history (seq, timestamp_ms, sender, recipient, file_id)"
                 " VALUES (%s, %s, 'alice', NULL, NULL)", (seq + 1, T0))
    assert history.seqs("alice", "report") == [seq]


def test_diacritics_are_folded_and_cjk_single_characters_are_prefixes(
        history: PgHistory) -> None:
    history.account("alice")
    cafe = history.say("alice", "un café noir")
    hello = history.say("alice", "안녕하세요")
    assert history.seqs("alice", "CAFE") == [cafe]
    assert history.seqs("alice", "cafè") == [cafe]
    assert history.seqs("alice", "녕") == [hello]
    assert history.seqs("alice", "요") == [hello]


def test_many_pages_of_hidden_matches_are_walked(history: PgHistory) -> None:
    # Matches the user may not see (another pair's direct messages) come
    # between the visible ones: the walk goes on past them, page by page.
    for name in ("alice", "bob", "carol"):
        history.account(name)
    visible = []
    for i in range(30):
        for _ in range(3):
            history.say("bob", f"word {i}", to="carol")
        visible.append(history.say("bob", f"word {i}", to="alice"))
    rows, more = history.store.search("alice", "word", room=None, sender=None,
                                      before_seq=0, limit=5)
    assert [r[0] for r in rows] == visible[::-1][:5] and more
    assert history.seqs("alice", "word") == visible[::-1]
