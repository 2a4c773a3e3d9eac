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
goes through unchanged, at the cost of one regular-expression scan.
"""

from __future__ import annotations

import re

# Hangul syllables and jamo, CJK ideographs, kana: scripts written without
# spaces between words (the ranges of Unicode's Han, Hangul, Hiragana and
# Katakana blocks that text uses).
_RUN = re.compile(
    "[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f\U00020000-\U0002fa1f]+"
)


def _pairs(run: str) -> str:
    if len(run) == 1:
        return run
    # Every neighbouring pair, and the last character alone, so that a
    # one-character query (a prefix of a pair, or the last character) is found.
    return " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " " + run[-1]


def _spaced_pairs(match: re.Match[str]) -> str:
    return " " + _pairs(match.group()) + " "


def index_text(text: str) -> str:
    """What the index stores for ``text``: runs of Korean, Chinese or Japanese
    characters as their pairs, everything else as it is."""
    if _RUN.search(text) is None:
        return text
    return _RUN.sub(_spaced_pairs, text)


_WORD = re.compile(r"\w+")


def match_expression(query: str) -> str | None:
    """The FTS5 MATCH expression of a user's query: every word of it must
    occur, other words as the start of a word (``hel`` finds ``hello``), a
    run of Korean, Chinese or Japanese characters as the phrase of its pairs
    (anywhere in a run), a single such character as a prefix; or None when the query
    has no word at all. No FTS5 syntax of the user's is ever interpreted:
    every term is quoted."""
    terms: list[str] = []
    for word in _WORD.findall(query):
        pieces = []
        last = 0
        for run in _RUN.finditer(word):
            if run.start() > last:
                pieces.append(_quote(word[last : run.start()]) + " *")
            chars = run.group()
            if len(chars) == 1:
                pieces.append(_quote(chars) + " *")
            else:
                pairs = " ".join(chars[i : i + 2] for i in range(len(chars) - 1))
                pieces.append(_quote(pairs))
            last = run.end()
        if last < len(word):
            pieces.append(_quote(word[last:]) + " *")
        terms.extend(pieces)
    if not terms:
        return None
    return " AND ".join(terms)


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'
