"""Small pure pieces of the server, tested directly (no I/O involved)."""

from __future__ import annotations

from chatserver.accounts import FailureLimiter, hash_password, verify_password
from chatserver.flood import TokenBucket
from chatserver.presence import Participants, count_phrase


def test_password_hashes_are_salted_and_verified() -> None:
    first, second = hash_password("pw", n=2**10), hash_password("pw", n=2**10)
    assert first != second
    assert verify_password("pw", first) and verify_password("pw", second)
    assert not verify_password("pW", first)
    assert not verify_password("pw", "garbage") and not verify_password("pw", "md5$x$y$z$00$00")


def test_failure_limiter_window() -> None:
    limiter = FailureLimiter(limit=2, window=10.0)
    limiter.record("frog", now=0.0)
    assert not limiter.blocked("frog", now=1.0)
    limiter.record("frog", now=1.0)
    assert limiter.blocked("frog", now=2.0)
    assert not limiter.blocked("frog", now=11.5)  # the first failure aged out
    assert not limiter.blocked("toad", now=2.0)


def test_token_bucket() -> None:
    bucket = TokenBucket(rate=2.0, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.5) and not bucket.take(0.5)  # one token back after 0.5 s
    assert TokenBucket(rate=0, burst=1, now=0.0).take(0.0)  # 0: no limit


def test_participants_and_what_fits_a_frame() -> None:
    people = Participants()
    assert people.activate("frog").value == "joined"
    people.deactivate("frog")
    assert len(people) == 1 and people.is_deactivated("frog")
    assert people.activate("frog").value == "rejoined"
    for i in range(100):
        people.activate(f"user{i:04d}")
    assert people.fits("late", frame_limit=65_600)
    assert not people.fits("late", frame_limit=1_000)
    assert count_phrase(1) == "(1 participant)" and count_phrase(3) == "(3 participants)"
