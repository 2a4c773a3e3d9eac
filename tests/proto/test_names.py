"""The user name rule (chatproto.names): which names are valid, and which are the same.

Characters that look like others are written as escapes, so the reader sees which is which.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatproto
from chatproto import _names_data, limits, names
from chatproto.names import (
    MAX_MARKS_IN_A_ROW,
    MAX_USERNAME_BYTES,
    MAX_USERNAME_CHARS,
    UNICODE_VERSION,
    is_valid_username,
    username_problem,
    username_skeleton,
)

from .strategies import KOREAN_NAMES, usernames

SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

CYRILLIC_O = "\u043e"
GREEK_OMICRON = "\u03bf"
FULLWIDTH_BOB = "\uff42\uff4f\uff42"
COMBINING_ACUTE = "\u0301"

VALID = [
    "frog", "Frog-1", "bob", "_", "-", "123", "a" * MAX_USERNAME_CHARS,
    *KOREAN_NAMES, "개구리_2", "ㅋㅋㅋ", "ㄱ", "김Frog", "金개구리", "개구리2-3",
    "नमस्ते", "名前", "山田たろう", "タナカ", "Tanaka田中たなかタナカ", "abc中ㄅㄆ", "abc中가",
    "Ελένη", "Владимир", "محمد", "สมชาย", "שלום", "Straße", "ǅemal", "\u13a0",
    "\U00020000" * MAX_USERNAME_CHARS,  # 32 CJK letters of 4 UTF-8 bytes: exactly 128 bytes
    unicodedata.normalize("NFC", "q\u0303\u0323"),  # a letter with two different marks
    unicodedata.normalize("NFC", "e\u0323\u0302\u0306\u0300"),  # four marks on one letter
    "\U0001d41b\U0001d428\U0001d41b",  # mathematical bold "bob": Common, counted as Latin
]


@pytest.mark.parametrize("name", VALID)
def test_valid_names(name: str) -> None:
    assert username_problem(name) is None
    assert is_valid_username(name)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "the name is empty"),
        ("a" * (MAX_USERNAME_CHARS + 1), "the name is longer than 32 characters"),
        ("가" * (MAX_USERNAME_CHARS + 1), "the name is longer than 32 characters"),
        ("a/c", "the name may contain only letters, digits, '_' and '-'"),
        ("a b", "the name may contain only letters, digits, '_' and '-'"),
        ("bob\u200b", "the name may contain only letters, digits, '_' and '-'"),  # zero width
        ("bob\ufe0f", "the name may contain only letters, digits, '_' and '-'"),  # variation sel.
        ("\u3164", "the name may contain only letters, digits, '_' and '-'"),  # Hangul filler
        ("x\u20dd", "the name may contain only letters, digits, '_' and '-'"),  # enclosing mark
        ("a\u00b2", "the name may contain only letters, digits, '_' and '-'"),  # superscript 2
        ("\u216b", "the name may contain only letters, digits, '_' and '-'"),  # roman numeral 12
        ("개구리\u2460", "the name may contain only letters, digits, '_' and '-'"),  # circled 1
        ("\ud800", "the name may contain only letters, digits, '_' and '-'"),  # lone surrogate
        ("e" + COMBINING_ACUTE, "the name is not in Unicode NFC form"),
        (COMBINING_ACUTE + "a", "the name starts with a combining mark"),
        ("_" + COMBINING_ACUTE, "a combining mark in the name does not follow a letter"),
        ("1" + COMBINING_ACUTE, "a combining mark in the name does not follow a letter"),
        ("\u00e9" + COMBINING_ACUTE, "the name repeats a combining mark"),
        (unicodedata.normalize("NFC", "q\u0300\u0301\u0302\u0303\u0304"),
         "the name has more than 4 combining marks in a row"),
        ("b" + CYRILLIC_O + "b", "the name mixes letters of different scripts"),
        ("b" + GREEK_OMICRON + "b", "the name mixes letters of different scripts"),
        ("b\U0001d6c2b", "the name mixes letters of different scripts"),  # math bold alpha
        ("\u00b5arc", "the name mixes letters of different scripts"),  # micro sign is Greek mu
        ("김た", "the name mixes letters of different scripts"),  # Hangul with Hiragana
        ("abcمحمد", "the name mixes letters of different scripts"),
        ("bob\u02cd1", "the name contains a modifier letter that belongs to no script"),
        ("o\u02bcneil", "the name contains a modifier letter that belongs to no script"),
        ("\u0663" + "3", "the name mixes digits of different number systems"),  # Arabic-Indic 3
        ("deva\u0967", "the name mixes letters of different scripts"),  # Devanagari 1 in Latin
    ],
    ids=repr,
)
def test_invalid_names_and_their_messages(name: str, problem: str) -> None:
    assert username_problem(name) == problem
    assert not is_valid_username(name)


def test_messages_are_one_short_sentence() -> None:
    messages = [value for key, value in vars(names).items()
                if key.startswith("_") and key.isupper() and isinstance(value, str)]
    assert len(messages) >= 12
    for message in messages:
        assert message.isprintable() and len(message) <= 72, message
        assert message.count(". ") == 0 and not message.endswith("."), message


def test_different_case_and_width_is_the_same_name() -> None:
    assert (username_skeleton("Bob") == username_skeleton("bob") == username_skeleton("BOB")
            == username_skeleton(FULLWIDTH_BOB) == username_skeleton("\U0001d41b\U0001d428b")
            == "bob")
    assert username_problem(FULLWIDTH_BOB) is None  # valid, but it is bob's name
    assert username_skeleton("b" + CYRILLIC_O + "b") != "bob"
    assert username_skeleton("Straße") == username_skeleton("STRASSE") == "strasse"
    assert username_skeleton("\ufb01sh") == username_skeleton("fish")
    assert username_skeleton("ΕΛΈΝΗ") == username_skeleton("Ελένη") == username_skeleton("ελένη")
    assert username_skeleton("ㄱ") == username_skeleton("\u1100")
    assert username_skeleton("개구리") == "개구리"
    assert username_skeleton("\uff21\uff11") == "a1"  # fullwidth A1


def test_limits_and_the_package_still_export_the_rule() -> None:
    assert limits.username_problem is names.username_problem
    assert limits.is_valid_username is names.is_valid_username
    assert limits.MAX_USERNAME_CHARS == MAX_USERNAME_CHARS == 32
    assert limits.MAX_USERNAME_BYTES == MAX_USERNAME_BYTES == 128
    assert chatproto.username_problem is username_problem
    assert chatproto.is_valid_username is is_valid_username
    assert chatproto.username_skeleton is username_skeleton
    assert MAX_MARKS_IN_A_ROW == 4


def test_the_unicode_data_is_pinned_and_consistent() -> None:
    assert UNICODE_VERSION == _names_data.UNICODE_VERSION == "14.0.0"
    starts, info, masks = _names_data.STARTS, _names_data.INFO, _names_data.MASKS
    assert starts[0] == 0 and list(starts) == sorted(set(starts)) and len(info) == len(starts)
    assert max(entry >> 3 for entry in info) < len(masks)
    stdlib_is_the_same_version = unicodedata.unidata_version == UNICODE_VERSION
    kinds = {1: "L", 2: "Nd", 3: "M"}
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else 0x110000
        kind = info[index] & 7
        for cp in range(start, end):
            category = unicodedata.category(chr(cp))
            if kind in kinds:  # what the table allows, unicodedata agrees on, in any version
                assert category.startswith(kinds[kind]), hex(cp)
                assert category != "Me", hex(cp)
                if kind == 1:  # names.py relies on it: at most 3 distinct marks per letter
                    decomposed = unicodedata.normalize("NFD", chr(cp))
                    assert unicodedata.category(decomposed[0])[0] != "M", hex(cp)
                    assert len(decomposed) <= 4 and len(set(decomposed)) == len(decomposed), hex(cp)
            elif kind == 4:
                assert chr(cp) in "_-"
            elif stdlib_is_the_same_version:  # and the other way round, on Python 3.11
                refused = category[0] not in "LM" and category != "Nd"
                assert refused or category == "Me" or _default_ignorable(cp), hex(cp)


def _default_ignorable(cp: int) -> bool:
    return cp in (0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0) or (
        0x180B <= cp <= 0x180F or 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF)


def _entry(char: str) -> int:
    return _names_data.INFO[bisect_right(_names_data.STARTS, ord(char)) - 1]


def test_script_data_examples() -> None:
    def scripts(char: str) -> set[str]:
        mask = _names_data.MASKS[_entry(char) >> 3]
        if mask == -1:
            return {"*"}
        return {code for i, code in enumerate(_names_data.SCRIPTS) if mask >> i & 1}

    assert scripts("a") == {"Latn"}
    assert scripts(CYRILLIC_O) == {"Cyrl"}
    assert scripts("가") == {"Hang", "Kore"}
    assert scripts("名") == {"Hani", "Hanb", "Jpan", "Kore"}
    assert scripts("た") == {"Hira", "Jpan"}
    assert scripts("ー") == {"Hira", "Kana", "Jpan"}  # prolonged sound mark: Common, both kanas
    assert scripts("7") == scripts("_") == scripts(COMBINING_ACUTE) == {"*"}
    assert scripts("\u0966") == {"Deva", "Dogr", "Kthi", "Mahj"}  # Devanagari digit zero


# -- properties -------------------------------------------------------------------------

def _alphabet(*ranges: tuple[int, int]) -> st.SearchStrategy[str]:
    return st.one_of(*(st.characters(min_codepoint=low, max_codepoint=high)
                       for low, high in ranges))


_SCRIPT_ALPHABETS = [
    _alphabet((0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F), (0x30, 0x39)),  # Latin, digits
    _alphabet((0xAC00, 0xD7A3), (0x3131, 0x318E), (0x30, 0x39)),  # Hangul, compatibility jamo
    _alphabet((0x0900, 0x097F)),  # Devanagari, marks included
    _alphabet((0x4E00, 0x9FFF), (0x3041, 0x3096), (0x30A1, 0x30FA), (0x41, 0x5A)),  # Japanese
    _alphabet((0x0400, 0x04FF)),  # Cyrillic
    _alphabet((0x0370, 0x03FF), (0x1F00, 0x1FFF)),  # Greek
]
#: Valid names of one script (or an allowed mix), plus the project's own strategy.
valid_names = st.one_of(
    *(st.text(alphabet, min_size=1, max_size=MAX_USERNAME_CHARS)
      .map(lambda s: unicodedata.normalize("NFC", s)) for alphabet in _SCRIPT_ALPHABETS),
    usernames,
).filter(is_valid_username)

_ASCII_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in _ASCII_ALNUM}


@SETTINGS
@given(st.text(max_size=40))
def test_arbitrary_text_gives_a_problem_or_none_and_never_raises(text: str) -> None:
    problem = username_problem(text)
    assert problem is None or (isinstance(problem, str) and problem)
    assert isinstance(username_skeleton(text), str)


@SETTINGS
@given(st.text(max_size=40) | valid_names)
def test_the_skeleton_is_idempotent(text: str) -> None:
    skeleton = username_skeleton(text)
    assert username_skeleton(skeleton) == skeleton


@SETTINGS
@given(valid_names)
def test_a_valid_name_obeys_the_rule_and_its_variants_share_its_skeleton(name: str) -> None:
    # The rule, restated with unicodedata alone.
    assert 1 <= len(name) <= MAX_USERNAME_CHARS and len(name.encode()) <= MAX_USERNAME_BYTES
    assert unicodedata.is_normalized("NFC", name)
    assert unicodedata.category(name[0])[0] != "M"
    for char in name:
        category = unicodedata.category(char)
        assert category[0] == "L" or category in ("Nd", "Mn", "Mc") or char in "_-", char
    skeleton = username_skeleton(name)
    assert skeleton == unicodedata.normalize("NFKC", skeleton.casefold())
    for variant in (name.casefold(), name.lower(), unicodedata.normalize("NFKC", name),
                    unicodedata.normalize("NFKD", name),
                    unicodedata.normalize("NFKC", name.casefold()), skeleton):
        assert username_skeleton(variant) == skeleton, variant
    if name.upper().casefold() == name.casefold():  # not e.g. a dotless i, whose upper is I
        assert username_skeleton(name.upper()) == skeleton


@SETTINGS
@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}", fullmatch=True), st.data())
def test_names_that_differ_only_by_case_or_width_collide(name: str, data: st.DataObject) -> None:
    flips = data.draw(st.lists(st.sampled_from(["same", "swap", "wide"]),
                               min_size=len(name), max_size=len(name)))
    variant = "".join(
        c.swapcase() if flip == "swap" else _FULLWIDTH.get(c, c) if flip == "wide" else c
        for c, flip in zip(name, flips, strict=True)
    )
    assert username_problem(name) is None
    assert username_skeleton(variant) == username_skeleton(name) == name.lower()


@SETTINGS
@given(st.text(st.characters(max_codepoint=0x7F), max_size=40))
def test_the_ascii_fast_path_agrees_with_the_full_rule(text: str) -> None:
    fast = username_problem(text)
    full = names._unicode_problem(text) if text else "the name is empty"
    assert (fast is None) == (full is None)
    if fast is not None and len(text) <= MAX_USERNAME_CHARS:
        assert fast == full
    assert username_skeleton(text) == unicodedata.normalize("NFKC", text.casefold())
