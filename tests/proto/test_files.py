"""The pure file helpers: chunking, reassembly, hashing, safe names, unique names."""

from __future__ import annotations

import hashlib
import ntpath
import posixpath
import re
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatproto import Reassembler, ReassemblyError, iter_chunks, sanitize_filename, sha256_of
from chatproto.files import unique_name
from chatproto.limits import DEFAULT_CHUNK_SIZE, MAX_FILENAME_BYTES

SETTINGS = settings(max_examples=80, deadline=None)
#: Windows device names, with or without an extension (written independently of files.py).
RESERVED = re.compile(r"(?i)(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?\Z")

# -- iter_chunks -------------------------------------------------------------------


@given(st.lists(st.binary(max_size=50), max_size=20), st.integers(1, 64), st.integers(0, 10**6))
@SETTINGS
def test_any_split_is_rechunked_into_exact_chunks(pieces: list[bytes], size: int,
                                                  start: int) -> None:
    chunks = list(iter_chunks(pieces, size, start))
    whole = b"".join(pieces)
    assert b"".join(c.data for c in chunks) == whole
    assert all(len(c.data) == size for c in chunks[:-1])
    assert all(0 < len(c.data) <= size for c in chunks)
    assert [c.offset for c in chunks] == [start + i * size for i in range(len(chunks))]


def test_default_chunk_size_and_empty_stream() -> None:
    assert list(iter_chunks([])) == []
    assert list(iter_chunks([b"", b""])) == []
    chunks = list(iter_chunks([bytes(DEFAULT_CHUNK_SIZE + 1)]))
    assert [len(c.data) for c in chunks] == [DEFAULT_CHUNK_SIZE, 1]


def test_chunk_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        list(iter_chunks([b"x"], 0))


# -- Reassembler -------------------------------------------------------------------


@given(st.binary(max_size=500), st.integers(1, 64))
@SETTINGS
def test_in_order_chunks_verify(data: bytes, size: int) -> None:
    r = Reassembler(len(data), hashlib.sha256(data).digest())
    for chunk in iter_chunks([data], size):
        r.add(chunk.offset, chunk.data)
    assert r.complete and r.verify()


def test_a_gap_is_refused() -> None:
    r = Reassembler(10, sha256_of([bytes(10)]))
    r.add(0, b"abc")
    with pytest.raises(ReassemblyError, match="gap"):
        r.add(4, b"x")


def test_an_overlap_is_refused() -> None:
    r = Reassembler(10, sha256_of([bytes(10)]))
    r.add(0, b"abc")
    with pytest.raises(ReassemblyError, match="overlaps"):
        r.add(2, b"cd")


def test_past_the_size_is_refused() -> None:
    r = Reassembler(4, sha256_of([bytes(4)]))
    r.add(0, b"abc")
    with pytest.raises(ReassemblyError, match="past the size"):
        r.add(3, b"de")
    assert r.received == 3  # nothing of the refused chunk was counted


def test_a_sha256_mismatch_does_not_verify() -> None:
    r = Reassembler(5, hashlib.sha256(b"hello").digest())
    r.add(0, b"hellO")
    assert r.complete and not r.verify()


def test_an_incomplete_transfer_does_not_verify() -> None:
    r = Reassembler(5, hashlib.sha256(b"hello").digest())
    r.add(0, b"hell")
    assert not r.complete and not r.verify()


def test_a_resumed_transfer_verifies_with_its_prefix() -> None:
    data = b"hello world"
    r = Reassembler(len(data), hashlib.sha256(data).digest(), start=6)
    r.add_prefix(data[:6])
    with pytest.raises(ReassemblyError):
        r.add(0, data)  # the bytes before the resume point are not sent again
    r.add(6, data[6:])
    assert r.verify()


def test_empty_file_verifies_at_once() -> None:
    assert Reassembler(0, hashlib.sha256().digest()).verify()


@pytest.mark.parametrize(("size", "start"), [(-1, 0), (5, 6), (5, -1)])
def test_invalid_sizes_are_refused(size: int, start: int) -> None:
    with pytest.raises(ValueError):
        Reassembler(size, bytes(32), start)


# -- sanitize_filename -------------------------------------------------------------

CASES = {
    "../../x": "x",
    "/etc/passwd": "passwd",
    "C:\\x": "x",
    "C:x.txt": "x.txt",
    "..\\..\\win.ini": "win.ini",
    "con": "_con",
    "CON.txt": "_CON.txt",
    "com1.tar.gz": "_com1.tar.gz",
    "nul ": "_nul",
    "..": "file",
    ".": "file",
    "": "file",
    "a/b/": "file",
    "a\x00b\nc\rd\te": "abcde",
    "\x1b[31mred": "[31mred",
    "evil\u202etxt.exe": "eviltxt.exe",  # a right-to-left override would disguise the .exe
    "\u2066a\u2069.txt": "a.txt",
    "line\u2028two\u2029.txt": "linetwo.txt",  # separators would start a line in a listing
    ".bashrc": "bashrc",
    "report, final.txt": "report, final.txt",
    "사진.png": "사진.png",
    "e\u0301.txt": "\u00e9.txt",  # NFC
    "file.": "file",
}


@pytest.mark.parametrize(("name", "expected"), CASES.items(), ids=repr)
def test_sanitize_known_names(name: str, expected: str) -> None:
    assert sanitize_filename(name) == expected


@pytest.mark.parametrize("name", ["..C:x.txt", ".C:", "...D:evil.exe"])
def test_no_drive_letter_appears_once_leading_dots_are_gone(name: str) -> None:
    """On Windows, joining a download folder with ``C:x.txt`` gives ``C:x.txt``: a write
    outside the folder. Leading dots are stripped late, so the drive check must hold after."""
    safe = sanitize_filename(name)
    assert ntpath.splitdrive(safe)[0] == "", safe
    assert _is_safe(safe)


@pytest.mark.parametrize("name", [".con", "..CON.txt", "x/..lpt1", ". aux.txt"])
def test_no_reserved_device_name_appears_once_leading_dots_are_gone(name: str) -> None:
    safe = sanitize_filename(name)
    assert not RESERVED.match(safe.strip()), safe
    assert safe == safe.strip(), "no leading or trailing spaces"


def test_very_long_korean_names_keep_their_extension_within_255_bytes() -> None:
    name = "가" * 200 + ".txt"
    safe = sanitize_filename(name)
    assert safe.endswith(".txt") and safe.startswith("가")
    assert len(safe.encode("utf-8")) <= MAX_FILENAME_BYTES
    assert len(("가" * 200).encode()) > MAX_FILENAME_BYTES
    assert sanitize_filename("가" * 200) == "가" * 85  # cut on a character boundary


def _is_safe(safe: str) -> bool:
    return (
        bool(safe)
        and "/" not in safe
        and "\\" not in safe
        and safe not in (".", "..")
        and not safe.startswith(".")
        and len(safe.encode("utf-8")) <= MAX_FILENAME_BYTES
        and not any(ord(ch) < 32 or ord(ch) == 127 for ch in safe)
        and not re.match(r"[A-Za-z]:", safe)  # C:x.txt would escape a folder on Windows
        and not RESERVED.match(safe)
        and posixpath.dirname(posixpath.join("/home/u/Downloads", safe)) == "/home/u/Downloads"
    )


@given(st.text(max_size=400))
@settings(max_examples=300, deadline=None)
def test_any_name_becomes_a_safe_base_name(name: str) -> None:
    safe = sanitize_filename(name)
    assert _is_safe(safe), safe
    assert sanitize_filename(safe) == safe  # idempotent


@given(st.lists(st.sampled_from(["..", ".", "/", "\\", "C:", "con", "a", "가", "\n", "\u202e",
                                 " ", ".txt"]), max_size=12))
@settings(max_examples=300, deadline=None)
def test_path_tricks_never_escape(parts: list[str]) -> None:
    assert _is_safe(sanitize_filename("".join(parts)))


# -- unique_name ---------------------------------------------------------------------


def test_unique_name_numbers_duplicates() -> None:
    assert unique_name("a.txt", []) == "a.txt"
    assert unique_name("a.txt", ["a.txt"]) == "a (2).txt"
    assert unique_name("a.txt", ["a.txt", "a (2).txt"]) == "a (3).txt"
    assert unique_name("README", ["README"]) == "README (2)"
    assert unique_name("사진.png", ["사진.png"]) == "사진 (2).png"


@given(st.text(min_size=1, max_size=20).map(sanitize_filename), st.integers(0, 5))
@SETTINGS
def test_unique_name_is_not_taken_and_stays_safe(name: str, copies: int) -> None:
    taken: list[str] = []
    for _ in range(copies + 1):
        fresh = unique_name(name, taken)
        assert fresh not in taken and _is_safe(fresh)
        taken.append(fresh)


def test_unique_name_terminates_for_a_name_at_the_byte_limit() -> None:
    """A 255-byte name that is taken must still get a fresh name of at most 255 bytes.

    Run in a child process with a timeout, so a regression fails instead of hanging.
    """
    code = textwrap.dedent(
        """
        from chatproto.files import unique_name
        for name in ["가" * 85, "a" * 255, "a" * 251 + ".txt"]:
            fresh = unique_name(name, [name])
            assert fresh != name and len(fresh.encode()) <= 255, fresh
        """
    )
    try:
        done = subprocess.run([sys.executable, "-c", code], timeout=5, capture_output=True,
                              text=True, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("unique_name loops forever on a taken name of 255 bytes")
    assert done.returncode == 0, done.stderr


@given(st.text(), st.integers(-1, 80))
def test_truncate_utf8_never_cuts_a_character(text: str, limit: int) -> None:
    from chatproto.limits import truncate_utf8

    text = "".join(ch for ch in text if not 0xD800 <= ord(ch) <= 0xDFFF)  # no lone surrogates
    cut = truncate_utf8(text, limit)
    assert text.startswith(cut)
    assert len(cut.encode("utf-8")) <= max(limit, 0)
    if len(text.encode("utf-8")) <= limit:
        assert cut == text
    else:  # the next character would not have fitted
        assert len((text[: len(cut) + 1]).encode("utf-8")) > limit
