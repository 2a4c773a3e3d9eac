"""Small pure pieces of the server, tested directly (no I/O involved)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chatproto import PresenceState, participant_pages
from chatproto.limits import MAX_PARTICIPANTS
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


def test_participants_are_paged_to_fit_any_frame_limit() -> None:
    # Issue 11: a long list is never a reason to refuse a login; it is paged.
    people = Participants()
    assert people.activate("frog") == (PresenceState.JOINED, [])
    people.deactivate("frog")
    assert len(people) == 1 and people.is_deactivated("frog")
    assert people.activate("frog") == (PresenceState.REJOINED, [])
    for i in range(3000):
        people.activate(f"user{i:04d}_{'x' * 22}")
    pages = people.pages(65_600)
    assert len(pages) > 1
    assert tuple(p for page in pages for p in page) == people.snapshot()
    assert people.pages(65_600) is pages  # kept until the list changes
    people.activate("late")  # an arrival: added to the pages kept
    assert people.pages(65_600) is not pages
    assert people.pages(65_600) == participant_pages(people.snapshot(), 65_600)
    people.deactivate("user0005_" + "x" * 22)  # a change in place: cut anew
    people.remove("frog")
    assert people.pages(65_600) == participant_pages(people.snapshot(), 65_600)
    assert count_phrase(1) == "(1 participant)" and count_phrase(3) == "(3 participants)"


def test_the_longest_deactivated_leave_past_the_cap() -> None:
    people = Participants(max_deactivated=2)
    for name in ("a", "b", "c", "d"):
        people.activate(name)
    assert people.deactivate("b") == [] and people.deactivate("a") == []
    people.activate("b")  # rejoined: no longer counts against the cap
    assert people.deactivate("c") == []
    assert people.deactivate("d") == ["a"]  # deactivated longest
    assert "a" not in people and len(people) == 3 and people.deactivated_count == 2


def test_the_list_never_outgrows_the_protocol() -> None:
    people = Participants(max_deactivated=None)
    for i in range(MAX_PARTICIPANTS):
        people.activate(f"u{i}")
    assert people.full  # every one of them active: the hub refuses with server-full
    people.deactivate("u0")
    people.deactivate("u1")
    assert not people.full  # a deactivated user can make room
    assert people.activate("newcomer") == (PresenceState.JOINED, ["u0"])
    assert len(people) == MAX_PARTICIPANTS
    people.activate("u1")
    assert people.full


@settings(max_examples=60, deadline=None)
@given(changes=st.lists(st.tuples(st.sampled_from(["activate", "deactivate", "remove"]),
                                  st.integers(0, 40)), max_size=120),
       limit=st.sampled_from([256, 1024, 65_600]))
def test_the_pages_kept_are_always_the_list_cut_anew(
    changes: list[tuple[str, int]], limit: int
) -> None:
    """Arrivals are added to the pages kept, other changes cut them anew: either
    way a login gets exactly the pages of the list as it is."""
    people = Participants(max_deactivated=10)
    for change, number in changes:
        name = f"user{number:02d}_" + "x" * (number % 23)
        if change == "activate":
            people.activate(name)
        elif name in people:
            getattr(people, change)(name)
        assert people.pages(limit) == participant_pages(people.snapshot(), limit)
