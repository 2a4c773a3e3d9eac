"""Send timestamps: how a delivery carries its send time, and how reads are
cut into the digits of their deliveries' send times (in C, see ``Run``)."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable

TEXT_BYTES = 100
#: The text starts with the send time, ``time.time_ns()`` in 20 digits.
STAMP_BYTES = 20
#: The receivers keep only its last 12 digits (the time modulo 1,000 s): with
#: the arrival time they give the exact latency of any delivery that took
#: less than 500 s (see ``latencies_ns``), at 12 bytes per delivery.
KEPT_DIGITS = 12
MODULUS = 10**KEPT_DIGITS
KEPT_FROM = STAMP_BYTES - KEPT_DIGITS
#: Where the kept digits start, counted back from the end of a text.
KEPT_FROM_END = TEXT_BYTES - KEPT_FROM
#: The kept send-time digits of the chat messages of one read: either rows
#: (``bytes``, ``KEPT_DIGITS`` per message) or columns (``KEPT_DIGITS`` byte
#: strings of equal length, the ``j``-th holding digit ``j`` of every
#: message: what strided slices of a read give).
Stamps = bytes | tuple[bytes, ...]


#: A function of a read that returns a tuple of strided slices of it.
Slicer = Callable[[bytes], Stamps]
#: Per count of deliveries: the slicer of the marks, what it must return, the
#: slicer of the stamps.
_Slicers = tuple[Slicer, Stamps, Slicer]


def _strided(offsets: range | list[int], stop: int, stride: int) -> Slicer:
    """One call, all in C, that slices ``data[offset:stop:stride]`` for each offset."""
    return operator.itemgetter(*[slice(offset, stop, stride) for offset in offsets])


def joined(stamps: list[bytes]) -> list[Stamps]:
    """Kept digits sliced one stamp at a time, as the ``Stamps`` of one read."""
    return [b"".join(stamps)] if stamps else []


def stamp_count(piece: Stamps) -> int:
    return len(piece) // KEPT_DIGITS if type(piece) is bytes else len(piece[0])


class Run:
    """Recognises, in C, a read that starts with deliveries of one shape.

    A shape is a length ``size``, the bytes every delivery has at fixed
    places (``marks``: offset and value) and where its send time starts
    (``stamp_at``). ``take`` checks each mark of every delivery with one
    strided slice per mark and cuts the kept digits out the same way: a
    dozen slices per read however many deliveries it holds; it declines
    fewer than ``least`` deliveries, which the caller parses more cheaply
    its own way. The slicers for each possible count are made once and
    shared by every client of the shape (``Run.of``).
    """

    def __init__(
        self, size: int, marks: tuple[tuple[int, int], ...], stamp_at: int, least: int
    ) -> None:
        self.size = size
        self.marks = marks
        self.stamp_at = stamp_at + KEPT_FROM
        self.least = least
        self.least_bytes = least * size
        self._slicers: dict[int, _Slicers] = {}  # by count, for runs from the start

    @staticmethod
    @functools.cache
    def of(size: int, marks: tuple[tuple[int, int], ...], stamp_at: int, least: int) -> Run:
        return Run(size, marks, stamp_at, least)

    def _make(self, pos: int, count: int) -> _Slicers:
        stop = pos + count * self.size
        offsets = [pos + offset for offset, _ in self.marks]
        expected = tuple(bytes([value]) * count for _, value in self.marks)
        first = pos + self.stamp_at
        # One delivery (a paced run's usual read): its digits as one row.
        if count == 1:
            stamps = operator.itemgetter(slice(first, first + KEPT_DIGITS))
        else:
            stamps = _strided(range(first, first + KEPT_DIGITS), stop, self.size)
        return _strided(offsets, stop, self.size), expected, stamps

    def take(self, data: bytes, pos: int = 0) -> tuple[Stamps, int] | None:
        """The stamps of the deliveries ``data[pos:]`` starts with and where
        they end, if every whole delivery up to its end has the shape (None if not).

        Delivery ``i`` starts at ``pos + i * size`` if each before it had the
        length ``size``; for frames, whose header gives the length, checking
        the header of every one proves that by induction.
        """
        count = (len(data) - pos) // self.size
        if count < self.least:
            return None
        slicers = None if pos else self._slicers.get(count)
        if slicers is None:
            slicers = self._make(pos, count)
            if not pos:  # runs after a ping start anywhere: too many to keep
                self._slicers[count] = slicers
        marks, expected, stamps = slicers
        if marks(data) != expected:
            return None
        return stamps(data), pos + count * self.size


def latencies_ns(arrived: int, piece: Stamps) -> list[int]:
    """``arrived`` minus the send time of each message of ``piece``.

    Exact for any latency from -500 s to +500 s: the digits dropped from
    the send time are a multiple of 10**12 ns, which the modulo cancels.
    """
    half = MODULUS // 2
    base = arrived + half
    if type(piece) is bytes:
        sent = [int(piece[i : i + KEPT_DIGITS]) for i in range(0, len(piece), KEPT_DIGITS)]
    else:
        sent = [int(bytes(digits)) for digits in zip(*piece, strict=True)]
    return [(base - value) % MODULUS - half for value in sent]
