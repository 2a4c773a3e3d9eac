"""What the full-text index holds and what a query looks for
(``chatserver.search_text``), checked against a real FTS5 table in memory:
the functions are pure, the matching is SQLite's own."""

from __future__ import annotations

import sqlite3

from hypothesis import example, given, settings
from hypothesis import strategies as st

from chatserver.search_text import index_text, match_expression

HANGUL = st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3)
LATIN = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _matches(texts: list[str], query: str) -> list[int]:
    """The positions in ``texts`` that ``query`` finds, as the server's index would."""
    db = sqlite3.connect(":memory:")
    try:
        db.execute("CREATE VIRTUAL TABLE t USING fts5(body, content='',"
                   " tokenize='unicode61 remove_diacritics 2')")
        db.executemany("INSERT INTO t (rowid, body) VALUES (?, ?)",
                       [(i + 1, index_text(text)) for i, text in enumerate(texts)])
        match = match_expression(query)
        assert match is not None
        rows = db.execute("SELECT rowid FROM t WHERE t MATCH ? ORDER BY rowid", (match,))
        return [rowid - 1 for (rowid,) in rows]
    finally:
        db.close()


def test_text_without_cjk_is_indexed_as_it_is() -> None:
    assert index_text("Hello, world!") == "Hello, world!"


def test_korean_runs_are_indexed_as_their_pairs() -> None:
    assert index_text("안녕하세요") .split() == ["안녕", "녕하", "하세", "세요", "요"]
    assert index_text("a안녕b").split() == ["a", "안녕", "녕", "b"]


def test_a_two_syllable_korean_word_is_found_inside_a_longer_one() -> None:
    texts = ["안녕하세요 여러분", "안녕히 가세요", "하세요", "녕안"]
    assert _matches(texts, "안녕") == [0, 1]
    assert _matches(texts, "하세") == [0, 2]
    assert _matches(texts, "녕하세요") == [0]
    assert _matches(texts, "요안") == []


def test_a_single_korean_character_is_found() -> None:
    assert _matches(["안녕하세요", "가나", "요"], "요") == [0, 2]


def test_english_words_regardless_of_case_and_accents() -> None:
    texts = ["Hello World", "HELLO there", "say hello", "café CRÈME", "helloworld"]
    assert _matches(texts, "hello") == [0, 1, 2]
    assert _matches(texts, "HeLLo") == [0, 1, 2]
    assert _matches(texts, "cafe creme") == [3]


def test_every_word_must_occur() -> None:
    texts = ["red apple", "green apple", "red car"]
    assert _matches(texts, "red apple") == [0]
    assert _matches(texts, "apple, red!") == [0]


def test_fts_syntax_in_a_query_is_taken_as_words() -> None:
    texts = ["alpha beta", "alpha", "beta", "near alpha or not beta", "x* y"]
    # Operators are words to look for, never operators.
    assert _matches(texts, "alpha OR beta") == [3]
    assert _matches(texts, "alpha NOT beta") == [3]
    assert _matches(texts, "NEAR(alpha beta)") == [3]
    assert _matches(texts, '"alpha') == [0, 1, 3]
    assert _matches(texts, "alpha -beta") == [0, 3]
    assert _matches(texts, "x*") == [4]
    assert _matches(texts, "body:alpha") == []
    assert _matches(texts, "^alpha") == [0, 1, 3]


def test_a_query_without_a_word_is_none() -> None:
    assert match_expression("!!!") is None
    assert match_expression("") is None
    assert match_expression("  \"*-() ") is None


@settings(max_examples=200, deadline=None)
@given(st.text(HANGUL, min_size=2, max_size=12), st.data())
def test_any_piece_of_a_korean_run_finds_it(run: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(run) - 1))
    end = data.draw(st.integers(start + 1, len(run)))
    assert _matches(["xx " + run + " yy", "zz"], run[start:end]) == [0]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(LATIN, min_size=1, max_size=8), min_size=1, max_size=6), st.data())
def test_any_word_of_a_text_finds_it_in_any_case(words: list[str], data: st.DataObject) -> None:
    word = data.draw(st.sampled_from(words))
    assert _matches([" ".join(words)], word.swapcase()) == [0]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
@example("a\ue000b")
def test_any_query_is_a_valid_expression_or_none(query: str) -> None:
    match = match_expression(query)
    if match is None:
        return
    db = sqlite3.connect(":memory:")
    try:
        db.execute("CREATE VIRTUAL TABLE t USING fts5(body, content='',"
                   " tokenize='unicode61 remove_diacritics 2')")
        db.execute("INSERT INTO t (rowid, body) VALUES (1, ?)", (index_text(query),))
        # The text itself contains every word of it: a query always finds its own text.
        found = db.execute("SELECT rowid FROM t WHERE t MATCH ?", (match,)).fetchall()
        assert found == [(1,)], (query, match)
    finally:
        db.close()
