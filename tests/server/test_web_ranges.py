"""``Range`` headers of downloads, against an independent reading of RFC 9110."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chatserver.web.ranges import byte_range


def test_the_forms_a_resuming_browser_sends() -> None:
    assert byte_range(b"bytes=0-", 10) == (0, 10)
    assert byte_range(b"bytes=4-", 10) == (4, 10)
    assert byte_range(b"bytes=2-5", 10) == (2, 6)
    assert byte_range(b"bytes=2-500", 10) == (2, 10)
    assert byte_range(b"bytes=-3", 10) == (7, 10)
    assert byte_range(b"bytes=-30", 10) == (0, 10)


def test_what_cannot_be_served_and_what_is_ignored() -> None:
    assert byte_range(b"bytes=10-", 10) == "unsatisfiable"
    assert byte_range(b"bytes=-0", 10) == "unsatisfiable"
    assert byte_range(b"bytes=0-", 0) == "unsatisfiable"
    for ignored in (b"bytes=1-2,4-5", b"items=0-1", b"bytes=5-2", b"bytes=-", b"bytes=a-b",
                    b"bytes=1", b"", b"bytes=+1-2", b"bytes= 1-2x"):
        assert byte_range(ignored, 10) is None, ignored


@given(st.integers(0, 2**64), st.integers(0, 2**64), st.integers(1, 2**64))
@settings(max_examples=200)
def test_a_served_range_is_inside_the_file_and_what_was_asked(first: int, last: int,
                                                              size: int) -> None:
    span = byte_range(f"bytes={first}-{last}".encode(), size)
    if first >= size:
        assert span == "unsatisfiable"
    elif last < first:
        assert span is None
    else:
        assert span == (first, min(last + 1, size))
