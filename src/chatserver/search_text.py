"""What the full-text index holds of a message, and what a query looks for.

SQLite's FTS5 tokenizers cut text at spaces and punctuation (``unicode61``)
or into three-character pieces (``trigram``). Neither finds a two-syllable
Korean word inside a longer one: ``unicode61`` keeps ``안녕하세요`` as one
token, so ``안녕`` matches it only as a prefix and never from the middle;
``trigram`` cannot look up anything shorter than three characters at all.
Korean, Chinese and Japanese are written without spaces between many words,
so a search must match inside runs of their characters. The usual answer
(Lucene's CJK analyzer, Elasticsearch's ``cjk_bigram``) is to index every
pair of neighbouring characters of such a run: ``안녕하세요`` is indexed as
``안녕 녕하 하세 세요``, and a query is cut the same way and looked up as a
phrase, so ``안녕``, ``하세`` and ``녕하세요`` all match and ``요안`` does not.
Everything else goes to ``unicode61`` as written, which folds case and
diacritics (``Hello`` finds ``hello``, ``café`` finds ``CAFE``).

Python's ``sqlite3`` cannot register an FTS5 tokenizer, so the pairs are made
here, before the text reaches the index (``index_text``), and the query is
rewritten the same way (``match_expression``). Text with no such character
goes through unchanged: ASCII at no cost, other text at the cost of one
regular-expression scan.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import re

# Hangul syllables and jamo, CJK ideographs, kana: scripts written without
# spaces between words (the ranges of Unicode's Han, Hangul, Hiragana and
# Katakana blocks that text uses).
_RUN = re.compile(
    "[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f\U00020000-\U0002fa1f]+"
)


#: Marks the terms the server adds to a row's indexed text (``index_body``):
#: a private-use character, which ``unicode61`` keeps inside a token and
#: which ``index_text`` and ``match_expression`` remove from the users' text.
MARK = "\ue000"


def _spaced_pairs(match: re.Match[str]) -> str:
    run = match.group()
    if len(run) == 1:
        return " " + run + " "
    # Every neighbouring pair, and the last character alone, so that a
    # one-character query (a prefix of a pair, or the last character) is found.
    return " " + " ".join(map(operator.add, run, run[1:])) + " " + run[-1] + " "


def index_text(text: str) -> str:
    """What the index stores for ``text``: runs of Korean, Chinese or Japanese
    characters as their pairs, everything else as it is."""
    # On every chat row of every commit: ASCII text (``isascii`` reads a flag
    # CPython keeps) skips the regular expression's scan, 2.2 µs a 100-byte row.
    if text.isascii():
        return text
    if MARK in text:  # a user's own: never part of a term of theirs
        text = text.replace(MARK, " ")
    if _RUN.search(text) is None:
        return text
    return _RUN.sub(_spaced_pairs, text)


@functools.lru_cache(maxsize=4096)
def term(kind: str, name: str) -> str:
    """The index term of ``kind`` for ``name``: ``s`` the sender, ``g``
    general, ``r`` a room, ``p`` one of the two users of a direct message.
    A name goes in as a hash: ``unicode61`` would cut ``a.b-c`` into three."""
    return MARK + kind + hashlib.blake2b(name.encode(), digest_size=8).hexdigest()


def index_body(text: str, sender: str, recipient: str | None) -> str:
    """What the index stores for a chat row: ``index_text(text)`` and the terms
    a search narrows by, so that "who may see it" and ``--from`` are looked up
    in the index instead of row by row in ``history`` (search.py)."""
    return index_text(text) + _row_terms(sender, recipient)


# On every row of every commit, from a few thousand (sender, recipient) pairs:
# 0.2 µs from the cache against 0.9 µs to build the three or four terms.
@functools.lru_cache(maxsize=8192)
def _row_terms(sender: str, recipient: str | None) -> str:
    if recipient is None:
        where = term("g", "")
    elif recipient.startswith("#"):
        where = term("r", recipient[1:])
    else:
        where = term("p", sender) + " " + term("p", recipient)
    return " " + term("s", sender) + " " + where


# A query is cut at white space only, and each piece goes to FTS5 quoted, so
# that SQLite's own tokenizer cuts it further exactly as it cut the indexed
# text (``alpha-beta`` is the phrase ``alpha beta``). Python's ``\w`` and
# ``unicode61`` disagree on some characters (``unicode61`` knows Unicode 6.1);
# ``\w`` only decides whether a piece has anything to look for at all.
_WORD = re.compile(r"[^\W_]")


def match_expression(query: str) -> str | None:
    """The FTS5 MATCH expression of a user's query: every word of it must
    occur, other words as whole words (case and diacritics folded), a run of
    Korean, Chinese or Japanese characters as the phrase of its pairs
    (anywhere in a run), a single such character as a prefix (of a pair, or
    the last character of a run); or None when the query has no word at all.
    No FTS5 syntax of the user's is ever interpreted: every term is quoted.

    Whole words, not prefixes: FTS5 answers a prefix query by merging the
    doclists of every token with that prefix, all of them, before the first
    row comes out (87 ms for ``"the" *`` over a million messages, against
    0.3 ms for the newest page of ``"the"``; docs/performance.md, Search)."""
    terms: list[str] = []
    # FTS5's query parser ends at a NUL; no word has one.
    for word in query.replace("\0", " ").replace(MARK, " ").split():
        last = 0
        for run in _RUN.finditer(word):
            _add_plain(terms, word[last : run.start()])
            chars = run.group()
            if len(chars) == 1:
                terms.append(quote(chars) + " *")
            else:
                terms.append(quote(" ".join(chars[i : i + 2] for i in range(len(chars) - 1))))
            last = run.end()
        _add_plain(terms, word[last:])
    if not terms:
        return None
    return " AND ".join(terms)


def _add_plain(terms: list[str], piece: str) -> None:
    if _WORD.search(piece) is not None:
        terms.append(quote(piece))


def quote(term: str) -> str:
    """``term`` as an FTS5 string: nothing in it is query syntax."""
    return '"' + term.replace('"', '""') + '"'
